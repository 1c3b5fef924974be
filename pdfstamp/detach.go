package pdfstamp

import (
	"fmt"
	"slices"
	"strings"

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
	stripEF := func(d types.Dict) {
		if _, ok := d["EF"]; ok {
			delete(d, "EF")
			delete(d, "RF")
			n++
		}
	}
	var embedded []int
	for nr, e := range ctx.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		eachDict(e.Object, stripEF)
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

// eachDict calls f with every dictionary in o, o itself included, then
// looks into what is left in it (f may delete entries): arrays, and
// streams' dictionaries. References are not followed; the callers visit
// every object of the table.
func eachDict(o types.Object, f func(types.Dict)) {
	switch o := o.(type) {
	case types.Dict:
		f(o)
		for _, v := range o {
			eachDict(v, f)
		}
	case types.Array:
		for _, v := range o {
			eachDict(v, f)
		}
	case types.StreamDict:
		eachDict(o.Dict, f)
	}
}

// activeActions are the action types (ISO 32000-1 §12.6.4) a stamped copy
// may not carry: they run code (JavaScript, a Launch of a program), send
// or fetch data (SubmitForm, ImportData), open other files (GoToR, GoToE,
// embedded media), or change what is shown after it opened (SetOCGState
// toggling layers, Hide) — which could cover or hide the stamp in a viewer
// that runs them, while the render check (PDFium, which runs none)
// passes. Go-to's within the document, named navigation and links to the
// web or to mail stay (webLink).
var activeActions = map[string]bool{
	"JavaScript": true, "Launch": true, "SubmitForm": true, "ImportData": true, "ResetForm": true,
	"GoToR": true, "GoToE": true, "Rendition": true, "Movie": true, "Sound": true, "RichMediaExecute": true,
	"SetOCGState": true, "Hide": true, "Trans": true, "GoTo3DView": true,
}

// isActive reports whether d is an action a stamped copy may not carry:
// of an active type, a URI other than a web or mail link, or of a type
// not given as a name at all (/S as a reference to a name is allowed by
// readers that resolve it, so it is resolved here too; anything else in
// /S is not an action Coffer can vouch for).
func isActive(ctx *model.Context, d types.Dict) bool {
	o, ok := d["S"]
	if !ok {
		return false
	}
	v, err := ctx.Dereference(o)
	name, isName := v.(types.Name)
	switch {
	case err != nil || !isName:
		return true
	case activeActions[name.Value()]:
		return true
	case name.Value() == "URI":
		return !webLink(ctx, d)
	}
	return false
}

// webLink reports whether a URI action leads to the web or to mail
// (http, https, mailto): a file:, smb: or javascript: URI opens or runs
// what a Launch would, and a UNC path sends the reader's Windows
// credentials to its host.
func webLink(ctx *model.Context, d types.Dict) bool {
	var uri string
	switch o := d["URI"].(type) {
	case types.StringLiteral:
		uri = o.Value()
	case types.HexLiteral:
		b, err := o.Bytes()
		if err != nil {
			return false
		}
		uri = string(b)
	case types.IndirectRef:
		v, err := ctx.Dereference(o)
		if err != nil {
			return false
		}
		return webLink(ctx, types.Dict{"URI": v})
	default:
		return false
	}
	uri = strings.ToLower(strings.TrimSpace(uri))
	for _, scheme := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(uri, scheme) {
			return true
		}
	}
	return false
}

// disarm takes out of the document every action that runs when it opens
// or when something in it is touched, and every action of an active type
// anywhere: the catalog's /OpenAction (when it is an action of such a
// type; a destination stays) and its JavaScript name tree, every /AA
// (additional actions, on the catalog, pages, annotations and form
// fields), and /A or /Next entries that lead to an active action. It
// returns how many references it took out.
func disarm(ctx *model.Context) (int, error) {
	n := 0
	active := func(o types.Object) bool {
		d, err := ctx.DereferenceDict(o)
		if err != nil || d == nil {
			return false
		}
		return isActive(ctx, d)
	}
	disarmDict := func(o types.Dict) {
		if _, ok := o["AA"]; ok {
			delete(o, "AA")
			n++
		}
		for _, k := range []string{"A", "Next", "OpenAction"} {
			if v, ok := o[k]; ok && active(v) {
				delete(o, k)
				n++
			}
		}
		if a, ok := o["Next"].(types.Array); ok { // a chain of actions
			for _, v := range a {
				if active(v) {
					delete(o, "Next")
					n++
					break
				}
			}
		}
	}
	var objects []int // active actions that are objects of their own
	for nr, e := range ctx.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		eachDict(e.Object, disarmDict)
		if d, ok := e.Object.(types.Dict); ok {
			if isActive(ctx, d) {
				objects = append(objects, nr)
			}
		}
	}
	// The document-level scripts, run as it opens. pdfcpu keeps name
	// trees in a cache it writes back over the catalog's: both go.
	if root, err := ctx.Catalog(); err == nil && root["Names"] != nil {
		if names, err := ctx.DereferenceDict(root["Names"]); err == nil && names != nil && names["JavaScript"] != nil {
			if err := ctx.RemoveNameTree("JavaScript"); err != nil {
				return n, fmt.Errorf("pdfstamp: removing the document's scripts: %w", err)
			}
			n++
		}
	}
	delete(ctx.Names, "JavaScript")
	// Nothing refers to them any more where a viewer would run them;
	// their code leaves with them.
	slices.Sort(objects)
	for _, nr := range objects {
		if err := ctx.FreeObject(nr); err != nil {
			return n, fmt.Errorf("pdfstamp: removing an action: %w", err)
		}
	}
	return n, nil
}
