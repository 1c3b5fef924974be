package pdfstamp

import (
	"fmt"
	"slices"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// detach takes every embedded file out of the document, and returns how
// many file specifications carried one. A stamp marks pages; a file
// attached to the PDF (the EmbeddedFiles name tree, a FileAttachment
// annotation, associated files /AF, a portfolio) would leave inside the
// stamped copy as it was, unstamped, whatever its type. So:
//
//   - every file specification, wherever it sits, loses its /EF (the
//     embedded file streams) and every /EmbeddedFile stream is freed;
//   - the EmbeddedFiles name tree and the portfolio /Collection go;
//   - so do page thumbnails (a picture of the page without the stamp),
//     /PieceInfo private data and an XFA form's copy of the content.
//
// What the pages draw is untouched (a FileAttachment annotation keeps its
// icon, now of a file that is not there): the render check compares them
// with the original's.
func detach(ctx *model.Context) (int, error) {
	n := 0
	var stripEF func(o types.Object)
	stripEF = func(o types.Object) {
		switch o := o.(type) {
		case types.Dict:
			if _, ok := o["EF"]; ok {
				delete(o, "EF")
				delete(o, "RF")
				n++
			}
			for _, v := range o {
				stripEF(v)
			}
		case types.Array:
			for _, v := range o {
				stripEF(v)
			}
		case types.StreamDict:
			stripEF(o.Dict)
		}
	}
	var embedded []int
	for nr, e := range ctx.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		stripEF(e.Object)
		if sd, ok := e.Object.(types.StreamDict); ok {
			if t := sd.Dict.Type(); t != nil && *t == "EmbeddedFile" {
				embedded = append(embedded, nr)
			}
		}
	}
	slices.Sort(embedded)
	for _, nr := range embedded {
		if err := ctx.FreeObject(nr); err != nil {
			return n, fmt.Errorf("pdfstamp: removing an attached file: %w", err)
		}
	}
	if _, err := ctx.RemoveAttachments(nil); err != nil {
		return n, fmt.Errorf("pdfstamp: removing the attached files: %w", err)
	}
	// Pictures of the pages as they were (thumbnails), an application's
	// private data, an XFA form's own copy of the content: none carries
	// the stamp, none is the page.
	for p := 1; p <= ctx.PageCount; p++ {
		d, _, _, err := ctx.PageDict(p, false)
		if err != nil {
			return n, fmt.Errorf("pdfstamp: page %d: %w", p, err)
		}
		d.Delete("Thumb")
		d.Delete("PieceInfo")
	}
	if root, err := ctx.Catalog(); err == nil {
		root.Delete("PieceInfo")
		if af, err := ctx.DereferenceDict(root["AcroForm"]); err == nil && af != nil {
			af.Delete("XFA")
		}
	}
	return n, nil
}
