package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/rawpdf"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// hiddenLayerPDF is a one-page PDF whose only optional-content group is
// off by default: pdfcpu used to put the stamp in that group.
func hiddenLayerPDF() []byte {
	var d rawpdf.Doc
	oc := d.Add("<< /Type /OCG /Name (Draft) >>")
	ref := rawpdf.Ref(oc)
	root := d.Pages(fmt.Sprintf("/OCProperties << /OCGs [%s] /D << /OFF [%s] /Order [%s] >> >>", ref, ref, ref),
		rawpdf.Page{MediaBox: [4]float64{0, 0, 612, 792}, Resources: fmt.Sprintf("<< /Properties << /L1 %s >> >>", ref),
			Content: []byte("0 0 1 rg 100 100 200 200 re f /OC /L1 BDC 1 0 0 rg 300 300 100 100 re f EMC")})
	return d.Bytes(root)
}

// clippedPDF is a one-page PDF whose content pops more graphics states
// than it pushes and leaves a tiny clip: whatever is drawn after it,
// a stamp included, is clipped away.
func clippedPDF() []byte {
	var d rawpdf.Doc
	return d.Bytes(d.Pages("", rawpdf.Page{MediaBox: [4]float64{0, 0, 612, 792}, Content: []byte("0 0 1 rg 100 100 200 200 re f Q Q 0 0 1 1 re W n")}))
}

// stampRed counts pixels of the stamp's colour on page 1 of the PDF at
// path, rendered by PDFium (with the compilation cache the App uses).
func stampRed(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := os.UserCacheDir()
	r, err := pdf.NewRenderer(context.Background(), pdf.Options{CacheDir: filepath.Join(cache, "coffer", "pdfium")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	doc, err := r.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	img, err := doc.Render(context.Background(), 0, 72)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if r, g, b := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2]); r-g >= 20 && r-b >= 20 {
			n++
		}
	}
	return n
}

// exports returns the export, print and open-external records of the
// audit trail as "action outcome file".
func exports(t *testing.T, a *app.App) []string {
	t.Helper()
	log, err := a.AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log.Events {
		switch e.Action {
		case audit.Action(policy.Export), audit.Action(policy.Print), audit.Action(policy.OpenExternal):
			got = append(got, fmt.Sprintf("%s %s %s", e.Action, e.Outcome, e.FileName))
		}
	}
	return got
}

// TestExportStampShowsOverHiddenLayer exports an internal PDF whose
// optional content is off by default: the copy shows the stamp.
func TestExportStampShowsOverHiddenLayer(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Desk", "layers.pdf", bytes.NewReader(hiddenLayerPDF()), nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "layers.pdf")
	res, err := a.Export(ctx, "Desk", "layers.pdf", out, app.ExportOptions{})
	if err != nil || !res.Stamped {
		t.Fatalf("export: %+v, %v", res, err)
	}
	if red := stampRed(t, out); red < 300 {
		t.Errorf("the exported copy shows %d stamp-red pixels; the stamp is not visible", red)
	}
}

// TestExportRefusesStampThatCannotShow: a PDF that clips the stamp away is
// not exported, nothing is left at the destination, and the refusal is on
// record.
func TestExportRefusesStampThatCannotShow(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Desk", "clipped.pdf", bytes.NewReader(clippedPDF()), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "clipped.pdf")
	_, err := a.Export(ctx, "Desk", "clipped.pdf", out, app.ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "not exported") || !strings.Contains(err.Error(), "did not show") {
		t.Fatalf("export of a PDF that hides the stamp: %v", err)
	}
	if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("something was left at %s: %v", out, serr)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left in the destination folder: %v", left)
	}
	if got := exports(t, a); fmt.Sprint(got) != "[export failed clipped.pdf]" {
		t.Errorf("audit: %v", got)
	}
}
