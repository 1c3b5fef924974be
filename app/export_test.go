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
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/rawpdf"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/coffer-vault/coffer/vault"
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

// stripPDF is a one-page PDF whose page is 2000 points wide and 2 high.
func stripPDF() []byte {
	var d rawpdf.Doc
	return d.Bytes(d.Pages("", rawpdf.Page{MediaBox: [4]float64{0, 0, 2000, 2}, Content: []byte("0 0 1 rg 0 0 100 2 re f")}))
}

// testRenderer is one PDFium renderer for the test binary's checks
// (compiled in memory once).
var testRenderer = sync.OnceValues(func() (*pdf.Renderer, error) {
	return pdf.NewRenderer(context.Background(), pdf.Options{})
})

// stampRed counts pixels of the stamp's colour on page 1 of the PDF at
// path, rendered by PDFium.
func stampRed(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := testRenderer()
	if err != nil {
		t.Fatal(err)
	}
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

// TestExportRefusesStampThatCannotShow: a PDF whose page is a strip too
// thin for a stamp to be seen is not exported, nothing is left at the
// destination, and the refusal is on record. (What a page's content does
// no longer hides the stamp: see package pdfstamp.)
func TestExportRefusesStampThatCannotShow(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Desk", "strip.pdf", bytes.NewReader(stripPDF()), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "strip.pdf")
	_, err := a.Export(ctx, "Desk", "strip.pdf", out, app.ExportOptions{})
	if !errors.Is(err, app.ErrBlocked) || !strings.Contains(err.Error(), "did not show the stamp") {
		t.Fatalf("export of a PDF that hides the stamp: %v", err)
	}
	if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("something was left at %s: %v", out, serr)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left in the destination folder: %v", left)
	}
	if got := exports(t, a); fmt.Sprint(got) != "[export blocked strip.pdf]" {
		t.Errorf("audit: %v", got)
	}
}

// encryptedPDF is a PDF that opens only with a password.
func encryptedPDF(t *testing.T) []byte {
	t.Helper()
	api.DisableConfigDir()
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(hiddenLayerPDF()), &out, model.NewAESConfiguration("secret", "owner", 256)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestStampDecidedByTheVersionsBytes exports documents of an internal
// folder whose names, media types and other versions say one thing and
// whose bytes say another: whether a copy is stamped follows the bytes of
// the version exported, and a PDF that cannot be stamped does not leave.
func TestStampDecidedByTheVersionsBytes(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	pdf := hiddenLayerPDF()
	text := []byte("Desk notes, not a PDF.\n")
	put := func(name string, data []byte) {
		t.Helper()
		if _, err := a.Import(ctx, "Desk", name, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
	}
	put("report.pdf", pdf)  // version 1: a PDF
	put("report.pdf", text) // version 2: text, under the same name
	put("notes.txt", pdf)
	put("scan", append(bytes.Repeat([]byte("#"), 900), pdf...))
	put("text.pdf", text)
	put("late.txt", append(bytes.Repeat([]byte("#"), 2000), pdf...))
	put("locked.pdf", encryptedPDF(t))
	put("broken.pdf", []byte("%PDF-1.7\nthis is no PDF at all\n%%EOF\n"))

	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		version int
		stamped bool   // else: the very bytes of the version
		refused string // part of the refusal, "" if exported
	}{
		{"report.pdf", 1, true, ""},
		{"report.pdf", 0, false, ""},
		{"notes.txt", 0, true, ""},
		{"scan", 0, true, ""},
		{"text.pdf", 0, false, ""},
		{"late.txt", 0, false, "without a %PDF- header"},
		{"locked.pdf", 0, false, "password-protected"},
		{"broken.pdf", 0, false, "cannot be read as a PDF"},
	} {
		out := filepath.Join(dir, fmt.Sprintf("%s-v%d", c.name, c.version))
		res, err := a.Export(ctx, "Desk", c.name, out, app.ExportOptions{Version: c.version})
		if c.refused != "" {
			if !errors.Is(err, app.ErrBlocked) || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), "stamp") {
				t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.refused)
			}
			if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("%s: refused, yet something is at %s", c.name, out)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s version %d: %v", c.name, c.version, err)
			continue
		}
		got, _ := os.ReadFile(out)
		switch {
		case c.stamped && (!res.Stamped || !bytes.HasPrefix(got, []byte("%PDF-"))):
			t.Errorf("%s version %d: not stamped (%+v)", c.name, c.version, res)
		case c.stamped && stampRed(t, out) < 300:
			t.Errorf("%s version %d: the stamp does not show", c.name, c.version)
		case !c.stamped && (res.Stamped || !bytes.Equal(got, text)):
			t.Errorf("%s version %d: %q, stamped %v; want the version's own bytes", c.name, c.version, got, res.Stamped)
		}
	}
	want := "[export ok report.pdf export ok report.pdf export ok notes.txt export ok scan export ok text.pdf " +
		"export blocked late.txt export blocked locked.pdf export blocked broken.pdf]"
	if got := fmt.Sprint(exports(t, a)); got != want {
		t.Errorf("audit:\n %s\nwant\n %s", got, want)
	}

	// The copies for other applications follow the same rule.
	c, err := a.OpenCopy(ctx, policy.Print, "Desk", "notes.txt", launched)
	if err != nil || !c.Stamped || stampRed(t, c.Path) < 300 {
		t.Errorf("print copy of a PDF named .txt: %+v, %v", c, err)
	}
	if _, err := a.OpenCopy(ctx, policy.OpenExternal, "Desk", "late.txt", launched); !errors.Is(err, app.ErrBlocked) {
		t.Errorf("open copy of a headerless PDF: %v", err)
	}
}

// TestCopyTextRefusesPDFBytes: a PDF under a text name is not text, and
// its bytes do not reach the clipboard.
func TestCopyTextRefusesPDFBytes(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	// All ASCII, so valid UTF-8: only its bytes' kind gives it away.
	ascii := bytes.Replace(hiddenLayerPDF(), []byte("%\xe2\xe3\xcf\xd3\n"), nil, 1)
	if _, err := a.Import(ctx, "Desk", "memo.txt", bytes.NewReader(ascii), nil); err != nil {
		t.Fatal(err)
	}
	got, err := a.CopyText(ctx, "Desk", "memo.txt")
	if !errors.Is(err, app.ErrBlocked) || got != "" || !strings.Contains(err.Error(), "PDF") {
		t.Fatalf("copy text of a PDF named .txt: %q, %v", got, err)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocked := 0
	for _, e := range log.Events {
		if e.Action == audit.Action(policy.Copy) && e.Outcome == audit.Blocked && e.FileName == "memo.txt" {
			blocked++
		}
	}
	if blocked != 1 {
		t.Errorf("%d blocked copies of memo.txt on record, want 1", blocked)
	}
}

// TestNamesInOtherScripts: a user named in Chinese sees previews
// watermarked with the name, one named in Arabic exports stamped copies;
// a name the watermark fonts cannot draw is refused when the vault is
// made, saying which letter. A Korean name is drawn on screen and in the
// stamp; one mixing Hangul and Arabic is drawn on screen, but a stamp is
// set in one font and Korean's has no Arabic, so that export is refused.
func TestNamesInOtherScripts(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, fails, exportFails string }{
		{"陈美玲", "", ""},
		{"محمد الأحمد", "", ""},
		{"김민준", "", ""},
		{"김 محمد", "", "U+06"},
		{"Ann 😀", "U+1F600", "U+1F600"},
	} {
		dir := filepath.Join(t.TempDir(), "vault")
		a, err := app.Init(ctx, dir, vault.Identity{Email: "user@example.com", Name: c.name}, pass)
		if c.fails != "" {
			if err == nil || !strings.Contains(err.Error(), c.fails) {
				t.Errorf("%s: init %v, want a refusal naming %s", c.name, err, c.fails)
			}
			if err == nil {
				a.Close()
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, "Desk", "notes.txt", strings.NewReader("positions\n"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, "Desk", "report.pdf", bytes.NewReader(hiddenLayerPDF()), nil); err != nil {
			t.Fatal(err)
		}
		_, perr := a.Preview(ctx, "Desk", "notes.txt", app.PreviewOptions{DPI: 50})
		out := filepath.Join(t.TempDir(), "report.pdf")
		_, eerr := a.Export(ctx, "Desk", "report.pdf", out, app.ExportOptions{})
		if c.fails == "" && perr != nil {
			t.Errorf("%s: preview %v", c.name, perr)
		}
		if c.exportFails == "" {
			if eerr != nil {
				t.Errorf("%s: export %v", c.name, eerr)
			} else if stampRed(t, out) < 300 {
				t.Errorf("%s: the export's stamp does not show", c.name)
			}
			continue
		}
		for what, want := range map[string]struct {
			err  error
			name string
		}{"preview": {perr, c.fails}, "export": {eerr, c.exportFails}} {
			if want.name != "" && (want.err == nil || !strings.Contains(want.err.Error(), want.name)) {
				t.Errorf("%s: %s: %v, want a refusal naming %s", c.name, what, want.err, want.name)
			}
		}
		if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
			t.Errorf("%s: an unstamped copy was left at %s", c.name, out)
		}
	}
}

// TestExportNotIntoTheVault: an export (internal: allowed) into the vault's
// own folder, or a link to it, is refused: a plaintext copy among the
// encrypted files, which 'coffer check' did not report.
func TestExportNotIntoTheVault(t *testing.T) {
	ctx := context.Background()
	a, dir := newApp(t)
	if _, err := a.CreateFolder(ctx, "Memos", policy.Internal); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Memos", "memo.txt", strings.NewReader("lunch at noon"), nil); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "to-the-vault")
	if err := os.Symlink(filepath.Join(dir, "objects"), link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(dir, "objects", "leak.txt"), filepath.Join(dir, "leak.txt"), filepath.Join(link, "leak.txt")} {
		if _, err := a.Export(ctx, "Memos", "memo.txt", out, app.ExportOptions{}); !errors.Is(err, app.ErrInVault) {
			t.Errorf("export to %s: %v", out, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s written: %v", out, err)
		}
	}
	out := filepath.Join(t.TempDir(), "memo.txt")
	if _, err := a.Export(ctx, "Memos", "memo.txt", out, app.ExportOptions{}); err != nil {
		t.Fatalf("an export outside the vault: %v", err)
	}
}
