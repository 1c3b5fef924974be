package pdfstamp

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// What pdfcpu's stamp needs after pdfcpu made it: out of optional
// content, placed on the page, and over the page's annotations.

// stampOp is the content pdfcpu (v0.15) appends to a page to draw a stamp:
// a transformation, a graphics state for opacity, and the stamp's form.
var stampOp = regexp.MustCompile(`/Artifact <</Subtype /Watermark /Type /Pagination >>BDC q (\S+ \S+ \S+ \S+ \S+ \S+) cm /(\S+) gs /(\S+) Do Q EMC`)

// formShift is how pdfcpu's text form starts: font, then where the text
// goes.
var formShift = regexp.MustCompile(`^q BT /\S+ \S+ Tf ET (\S+ \S+ \S+ \S+ \S+ \S+) cm `)

// fixPage puts page n's rotation back, takes its stamp out of optional
// content and adds it once more as the page's last (topmost) annotation.
// Forms in placed were placed for an earlier page of the same geometry,
// and are left as they are.
func (st *stamper) fixPage(ctx *model.Context, n int, p pageInfo, placed map[types.IndirectRef]bool) error {
	g := p.geometry
	d, _, _, err := ctx.PageDict(n, false)
	if err != nil {
		return err
	}
	if g.rotate != 0 {
		d.Update("Rotate", types.Integer(g.rotate))
	}
	content, err := pageContent(ctx, d)
	if err != nil {
		return fmt.Errorf("reading the stamped content: %w", err)
	}
	all := stampOp.FindAllSubmatchIndex(content, -1)
	if len(all) == 0 {
		return errors.New("the stamp is missing from the page content")
	}
	at := all[len(all)-1] // an earlier stamp may be in the document already
	matrix, gsName, formName := string(content[at[2]:at[3]]), string(content[at[4]:at[5]]), string(content[at[6]:at[7]])
	res, err := ctx.DereferenceDict(d["Resources"])
	if err != nil || res == nil {
		return fmt.Errorf("page resources: %v", err)
	}
	gs, form, err := stampResources(ctx, res, gsName, formName)
	if err != nil {
		return err
	}
	if err := isolateContent(ctx, d, res, g, content[:at[0]], content[at[0]:]); err != nil {
		return err
	}
	if !placed[form] {
		placed[form] = true
		sd, _, err := ctx.DereferenceStreamDict(form)
		if err != nil || sd == nil {
			return fmt.Errorf("the stamp's form: %v", err)
		}
		sd.Dict.Delete("OC")
		cm, err := parseAffine(matrix)
		if err != nil {
			return err
		}
		if err := placeForm(ctx, sd, cm, p); err != nil {
			return err
		}
		if err := outline(ctx, form, sd); err != nil {
			return err
		}
	}
	return addOverlay(ctx, d, g, matrix, gs, form)
}

// textOp is how pdfcpu (v0.15) draws the stamp's line in its form: stroke
// and fill colours, position, text render mode 2 (fill, then stroke),
// then the string and " Tj ET".
var textOp = regexp.MustCompile(`BT 0 Tw (\S+ \S+ \S+) RG (\S+ \S+ \S+) rg (\S+ \S+) Td 2 Tr `)

// outlineWidth is the width of the light outline around the stamp's
// letters, in the form's units, where the text is measurePoints high:
// half of it shows around each letter.
const outlineWidth = 3

// outline redraws the stamp's text in its form (sd, the object form) as
// a light stroke of outlineWidth with round joins, then the fill over it,
// so the outline rings the letters instead of eating into them as render
// mode 2's stroke over the fill would. It must run once per form.
func outline(ctx *model.Context, form types.IndirectRef, sd *types.StreamDict) error {
	loc := textOp.FindSubmatchIndex(sd.Content)
	end := bytes.LastIndex(sd.Content, []byte(" Tj ET")) // the string may hold anything before it
	if loc == nil || end < loc[1] {
		return errors.New("pdfcpu's stamp text is not where it was (pdfcpu changed? update textOp)")
	}
	c := sd.Content
	stroke, fill, at, str := c[loc[2]:loc[3]], c[loc[4]:loc[5]], c[loc[6]:loc[7]], c[loc[1]:end]
	content := fmt.Appendf(append([]byte(nil), c[:loc[0]]...),
		"q %d w 1 j BT 0 Tw %s RG %s Td 1 Tr %s Tj ET Q BT 0 Tw %s rg %s Td 0 Tr %s Tj ET",
		outlineWidth, stroke, at, str, fill, at, str)
	sd.Content = append(content, c[end+len(" Tj ET"):]...)
	if err := sd.Encode(); err != nil {
		return err
	}
	entry, ok := ctx.FindTableEntryForIndRef(&form)
	if !ok {
		return errors.New("the stamp's form is not in the document")
	}
	entry.Object = *sd
	return nil
}

// pageContent returns page d's content, its streams decoded and joined by
// line ends (a stream ends at a token's end, so no two tokens merge).
func pageContent(ctx *model.Context, d types.Dict) ([]byte, error) {
	o, err := ctx.Dereference(d["Contents"])
	if err != nil {
		return nil, err
	}
	streams, ok := o.(types.Array)
	if !ok {
		streams = types.Array{o}
	}
	var content []byte
	for _, o := range streams {
		sd, _, err := ctx.DereferenceStreamDict(o)
		if err != nil {
			return nil, err
		}
		if sd == nil {
			continue
		}
		if err := sd.Decode(); err != nil {
			return nil, err
		}
		content = append(append(content, sd.Content...), '\n')
	}
	return content, nil
}

// isolateContent moves the page's own content (before, which pdfcpu put
// between q and Q) into a form XObject that the page content draws, then
// closes what it may have left open, then draws the stamp (stamp, pdfcpu's
// operators). Viewers draw a form on its own: a Q too many inside it
// pops nothing outside it, and poppler, which gives up the rest of a
// content stream at such a Q, gives up only the form's. Marked-content
// sections the content opened and left open (an optional-content group
// that is off hides everything drawn in it, in poppler even the
// annotations drawn after the page) are closed after the form: MuPDF keeps
// them open past a form's end.
//
// The content keeps its resources (the form gets the page's), its look
// (a form without /Group paints as its content would) and its text;
// marked-content IDs that a tagged document's structure tree points to on
// the page now sit in the form, so that tree no longer reaches them.
func isolateContent(ctx *model.Context, d, res types.Dict, g geometry, before, stamp []byte) error {
	sd, err := ctx.NewStreamDictForBuf(before)
	if err != nil {
		return err
	}
	sd.InsertName("Type", "XObject")
	sd.InsertName("Subtype", "Form")
	sd.Insert("BBox", rectArray(g.media))
	sd.Insert("Resources", d["Resources"])
	if err := sd.Encode(); err != nil {
		return err
	}
	ref, err := ctx.IndRefForNewObject(*sd)
	if err != nil {
		return err
	}
	xobj, err := ctx.DereferenceDict(res["XObject"])
	if err != nil {
		return err
	}
	// New dictionaries for the page: the old ones may be shared with other
	// pages, and are the form's now.
	name := "CofferPage"
	for i := 1; xobj[name] != nil; i++ {
		name = fmt.Sprintf("CofferPage%d", i)
	}
	pageXObj := types.Dict{name: *ref}
	maps.Copy(pageXObj, xobj)
	pageRes := types.Dict{}
	maps.Copy(pageRes, res)
	pageRes["XObject"] = pageXObj

	// As many EMC as the content has BDC and BMC: its own EMC are not
	// subtracted (one hidden in a comment or a string must not leave a
	// section open), and an EMC too many is ignored by every viewer.
	open := bytes.Count(before, []byte("BDC")) + bytes.Count(before, []byte("BMC"))
	content := fmt.Appendf(nil, "q /%s Do Q\n%s", name, strings.Repeat("EMC\n", open))
	content = append(content, stamp...)
	page, err := ctx.NewStreamDictForBuf(content)
	if err != nil {
		return err
	}
	if err := page.Encode(); err != nil {
		return err
	}
	pageRef, err := ctx.IndRefForNewObject(*page)
	if err != nil {
		return err
	}
	d.Update("Resources", pageRes)
	d.Update("Contents", *pageRef)
	return nil
}

// placeForm sets the stamp form's matrix so that, with the page's
// transformation cm (from pdfcpu's content), the form's bounding box is
// scaled by p.scale about its centre, turned by p.alpha degrees and
// centred on the visible box. pdfcpu's own placement assumes the text fits
// at the size it was set and the crop box sits at the origin; this one
// does not. It must run once per form.
func placeForm(ctx *model.Context, sd *types.StreamDict, cm affine, p pageInfo) error {
	bb, err := ctx.DereferenceArray(sd.Dict["BBox"])
	if err != nil || len(bb) != 4 {
		return fmt.Errorf("the stamp's form has no bounding box: %v", err)
	}
	var v [4]float64
	for i, o := range bb {
		if v[i], err = ctx.DereferenceNumber(o); err != nil {
			return fmt.Errorf("the stamp's form's bounding box: %w", err)
		}
	}
	// pdfcpu shifts text wider than the page within its form, out of the
	// form's bounding box, which then clips it; the box is moved to where
	// the text is.
	if err := sd.Decode(); err != nil {
		return fmt.Errorf("the stamp's form: %w", err)
	}
	if m := formShift.FindSubmatch(sd.Content); m != nil {
		shift, err := parseAffine(string(m[1]))
		if err != nil {
			return err
		}
		v = shift.box(v)
		sd.Dict.Update("BBox", rectArray(v))
	}
	inv, ok := cm.invert()
	if !ok {
		return fmt.Errorf("pdfcpu's stamp transformation %v cannot be inverted", cm)
	}
	rad := p.alpha * math.Pi / 180
	sin, cos := math.Sin(rad), math.Cos(rad)
	k := p.scale
	want := affine{1, 0, 0, 1, -(v[0] + v[2]) / 2, -(v[1] + v[3]) / 2}.
		then(affine{k * cos, k * sin, -k * sin, k * cos, 0, 0}).
		then(affine{1, 0, 0, 1, (p.visible[0] + p.visible[2]) / 2, (p.visible[1] + p.visible[3]) / 2})
	m := want.then(inv)
	sd.Dict.Update("Matrix", types.NewNumberArray(m[:]...))
	return nil
}

// stampResources finds the graphics state and form pdfcpu named in the
// page's resources.
func stampResources(ctx *model.Context, res types.Dict, gsName, formName string) (gs, form types.IndirectRef, err error) {
	ext, err := ctx.DereferenceDict(res["ExtGState"])
	if err != nil || ext == nil {
		return gs, form, fmt.Errorf("the stamp's graphics state: %v", err)
	}
	xobj, err := ctx.DereferenceDict(res["XObject"])
	if err != nil || xobj == nil {
		return gs, form, fmt.Errorf("the stamp's form: %v", err)
	}
	gs, ok1 := ext[gsName].(types.IndirectRef)
	form, ok2 := xobj[formName].(types.IndirectRef)
	if !ok1 || !ok2 {
		return gs, form, fmt.Errorf("the stamp's resources /%s and /%s are not where pdfcpu put them", gsName, formName)
	}
	return gs, form, nil
}

// Annotation flags (PDF 32000-1:2008, 12.5.3).
const (
	annotPrint    = 1 << 2
	annotReadOnly = 1 << 6
	annotLocked   = 1 << 7
)

// addOverlay appends a watermark annotation drawing the stamp, as the
// page content does, last in the page's annotations, so it is drawn over
// all of them. Its appearance's bounding box is the media box and its
// matrix the identity, so its form space is the page's user space.
func addOverlay(ctx *model.Context, d types.Dict, g geometry, matrix string, gs, form types.IndirectRef) error {
	sd, err := ctx.NewStreamDictForBuf([]byte("q " + matrix + " cm /GS0 gs /Fm0 Do Q"))
	if err != nil {
		return err
	}
	sd.InsertName("Type", "XObject")
	sd.InsertName("Subtype", "Form")
	sd.Insert("BBox", rectArray(g.media))
	sd.Insert("Resources", types.Dict{
		"ExtGState": types.Dict{"GS0": gs},
		"XObject":   types.Dict{"Fm0": form},
	})
	if err := sd.Encode(); err != nil {
		return err
	}
	ap, err := ctx.IndRefForNewObject(*sd)
	if err != nil {
		return err
	}
	annot, err := ctx.IndRefForNewObject(types.Dict{
		"Type":    types.Name("Annot"),
		"Subtype": types.Name("Watermark"),
		"Rect":    rectArray(g.media),
		"F":       types.Integer(annotPrint | annotReadOnly | annotLocked),
		"NM":      types.StringLiteral("coffer-stamp"),
		"AP":      types.Dict{"N": *ap},
	})
	if err != nil {
		return err
	}
	annots, err := ctx.DereferenceArray(d["Annots"])
	if err != nil {
		return err
	}
	// A new array: the old one may be shared with other pages.
	d.Update("Annots", append(append(types.Array{}, annots...), *annot))
	return nil
}
