package pdfstamp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/pdfstamp"
	"github.com/coffer-vault/coffer/watermark"
)

func stamp(t testing.TB, in []byte) *pdfstamp.Result {
	t.Helper()
	res, err := pdfstamp.Stamp(context.Background(), in, spec(), pdfstamp.Options{Renderer: renderer(t)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestStampsEveryPage stamps the corpus PDFs and reads the result back
// with pdfcpu: same page count, pages checked. HOME points at an empty
// folder so that a config directory written by pdfcpu would be seen.
func TestStampsEveryPage(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	renderer(t) // before the check of home: PDFium writes nothing there either
	stamped := map[string][2][]byte{}
	for _, name := range []string{"asy-latex.pdf", "reportlab-userguide.pdf"} {
		in, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "pdf", name))
		if err != nil {
			t.Fatal(err)
		}
		res := stamp(t, in)
		if len(res.Checked) == 0 || res.Checked[0] != 1 || res.Checked[len(res.Checked)-1] != res.Pages {
			t.Errorf("%s: checked pages %v of %d; the first and last must be among them", name, res.Checked, res.Pages)
		}
		stamped[name] = [2][]byte{in, res.PDF}
	}
	// Checked before this test makes a pdfcpu configuration of its own.
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Errorf("pdfcpu wrote to the home folder: %v", entries)
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	for name, io := range stamped {
		want, err := api.PageCount(bytes.NewReader(io[0]), conf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := api.PageCount(bytes.NewReader(io[1]), conf)
		if err != nil || got != want {
			t.Errorf("%s: %d pages after stamping, %d before (%v)", name, got, want, err)
		}
	}
}

func TestRefusesBadInput(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := pdfstamp.Options{Renderer: renderer(t)}
	for name, data := range map[string][]byte{
		"truncated": in[:len(in)/3],
		"text":      []byte("%PDF-1.7 but not really\n"),
		"empty":     nil,
		"png":       []byte("\x89PNG\r\n\x1a\n"),
	} {
		if _, err := pdfstamp.Stamp(ctx, data, spec(), opts); !errors.Is(err, pdfstamp.ErrNotPDF) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := pdfstamp.Stamp(ctx, in, watermark.Spec{Name: "x"}, opts); err == nil {
		t.Error("stamped without a trace code")
	}
	if _, err := pdfstamp.Stamp(ctx, in, spec(), pdfstamp.Options{}); err == nil {
		t.Error("stamped without a renderer to check the stamp")
	}
}

// TestStampShowsOnEveryLayout stamps each generated layout, which Stamp
// checks by rendering, and checks again here another way: the stamped
// page, rendered by PDFium as a viewer shows it (annotations included),
// has many more pixels of the stamp's red than the page had, spread over
// most of the page's width and within its edges; and the page's size as
// shown is unchanged. COFFER_STAMP_PNG=DIR writes the renders to DIR.
func TestStampShowsOnEveryLayout(t *testing.T) {
	out := os.Getenv("COFFER_STAMP_PNG")
	for _, l := range layouts() {
		t.Run(l.name, func(t *testing.T) {
			res := stamp(t, l.pdf)
			if len(res.Checked) != res.Pages {
				t.Fatalf("%d pages, checked %v", res.Pages, res.Checked)
			}
			for page := range res.Pages {
				before, after := render(t, l.pdf, page, 500), render(t, res.PDF, page, 500)
				if before.Rect != after.Rect {
					t.Fatalf("page %d shows as %v after stamping, %v before", page+1, after.Rect, before.Rect)
				}
				if out != "" {
					writePNG(t, filepath.Join(out, fmt.Sprintf("pdfium-%s-%d.png", fileName(l.name), page+1)), after)
				}
				red0, _ := stampRed(before)
				red, where := stampRed(after)
				area := after.Rect.Dx() * after.Rect.Dy()
				if red-red0 < area/1000 {
					t.Errorf("page %d: %d stamp-red pixels on the stamped page, %d before, of %d", page+1, red, red0, area)
				}
				if w := after.Rect.Dx(); where.Dx() < w/2 && where.Dy() < after.Rect.Dy()/2 {
					t.Errorf("page %d: the stamp spans only %v of a %v page", page+1, where, after.Rect)
				}
				if inner := after.Rect.Inset(1); !where.In(inner) {
					t.Errorf("page %d: the stamp (%v) reaches the edge of the page (%v): it is cut off", page+1, where, after.Rect)
				}
			}
		})
	}
}

func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
