package pdfstamp

import (
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/encoding/charmap"

	"github.com/coffer-vault/coffer/internal/textshape"
	"github.com/coffer-vault/coffer/watermark"
)

// How a stamp looks. The text is one line (pdfcpu's rotated multi-line
// text overlaps its lines), in the watermark's dark red outlined in white.
const (
	stampFont  = "Helvetica-Bold"
	stampColor = "#961E28"
	// outlineColor rings the letters (see outline): where the page is
	// dark, or the stamp's own red (a band painted to hide part of it),
	// the light outline still draws every letter; on white it does not
	// show.
	outlineColor   = "#FFFFFF"
	defaultOpacity = 0.3
	defaultAngle   = 30.0
	// fill is the share of the page's visible box the turned text block
	// may span, across and down, so no letter is cut off at an edge.
	fill = 0.85
	// measurePoints is the font size the text is measured at; pdfcpu
	// scales it from there.
	measurePoints = 24
)

// geometry is what places a page's stamp: the page's media box and the
// part of it a viewer shows (the crop box clipped to the media box), in
// default user space units (points), as llx, lly, urx, ury; and its
// clockwise /Rotate, one of 0, 90, 180, 270.
type geometry struct {
	media, visible [4]float64
	rotate         int
}

func (g geometry) width() float64  { return g.visible[2] - g.visible[0] }
func (g geometry) height() float64 { return g.visible[3] - g.visible[1] }

// shown returns the page's size as a viewer shows it, after /Rotate, in
// points.
func (g geometry) shown() (w, h float64) {
	if g.rotate == 90 || g.rotate == 270 {
		return g.height(), g.width()
	}
	return g.width(), g.height()
}

// pageGeometry reads page n's effective boxes and rotation, inherited
// ones included.
func pageGeometry(ctx *model.Context, n int) (types.Dict, geometry, error) {
	d, _, attrs, err := ctx.PageDict(n, false)
	if err != nil || d == nil || attrs == nil {
		return nil, geometry{}, fmt.Errorf("%w: page %d: %v", ErrNotPDF, n, err)
	}
	if attrs.MediaBox == nil {
		return nil, geometry{}, fmt.Errorf("%w: page %d has no media box", ErrNotPDF, n)
	}
	var g geometry
	g.media = rect(attrs.MediaBox)
	g.visible = g.media
	if attrs.CropBox != nil {
		c := rect(attrs.CropBox)
		g.visible = [4]float64{max(c[0], g.media[0]), max(c[1], g.media[1]), min(c[2], g.media[2]), min(c[3], g.media[3])}
	}
	if !(g.width() > 0 && g.height() > 0) || math.IsInf(g.width(), 0) || math.IsInf(g.height(), 0) {
		return nil, geometry{}, fmt.Errorf("%w: page %d shows nothing (media box %v, crop box %v)", ErrNotPDF, n, attrs.MediaBox, attrs.CropBox)
	}
	// Viewers ignore a /Rotate that is not a multiple of 90.
	if r := (attrs.Rotate%360 + 360) % 360; r%90 == 0 {
		g.rotate = r
	}
	return d, g, nil
}

// rect normalises a pdfcpu rectangle (corners in any order).
func rect(r *types.Rectangle) [4]float64 {
	return [4]float64{min(r.LL.X, r.UR.X), min(r.LL.Y, r.UR.Y), max(r.LL.X, r.UR.X), max(r.LL.Y, r.UR.Y)}
}

func rectArray(b [4]float64) types.Array {
	return types.NewNumberArray(b[0], b[1], b[2], b[3])
}

// stampText returns the stamp's one line (pdfcpu's rotated multi-line
// text overlaps its lines) and the font it is set in. Text that
// Windows-1252 can encode is set in Helvetica Bold, a font every viewer
// has (pdfcpu writes core fonts in WinAnsiEncoding and drops what it
// cannot encode). Anything else — a name in Chinese, Arabic, Greek,
// Polish, Korean — is shaped with an embedded Unicode font (textshape:
// bidi order, Arabic joining) and handed to pdfcpu as the characters of
// the shaped glyphs, which pdfcpu embeds as a subset with a ToUnicode
// map; a letter the font lacks is an error wrapping ErrNoGlyph, never a
// gap. The font is assets.UnicodeFont, or assets.StampHangulFont when the
// text has Hangul (so Hangul mixed with Arabic, Greek or Chinese is
// refused).
func stampText(s watermark.Spec) (text, fontName string, err error) {
	var fields []string
	for i, line := range s.Fields() {
		if i > 0 {
			fields = append(fields, " · ")
		}
		fields = append(fields, line...)
	}
	// pdfcpu breaks the line at a newline and at a backslash followed by
	// n: a name must not choose the stamp's shape. (app.CheckName refuses
	// both in new names.)
	text = strings.Map(func(r rune) rune {
		switch {
		case r == '\\':
			return '/'
		case r < ' ' || r == 0x7f:
			return ' '
		}
		return r
	}, strings.Join(fields, ""))
	fontName = stampFont
	if !winAnsi(text) {
		// pdfcpu sets a stamp in one font: Hangul's, whose Latin and
		// punctuation the rest of the line needs, for text with Korean.
		fontName = unicodeFont
		if strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) {
			fontName = hangulFont
		}
		sh, err := textshape.New(userFonts()[fontName])
		if err != nil {
			return "", "", fmt.Errorf("pdfstamp: %w", err)
		}
		line, err := sh.ShapeFields(fixed.I(measurePoints), fields...)
		if err != nil {
			return "", "", fmt.Errorf("pdfstamp: %w", err)
		}
		visual, err := sh.Runes(line)
		if err != nil {
			return "", "", fmt.Errorf("pdfstamp: %w", err)
		}
		text = string(visual)
	}
	// pdfcpu expands %-sequences in watermark text; a name must not.
	return strings.ReplaceAll(text, "%", "%%"), fontName, nil
}

// winAnsi reports whether every character of s is in Windows-1252.
func winAnsi(s string) bool {
	for _, r := range s {
		if _, ok := charmap.Windows1252.EncodeRune(r); !ok {
			return false
		}
	}
	return true
}

// stamper adds one spec's stamp to the pages of pdfcpu contexts.
type stamper struct {
	text     string
	fontName string
	opacity  float64
	angle    float64 // degrees counter-clockwise as the page is shown
	width    float64 // of the text at measurePoints, in points
	aspect   float64 // width / height of the unturned text block
}

// newStamper prepares s's stamp; it calls into pdfcpu (font metrics).
func newStamper(s watermark.Spec) (*stamper, error) {
	text, fontName, err := stampText(s)
	if err != nil {
		return nil, err
	}
	st := &stamper{text: text, fontName: fontName, opacity: s.Opacity, angle: s.Angle}
	if st.opacity <= 0 || st.opacity > 1 {
		st.opacity = defaultOpacity
	}
	if st.angle == 0 {
		st.angle = defaultAngle
	}
	w, err := font.TextWidthFloat(strings.ReplaceAll(st.text, "%%", "%"), fontName, measurePoints)
	if err != nil {
		return nil, fmt.Errorf("pdfstamp: measuring the stamp: %w", err)
	}
	h, err := font.LineHeight(fontName, measurePoints)
	if err != nil || !(w > 0 && h > 0) {
		return nil, fmt.Errorf("pdfstamp: measuring the stamp: %v × %v, %v", w, h, err)
	}
	st.width, st.aspect = w, w/h
	return st, nil
}

// watermark returns pdfcpu's watermark for pages of geometry g, built
// here from typed values, and the scale to give its form. The text runs
// at st.angle as the page is shown (so in user space at angle + /Rotate,
// the viewer turning the page clockwise by /Rotate) — or straight along
// the page where turning it would make it less than half as large, as on
// a long narrow strip — and its turned block spans at most fill of the
// visible box each way.
//
// pdfcpu sets the text at measurePoints; the form is scaled to size
// after (see placeForm). Left to pdfcpu, text of a point or less, as on a
// stamp-sized page, is laid out with rounded positions that clip it away.
func (st *stamper) watermark(g geometry) (wm *model.Watermark, alpha, scale float64, err error) {
	angle, size := st.angle, st.fit(g, st.angle)
	if straight := st.fit(g, 0); size < straight/2 {
		angle, size = 0, straight
	}
	alpha = math.Remainder(angle+float64(g.rotate), 360)
	desc := fmt.Sprintf("font:%s, points:%d, scale:1 abs, rot:%.3f, opacity:%.3f, fillcolor:%s, strokecolor:%s, rendermode:2",
		st.fontName, measurePoints, alpha, st.opacity, stampColor, outlineColor)
	wm, err = api.TextWatermark(st.text, desc, true, false, types.POINTS)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("pdfstamp: %w", err)
	}
	return wm, alpha, size / st.width, nil
}

// fit returns the widest the text may be, in points, running at angle
// degrees as page g is shown, for its turned block to fit.
func (st *stamper) fit(g geometry, angle float64) float64 {
	rad := (angle + float64(g.rotate)) * math.Pi / 180
	c, s := math.Abs(math.Cos(rad)), math.Abs(math.Sin(rad))
	w, h := g.width(), g.height()
	return min(fill*w/(c+s/st.aspect), fill*h/(s+c/st.aspect))
}

// stampPages stamps every page of ctx so that it shows whatever the
// document's optional content, annotations, boxes or rotation:
//
//   - pdfcpu puts its stamp in the document's first optional-content group
//     when the document has any, and that group may be off by default (or
//     turned off by a viewer, or by printing rules), hiding the stamp. The
//     stamp's form is therefore taken out of optional content altogether:
//     no viewer setting can hide it.
//   - pdfcpu bakes a page's /Rotate into its content and boxes, which
//     misplaces pages whose crop box is offset. The rotation is set aside
//     while pdfcpu stamps and put back after, and the stamp is turned to
//     compensate.
//   - Annotations are drawn over the page's content, so an opaque one
//     hides the stamp below it; and the page's content can stop the stamp
//     after it from being drawn at all: one Q too many makes poppler abort
//     the rest of the page, 100 syntax errors make MuPDF ignore it, a clip
//     or a marked-content section left open covers what follows. Every
//     page therefore gets the stamp once more as its last (topmost)
//     annotation, printable and locked, which each viewer draws after the
//     content, on its own, whatever state the content left; the copy in
//     the content stays for viewers that hide annotations.
//
// The crop box is clipped to the media box on every page, as viewers do.
//
// It returns each page's geometry, indexed by page number (from 1).
func (st *stamper) stampPages(ctx *model.Context) ([]pageInfo, error) {
	info := make([]pageInfo, ctx.PageCount+1)
	type mark struct {
		wm           *model.Watermark
		alpha, scale float64
	}
	marks := map[geometry]mark{} // pages of one geometry share pdfcpu's form
	byPage := map[int]*model.Watermark{}
	for n := 1; n <= ctx.PageCount; n++ {
		d, g, err := pageGeometry(ctx, n)
		if err != nil {
			return nil, err
		}
		info[n].geometry = g
		d.Update("CropBox", rectArray(g.visible))
		d.Update("Rotate", types.Integer(0))
		m, ok := marks[g]
		if !ok {
			if m.wm, m.alpha, m.scale, err = st.watermark(g); err != nil {
				return nil, err
			}
			marks[g] = m
		}
		byPage[n], info[n].alpha, info[n].scale = m.wm, m.alpha, m.scale
	}
	if err := pdfcpu.AddWatermarksMap(ctx, byPage); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	placed := map[types.IndirectRef]bool{} // forms shared by pages of one geometry
	for n := 1; n <= ctx.PageCount; n++ {
		if err := st.fixPage(ctx, n, info[n], placed); err != nil {
			return nil, fmt.Errorf("pdfstamp: page %d: %w", n, err)
		}
	}
	return info, nil
}

// pageInfo is what stampPages did to a page.
type pageInfo struct {
	geometry
	alpha float64 // the stamp's angle in user space, degrees counter-clockwise
	scale float64 // of the stamp's form, from pdfcpu's size to the page's
}
