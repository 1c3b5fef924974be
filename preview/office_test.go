package preview_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer-vault/coffer/internal/testdocs"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/office"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// TestKinds: names and media types pick the renderer.
func TestKinds(t *testing.T) {
	for _, c := range []struct {
		mt, name string
		want     preview.Kind
	}{
		{"", "Term sheet.DOCX", preview.Office},
		{"", "memo.doc", preview.Office},
		{"", "notes.odt", preview.Office},
		{"text/rtf", "letter.rtf", preview.Office},
		{"", "deck.pptx", preview.Office},
		{"", "deck.ppt", preview.Office},
		{"", "deck.odp", preview.Office},
		{"", "old.xls", preview.Office},
		{"", "sheet.ods", preview.Office},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "no extension", preview.Office},
		{"", "model.xlsx", preview.Spreadsheet},
		{"", "README.md", preview.Markdown},
		{"text/markdown; charset=utf-8", "notes", preview.Markdown},
		{"text/plain", "notes.txt", preview.Text},
		{"", "a.pdf", preview.PDF},
	} {
		if got := preview.KindOf(c.mt, c.name); got != c.want {
			t.Errorf("KindOf(%q, %q) = %d, want %d", c.mt, c.name, got, c.want)
		}
	}
}

// TestOfficePages opens a Word document and a PowerPoint deck through
// LibreOffice and PDFium: the pages are LibreOffice's own, as poppler
// draws its PDF (the dark pixels of its words match within a pixel, both
// ways), with each
// page's marker where that PDF puts it. Without a converter Office files
// are unsupported, not misread.
func TestOfficePages(t *testing.T) {
	ctx := context.Background()
	testdocs.Soffice(t)
	conv, err := office.New(office.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conv.Close()
	r, err := pdf.NewRenderer(ctx, pdf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		name, ext, marker string
		data              []byte
	}{
		{"terms.docx", ".docx", "PVDOCX", testdocs.Text(t, ".docx", 2, "PVDOCX")},
		{"deck.pptx", ".pptx", "PVPPTX", testdocs.Slides(t, ".pptx", 2, "PVPPTX")},
	} {
		if _, err := preview.Open(ctx, c.data, "", c.name, preview.Options{PDF: r}); !errors.Is(err, preview.ErrUnsupported) {
			t.Errorf("%s without a converter: %v", c.name, err)
		}
		d, err := preview.Open(ctx, c.data, "", c.name, preview.Options{PDF: r, Office: conv})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Pages() != 2 {
			t.Errorf("%s: %d pages", c.name, d.Pages())
		}
		img, err := d.Render(ctx, 1, 72)
		if err != nil {
			t.Fatal(err)
		}
		want, words := testdocs.Reference(t, c.data, c.ext, 2)
		boxes := testdocs.Boxes(words, testdocs.Marker(c.marker, 2))
		recall, precision := testdocs.CompareInk(img, want, words)
		t.Logf("%s: %.3f of the reference's ink found, %.3f of the page's in the reference", c.name, recall, precision)
		if recall < 0.95 || precision < 0.95 {
			t.Errorf("%s: page 2 differs from LibreOffice's PDF drawn by poppler: %.3f, %.3f", c.name, recall, precision)
		}
		if len(boxes) != 1 || testdocs.InkIn(img, boxes[0]) < boxes[0].Dx()*boxes[0].Dy()/10 {
			t.Errorf("%s: the marker of page 2 is not inked where the PDF puts it (%v)", c.name, boxes)
		}
	}
}
