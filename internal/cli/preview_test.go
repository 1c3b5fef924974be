package cli_test

import (
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/coffer-vault/coffer/internal/testdocs"
	"github.com/coffer-vault/coffer/internal/testenv"
)

// TestPreviewEveryKind: `coffer preview` writes a watermarked page of a
// document of every kind Coffer previews (Word, PowerPoint, OpenDocument,
// a workbook, Markdown, CSV, PDF, an image), refuses a no-export class
// with exit 3, and names a password-protected document as such.
func TestPreviewEveryKind(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	corpus := testenv.Corpus(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	locked, err := excelize.Encrypt(testdocs.Text(t, ".docx", 1, "CLILOCK"), &excelize.Options{Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]int{ // name → pages
		write("terms.docx", testdocs.Text(t, ".docx", 2, "CLIDOCX")):  2,
		write("deck.pptx", testdocs.Slides(t, ".pptx", 2, "CLIPPTX")): 2,
		write("notes.odt", testdocs.Text(t, ".odt", 2, "CLIODT")):     2,
		filepath.Join(corpus, "xlsx", "deaths.xlsx"):                  0,
		filepath.Join(corpus, "text", "glib-README.md"):               0,
		filepath.Join(corpus, "text", "debian-releases.csv"):          0,
		filepath.Join(corpus, "pdf", "asy-latex.pdf"):                 11,
		filepath.Join(corpus, "img", "debian-logo-256.png"):           1,
	}
	args := []string{"import", "--vault", dir, "--folder", "Public"}
	for f := range files {
		args = append(args, f)
	}
	ok(t, append(args, write("locked.docx", locked))...)
	ok(t, "import", "--vault", dir, "--folder", "Confidential", filepath.Join(src, "terms.docx"))

	for f, pages := range files {
		name := filepath.Base(f)
		out := filepath.Join(t.TempDir(), "page.png")
		stdout := ok(t, "preview", "--vault", dir, "Public/"+name, "--dpi", "50", "--out", out)
		if pages > 0 && !strings.Contains(stdout, "of "+strconv.Itoa(pages)+" of") {
			t.Errorf("%s: %q, want %d pages", name, stdout, pages)
		}
		fh, err := os.Open(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
			t.Errorf("%s: a page of %v", name, b)
		}
	}
	out := filepath.Join(t.TempDir(), "page.png")
	expect(t, 3, "preview", "--vault", dir, "Confidential/terms.docx", "--out", out)
	r := expect(t, 1, "preview", "--vault", dir, "Public/locked.docx", "--out", out)
	if !strings.Contains(r.stderr, "password-protected") {
		t.Errorf("a password-protected document: %s", r.stderr)
	}
}
