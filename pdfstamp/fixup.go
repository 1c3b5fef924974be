package pdfstamp

import (
	"errors"
	"fmt"
	"math"
	"regexp"

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
// content and, where annotations could cover it, adds it on top of them
// (and then reports true). Forms in placed were placed for an earlier
// page of the same geometry, and are left as they are.
func (st *stamper) fixPage(ctx *model.Context, n int, p pageInfo, placed map[types.IndirectRef]bool) (bool, error) {
	g := p.geometry
	d, _, _, err := ctx.PageDict(n, false)
	if err != nil {
		return false, err
	}
	if g.rotate != 0 {
		d.Update("Rotate", types.Integer(g.rotate))
	}
	content, err := ctx.PageContent(d, n)
	if err != nil {
		return false, fmt.Errorf("reading the stamped content: %w", err)
	}
	all := stampOp.FindAllSubmatch(content, -1)
	if len(all) == 0 {
		return false, errors.New("the stamp is missing from the page content")
	}
	op := all[len(all)-1] // an earlier stamp may be in the document already
	matrix, gsName, formName := string(op[1]), string(op[2]), string(op[3])
	res, err := ctx.DereferenceDict(d["Resources"])
	if err != nil || res == nil {
		return false, fmt.Errorf("page resources: %v", err)
	}
	gs, form, err := stampResources(ctx, res, gsName, formName)
	if err != nil {
		return false, err
	}
	if !placed[form] {
		placed[form] = true
		sd, _, err := ctx.DereferenceStreamDict(form)
		if err != nil || sd == nil {
			return false, fmt.Errorf("the stamp's form: %v", err)
		}
		sd.Dict.Delete("OC")
		cm, err := parseAffine(matrix)
		if err != nil {
			return false, err
		}
		if err := placeForm(ctx, sd, cm, p); err != nil {
			return false, err
		}
	}
	covered, err := hasCoveringAnnots(ctx, d)
	if err != nil || !covered {
		return false, err
	}
	return true, addOverlay(ctx, d, g, matrix, gs, form)
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

// hasCoveringAnnots reports whether page d has an annotation that could
// be drawn over the stamp: any but links, which draw at most a border.
func hasCoveringAnnots(ctx *model.Context, d types.Dict) (bool, error) {
	o, ok := d.Find("Annots")
	if !ok {
		return false, nil
	}
	annots, err := ctx.DereferenceArray(o)
	if err != nil {
		return false, fmt.Errorf("annotations: %w", err)
	}
	for _, a := range annots {
		ad, err := ctx.DereferenceDict(a)
		if err != nil || ad == nil {
			continue
		}
		if sub := ad.NameEntry("Subtype"); sub == nil || *sub != "Link" {
			return true, nil
		}
	}
	return false, nil
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
