package preview

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/go-text/typesetting/harfbuzz"
	"golang.org/x/image/math/fixed"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// Markdown and spreadsheet previews are laid out once, in points, into
// pages of drawing operations — filled rectangles and pieces of text —
// and drawn at whatever resolution a page is asked for: text is shaped
// again at the pixel size, whose advances scale linearly, so the layout
// holds at any zoom.

// Styles of the text fonts' shaper (TextFonts): Go Mono sets plain text,
// CSV and code; Carlito (Calibri's widths) sets Markdown and spreadsheets.
const (
	styleMono = iota
	styleRegular
	styleBold
	styleItalic
	styleBoldItalic
)

// styleOf returns the Carlito style for bold and italic.
func styleOf(bold, italic bool) int {
	switch {
	case bold && italic:
		return styleBoldItalic
	case bold:
		return styleBold
	case italic:
		return styleItalic
	}
	return styleRegular
}

// rectPt is a rectangle in points from the page's top left.
type rectPt struct{ x0, y0, x1, y1 float64 }

func (r rectPt) empty() bool { return r.x1 <= r.x0 || r.y1 <= r.y0 }

// pixels returns r at scale pixels per point, its edges rounded; a thin
// rectangle (a rule, a border) keeps at least one pixel.
func (r rectPt) pixels(scale float64) image.Rectangle {
	p := image.Rect(int(math.Round(r.x0*scale)), int(math.Round(r.y0*scale)),
		int(math.Round(r.x1*scale)), int(math.Round(r.y1*scale)))
	if p.Dx() == 0 && r.x1 > r.x0 {
		p.Max.X++
	}
	if p.Dy() == 0 && r.y1 > r.y0 {
		p.Max.Y++
	}
	return p
}

// drawOp is one thing drawn on a page: a filled rectangle (text == ""), or
// a piece of text set on one line.
type drawOp struct {
	rect  rectPt     // the fill; for text, the clip (empty: the page)
	color color.RGBA // fill or ink
	text  string
	style int           // a style of the shaper
	size  float64       // em, in points
	x, y  float64       // pen start and baseline, in points
	dir   textshape.Dir // the text's paragraph direction
}

// fill returns an op filling r with c.
func fill(r rectPt, c color.RGBA) drawOp { return drawOp{rect: r, color: c} }

// laidDoc is a document laid out into pages of ops, all of one size.
type laidDoc struct {
	w, h      float64 // page size, in points
	pages     [][]drawOp
	shaper    *textshape.Shaper
	maxPixels int
}

func (d *laidDoc) Pages() int   { return max(1, len(d.pages)) }
func (d *laidDoc) Close() error { return nil }

// Render draws page (0-based) at dpi on white.
func (d *laidDoc) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	if page < 0 || page >= d.Pages() {
		return nil, fmt.Errorf("%w: page %d of %d", ErrPage, page+1, d.Pages())
	}
	var ops []drawOp
	if page < len(d.pages) {
		ops = d.pages[page]
	}
	return drawPage(ctx, d.shaper, d.w, d.h, ops, dpi, d.maxPixels)
}

// drawPage draws ops on a white page w × h points at dpi.
func drawPage(ctx context.Context, sh *textshape.Shaper, w, h float64, ops []drawOp, dpi float64, maxPixels int) (*image.RGBA, error) {
	if dpi <= 0 {
		dpi = 96
	}
	scale := dpi / 72
	pw, ph := int(math.Ceil(w*scale)), int(math.Ceil(h*scale))
	if pw*ph > maxPixels {
		return nil, fmt.Errorf("%w: %d dpi makes %d × %d pixels", ErrTooLarge, int(dpi), pw, ph)
	}
	img := image.NewRGBA(image.Rect(0, 0, pw, ph))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, op := range ops {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if op.text == "" {
			draw.Draw(img, op.rect.pixels(scale).Intersect(img.Rect), image.NewUniform(op.color), image.Point{}, draw.Over)
			continue
		}
		if err := drawText(sh, img, op, scale); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// drawText shapes op's text at its size in pixels and draws it, clipped
// to op.rect when it has one.
func drawText(sh *textshape.Shaper, img *image.RGBA, op drawOp, scale float64) error {
	em := op.size * scale
	line, err := shapeAt(sh, op.text, em, op.dir, op.style)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	dst := img
	if !op.rect.empty() {
		clip := op.rect.pixels(scale).Intersect(img.Rect)
		if clip.Empty() {
			return nil
		}
		dst = img.SubImage(clip).(*image.RGBA)
	}
	newPainter(dst, op.color).line(line, em, op.x*scale, math.Round(op.y*scale))
	return nil
}

// shapeAt shapes text (its letters covered) in style with advances of
// exactly em units per em. go-text's shaper rounds the size up to a whole
// number (11.3 px is shaped as 12 px), which would make text wider at
// some zooms than the layout measured it; so text is shaped at 64 times
// the size, rounded up, and its positions scaled back.
func shapeAt(sh *textshape.Shaper, text string, em float64, dir textshape.Dir, style int) (textshape.Line, error) {
	big := math.Ceil(em * 64)
	line, err := sh.ShapeStyle(covered(sh, text, style), floatToFixed(big), dir, style)
	if err != nil {
		return nil, err
	}
	k := em / big
	scale := func(v fixed.Int26_6) fixed.Int26_6 { return fixed.Int26_6(math.Round(float64(v) * k)) }
	for i := range line {
		run := &line[i]
		run.Advance, run.Size = scale(run.Advance), floatToFixed(em)
		for j := range run.Glyphs {
			g := &run.Glyphs[j]
			g.XAdvance, g.YAdvance, g.XOffset, g.YOffset = scale(g.XAdvance), scale(g.YAdvance), scale(g.XOffset), scale(g.YOffset)
			g.XBearing, g.YBearing, g.Width, g.Height = scale(g.XBearing), scale(g.YBearing), scale(g.Width), scale(g.Height)
		}
	}
	return line, nil
}

// covered returns text with each letter that neither style nor a
// fallback has replaced by U+FFFD, which the fallbacks draw: a page shows
// where a letter is rather than failing. Default-ignorable characters
// stay (shaping hides them).
func covered(sh *textshape.Shaper, text string, style int) string {
	missing := func(r rune) bool { return !sh.HasStyle(r, style) && !harfbuzz.IsDefaultIgnorable(r) }
	if strings.IndexFunc(text, missing) < 0 {
		return text
	}
	return strings.Map(func(r rune) rune {
		if missing(r) {
			return utf8.RuneError
		}
		return r
	}, text)
}

// measurer measures text in points, remembering what it measured.
type measurer struct {
	shaper *textshape.Shaper
	cache  map[measureKey]float64
}

type measureKey struct {
	text  string
	style int
	size  float64
}

func newMeasurer(sh *textshape.Shaper) *measurer {
	return &measurer{shaper: sh, cache: map[measureKey]float64{}}
}

// width returns the advance of text set in style at size points, in
// points.
func (m *measurer) width(text string, style int, size float64) float64 {
	k := measureKey{text, style, size}
	if w, ok := m.cache[k]; ok {
		return w
	}
	line, err := shapeAt(m.shaper, text, size, textshape.Auto, style)
	w := 0.0
	if err == nil {
		w = fixedToFloat(line.Width())
	}
	if len(m.cache) < 1<<16 {
		m.cache[k] = w
	}
	return w
}
