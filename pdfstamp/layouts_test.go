package pdfstamp_test

import (
	"fmt"
	"strings"

	"github.com/coffer-vault/coffer/internal/rawpdf"
)

// layout is a generated one-page document that has hidden or misplaced
// stamps in the past, or could.
type layout struct {
	name string
	pdf  []byte
}

func box(llx, lly, urx, ury float64) *[4]float64 { return &[4]float64{llx, lly, urx, ury} }

// layouts returns the documents every stamp must show on: optional
// content off by default, every rotation, crop boxes offset from the media
// box, negative origins, tiny and huge pages, and pages covered by an
// opaque annotation or image.
func layouts() []layout {
	var ls []layout
	add := func(name string, pdf []byte) { ls = append(ls, layout{name, pdf}) }

	add("plain letter", onePage(rawpdf.Page{MediaBox: letter}, "", nil))

	// Optional content off by default, with some of the page's own content
	// in it: pdfcpu used to put the stamp in the document's first group.
	for _, cfg := range []string{"/OFF [%[1]s] /Order [%[1]s]", "/BaseState /OFF /Order [%[1]s]", "/OFF [%[1]s] /AS [<< /Event /View /Category [/View] /OCGs [%[1]s] >> << /Event /Print /Category [/Print] /OCGs [%[1]s] >>]"} {
		var d rawpdf.Doc
		oc := d.Add("<< /Type /OCG /Name (Draft layer) /Usage << /View << /ViewState /OFF >> /Print << /PrintState /OFF >> >> >>")
		ref := rawpdf.Refs(oc)[1 : len(rawpdf.Refs(oc))-1]
		root := d.Pages(fmt.Sprintf("/OCProperties << /OCGs [%s] /D << %s >> >>", ref, fmt.Sprintf(cfg, ref)),
			rawpdf.Page{MediaBox: letter, Resources: fmt.Sprintf("<< /Properties << /L1 %s >> >>", ref),
				Content: append(drawing(letter), " /OC /L1 BDC 1 0 0 rg 300 500 200 200 re f EMC"...)})
		add("optional content off: "+cfg[:8], d.Bytes(root))
	}

	for _, r := range []int{90, 180, 270, -90, 450} {
		add(fmt.Sprintf("rotate %d", r), onePage(rawpdf.Page{MediaBox: letter, Rotate: r}, "", nil))
	}
	add("crop box offset", onePage(rawpdf.Page{MediaBox: letter, CropBox: box(100, 150, 450, 700)}, "", nil))
	add("crop box offset, rotate 270", onePage(rawpdf.Page{MediaBox: letter, CropBox: box(100, 150, 450, 700), Rotate: 270}, "", nil))
	add("crop box offset, rotate 90", onePage(rawpdf.Page{MediaBox: letter, CropBox: box(50, 300, 600, 700), Rotate: 90}, "", nil))
	add("crop box beyond the media box", onePage(rawpdf.Page{MediaBox: letter, CropBox: box(-200, 400, 400, 1200)}, "", nil))
	add("negative media box origin", onePage(rawpdf.Page{MediaBox: [4]float64{-306, -396, 306, 396}}, "", nil))
	add("negative origin, offset crop, rotate 180", onePage(rawpdf.Page{MediaBox: [4]float64{-1000, -800, -388, -8}, CropBox: box(-900, -700, -500, -100), Rotate: 180}, "", nil))
	add("tiny page", onePage(rawpdf.Page{MediaBox: [4]float64{0, 0, 24, 36}}, "", nil))
	add("huge page", onePage(rawpdf.Page{MediaBox: [4]float64{0, 0, 14400, 10800}}, "", nil))
	add("wide short page", onePage(rawpdf.Page{MediaBox: [4]float64{0, 0, 2400, 160}}, "", nil))

	// Inherited boxes and rotation, from the page tree.
	{
		var d rawpdf.Doc
		tree := d.Reserve()
		content := d.Stream("", drawing([4]float64{50, 50, 550, 350}))
		page := d.Add(fmt.Sprintf("<< /Type /Page /Parent %s /Contents %s /Resources << >> >>", rawpdf.Ref(tree), rawpdf.Ref(content)))
		d.Set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 1 /MediaBox [0 0 600 400] /CropBox [50 50 550 350] /Rotate 90 >>", rawpdf.Ref(page)))
		add("inherited boxes and rotation", d.Bytes(d.Add(fmt.Sprintf("<< /Type /Catalog /Pages %s >>", rawpdf.Ref(tree)))))
	}

	// An opaque annotation over the whole page: the stamp must be drawn
	// over it, not under it.
	add("opaque full-page annotation", onePage(rawpdf.Page{MediaBox: letter}, "", func(d *rawpdf.Doc, p *rawpdf.Page) {
		ap := d.Stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792]", []byte("1 1 0.8 rg 0 0 612 792 re f 0 0 0 rg 300 100 50 50 re f"))
		a := d.Add(fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [0 0 612 792] /F 4 /AP << /N %s >> >>", rawpdf.Ref(ap)))
		link := d.Add("<< /Type /Annot /Subtype /Link /Rect [10 10 100 100] /Border [0 0 0] /A << /S /URI /URI (https://example.com) >> >>")
		p.Annots = rawpdf.Refs(link, a)
	}))
	// A rotated page with an annotation: the overlay must turn with it.
	add("opaque annotation, rotate 90, offset crop", onePage(rawpdf.Page{MediaBox: letter, CropBox: box(40, 60, 560, 760), Rotate: 90}, "", func(d *rawpdf.Doc, p *rawpdf.Page) {
		ap := d.Stream("/Type /XObject /Subtype /Form /BBox [0 0 612 792]", []byte("0.9 g 0 0 612 792 re f"))
		a := d.Add(fmt.Sprintf("<< /Type /Annot /Subtype /FreeText /Rect [0 0 612 792] /F 4 /DA (/Helv 12 Tf 0 g) /AP << /N %s >> >>", rawpdf.Ref(ap)))
		p.Annots = rawpdf.Refs(a)
	}))
	// An opaque image over the whole page, drawn by the page content: the
	// stamp comes after the content, so over it.
	add("opaque full-page image", onePage(rawpdf.Page{MediaBox: letter}, "", func(d *rawpdf.Doc, p *rawpdf.Page) {
		img := d.Stream("/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8", []byte("\x20\x40\x80\xff\xff\xff\xff\xff\xff\x20\x40\x80"))
		p.Resources = fmt.Sprintf("<< /XObject << /Im0 %s >> >>", rawpdf.Ref(img))
		p.Content = []byte("q 612 0 0 792 0 0 cm /Im0 Do Q")
	}))
	// Content that stops what follows it from being drawn, in one viewer
	// or all: one Q too many (poppler aborts the rest of the page), 600
	// syntax errors (MuPDF ignores the rest after 100), an empty clip or
	// an optional-content section that is off, left open after a Q too
	// many. The stamp in the content comes after it; the annotation shows.
	add("one Q too many", onePage(rawpdf.Page{MediaBox: letter, Content: append(drawing(letter), " Q"...)}, "", nil))
	add("600 syntax errors", onePage(rawpdf.Page{MediaBox: letter, Content: append(drawing(letter), strings.Repeat(" ]", 600)...)}, "", nil))
	add("Q too many, empty clip", onePage(rawpdf.Page{MediaBox: letter, Content: append(drawing(letter), " Q 0 0 0 0 re W n"...)}, "", nil))
	add("three Q too many, tiny clip", onePage(rawpdf.Page{MediaBox: letter, Content: append(drawing(letter), " Q Q Q 0 0 1 1 re W n"...)}, "", nil))
	// An optional-content group that is off, and the page's content
	// ending in sections of it left open: after a Q too many; with an EMC
	// in a comment that a count of the content's EMC would take for a
	// close; 70 of them.
	for _, c := range []struct{ name, tail string }{
		{"Q too many, optional content off left open", " Q /OC /L1 BDC"},
		{"Q too many, off section left open, EMC in a comment", " Q /OC /L1 BDC\n%EMC\n"},
		{"70 off sections left open", strings.Repeat(" /OC /L1 BDC", 70)},
	} {
		var d rawpdf.Doc
		oc := d.Add("<< /Type /OCG /Name (Off) >>")
		ref := rawpdf.Refs(oc)[1 : len(rawpdf.Refs(oc))-1]
		root := d.Pages(fmt.Sprintf("/OCProperties << /OCGs [%[1]s] /D << /OFF [%[1]s] >> >>", ref),
			rawpdf.Page{MediaBox: letter, Resources: fmt.Sprintf("<< /Properties << /L1 %s >> >>", ref),
				Content: append(drawing(letter), c.tail...)})
		add(c.name, d.Bytes(root))
	}
	// Pages of one size whose crop boxes sit in different places, and the
	// same page twice: pages with one geometry share the stamp's form,
	// placed for each.
	{
		var d rawpdf.Doc
		var pages []rawpdf.Page
		for _, c := range []*[4]float64{box(100, 150, 450, 700), box(20, 40, 370, 590), box(20, 40, 370, 590), nil} {
			p := rawpdf.Page{MediaBox: letter, CropBox: c, Content: drawing(letter)}
			if c != nil {
				p.Content = drawing(*c)
			}
			pages = append(pages, p)
		}
		add("pages of one size, crop boxes apart", d.Bytes(d.Pages("", pages...)))
	}
	return ls
}
