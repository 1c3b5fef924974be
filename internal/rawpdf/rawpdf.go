// Package rawpdf writes small PDF files object by object, with a classic
// cross-reference table: the blank reference pages pdfstamp renders to know
// where a stamp's ink should be, and the unusual documents tests build
// (optional content that is off, rotated pages, offset boxes, annotations).
// It writes whatever object bodies it is given; it does not check them.
package rawpdf

import (
	"bytes"
	"fmt"
	"strings"
)

// Doc is a PDF under construction. Object numbers start at 1. The zero
// value is an empty document.
type Doc struct {
	objs []string // body of object i+1; "" for reserved but unset
}

// Add appends an object whose body is body (a dictionary, array, number…)
// and returns its object number.
func (d *Doc) Add(body string) int {
	d.objs = append(d.objs, body)
	return len(d.objs)
}

// Reserve returns the number of an object whose body Set gives later, for
// objects that refer to each other (a page and its parent).
func (d *Doc) Reserve() int { return d.Add("") }

// Set gives object n its body.
func (d *Doc) Set(n int, body string) { d.objs[n-1] = body }

// Stream appends a stream object: dict is the dictionary's entries without
// the brackets and without /Length, which Stream adds.
func (d *Doc) Stream(dict string, data []byte) int {
	return d.Add(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

// Ref returns "n 0 R".
func Ref(n int) string { return fmt.Sprintf("%d 0 R", n) }

// Refs returns "[n1 0 R n2 0 R …]".
func Refs(ns ...int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = Ref(n)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Bytes returns the file: header, objects, cross-reference table and a
// trailer naming root as the catalog.
func (d *Doc) Bytes(root int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(d.objs))
	for i, body := range d.objs {
		if body == "" {
			body = "null"
		}
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(d.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(d.objs)+1, root, xref)
	return b.Bytes()
}

// Page describes one page for Pages.
type Page struct {
	MediaBox [4]float64
	CropBox  *[4]float64 // nil: none
	Rotate   int
	Content  []byte // the content stream; nil: an empty page
	// Resources and Annots are the dictionary and array bodies to put on
	// the page as they are ("" leaves them out).
	Resources string
	Annots    string
}

// Box formats a rectangle as a PDF array.
func Box(b [4]float64) string {
	return fmt.Sprintf("[%g %g %g %g]", b[0], b[1], b[2], b[3])
}

// Pages adds a page tree holding pages, and a catalog with extra entries
// (catalog, without brackets, may be ""), and returns the catalog's number.
func (d *Doc) Pages(catalog string, pages ...Page) int {
	tree := d.Reserve()
	kids := make([]int, len(pages))
	for i, p := range pages {
		var s strings.Builder
		fmt.Fprintf(&s, "<< /Type /Page /Parent %s /MediaBox %s", Ref(tree), Box(p.MediaBox))
		if p.CropBox != nil {
			fmt.Fprintf(&s, " /CropBox %s", Box(*p.CropBox))
		}
		if p.Rotate != 0 {
			fmt.Fprintf(&s, " /Rotate %d", p.Rotate)
		}
		if p.Content != nil {
			fmt.Fprintf(&s, " /Contents %s", Ref(d.Stream("", p.Content)))
		}
		res := p.Resources
		if res == "" {
			res = "<< >>"
		}
		fmt.Fprintf(&s, " /Resources %s", res)
		if p.Annots != "" {
			fmt.Fprintf(&s, " /Annots %s", p.Annots)
		}
		s.WriteString(" >>")
		kids[i] = d.Add(s.String())
	}
	d.Set(tree, fmt.Sprintf("<< /Type /Pages /Kids %s /Count %d >>", Refs(kids...), len(kids)))
	return d.Add(fmt.Sprintf("<< /Type /Catalog /Pages %s %s >>", Ref(tree), catalog))
}
