package pdfstamp_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/coffer-vault/coffer/internal/rawpdf"
	"github.com/coffer-vault/coffer/pdfstamp"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// names are users' names in the scripts the stamp fonts cover.
var names = []string{"陈美玲", "Łucja Wąs-Øster", "Νίκος Παπαδόπουλος", "Дмитрий Шостакович", "محمد الأحمد", "דוד בן-גוריון", "山田 はなこ", "Nguyễn Văn Đức", "김민준", "Łucja 김"}

// TestStampNamesInEveryScript stamps a page for users named in every
// script: Stamp's render check passes, the page shows the stamp's red,
// and the text poppler extracts from the copy holds the name as written
// (for Arabic, its joined presentation forms, which NFKC folds back).
// COFFER_STAMP_PNG=DIR writes the renders to DIR.
func TestStampNamesInEveryScript(t *testing.T) {
	page := onePage(rawpdf.Page{MediaBox: letter}, "", nil)
	out := os.Getenv("COFFER_STAMP_PNG")
	_, noPoppler := exec.LookPath("pdftotext")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s := spec()
			s.Name = name
			res, err := pdfstamp.Stamp(context.Background(), page, s, pdfstamp.Options{Renderer: renderer(t)})
			if err != nil {
				t.Fatal(err)
			}
			img := render(t, res.PDF, 0, 500)
			if out != "" {
				writePNG(t, filepath.Join(out, "name-"+fileName(s.Email+"-"+name)+".png"), img)
				os.WriteFile(filepath.Join(out, "name-"+name+".pdf"), res.PDF, 0o644)
			}
			if red, _ := stampRed(img); red < 200 {
				t.Errorf("%d stamp-red pixels", red)
			}
			if noPoppler != nil {
				t.Skip("pdftotext not installed (poppler-utils, make test-deps): text not checked")
			}
			// pdftotext puts spaces in rotated text and writes right-to-left
			// text in visual order: compare without spaces, both ways.
			text := extractText(t, res.PDF)
			want := norm.NFKC.String(strings.ReplaceAll(name, " ", ""))
			if !strings.Contains(norm.NFKC.String(text), want) && !strings.Contains(norm.NFKC.String(reverse(text)), want) {
				t.Errorf("the copy's text %q does not hold %q", text, name)
			}
			if !strings.Contains(text, "K7Q4M-ZP2XA") {
				t.Errorf("the copy's text %q does not hold the trace code", text)
			}
		})
	}
	// A stamp is set in one font: Korean's has no Arabic.
	s := spec()
	s.Name = "김 محمد"
	if _, err := pdfstamp.Stamp(context.Background(), page, s, pdfstamp.Options{Renderer: renderer(t)}); !errors.Is(err, pdfstamp.ErrNoGlyph) || !strings.Contains(err.Error(), "U+06") {
		t.Errorf("a name in Korean and Arabic: %v, want ErrNoGlyph naming an Arabic letter", err)
	}
}

// extractText returns the text of page 1 of pdf by poppler's pdftotext,
// without white space or bidi embedding controls.
func extractText(t *testing.T, pdf []byte) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r >= 0x202a && r <= 0x202e {
			return -1
		}
		return r
	}, string(got))
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// TestStampIsOneLine: pdfcpu breaks a watermark's line at a newline and
// at a backslash followed by n; a name holding either (a user chose it)
// must not give the stamp another shape. The stamp's form draws its one
// line twice (outline, then fill): two text-showing operators, the name
// with its backslashes shown as slashes.
func TestStampIsOneLine(t *testing.T) {
	page := onePage(rawpdf.Page{MediaBox: letter}, "", nil)
	s := spec()
	s.Name, s.Device = `Ann\nTrader\nof\nmany\nlines`, "vm\nbox"
	res, err := pdfstamp.Stamp(context.Background(), page, s, pdfstamp.Options{Renderer: renderer(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := api.ReadContext(bytes.NewReader(res.PDF), nil)
	if err != nil {
		t.Fatal(err)
	}
	forms := 0
	for _, e := range ctx.Table {
		sd, ok := e.Object.(types.StreamDict)
		if !ok || sd.Decode() != nil || !bytes.Contains(sd.Content, []byte(" Tr ")) {
			continue
		}
		forms++
		if n := bytes.Count(sd.Content, []byte(" Tj")); n != 2 {
			t.Errorf("the stamp's form shows text %d times, want 2 (one line, outline and fill):\n%s", n, sd.Content)
		}
	}
	if forms == 0 {
		t.Fatal("no stamp form found")
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		if text := extractText(t, res.PDF); !strings.Contains(text, "Ann/nTrader/nof/nmany/nlines") {
			t.Errorf("the copy's text %q does not hold the name on one line", text)
		}
	}
}
