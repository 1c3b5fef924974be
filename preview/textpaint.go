package preview

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/font/opentype"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/vector"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// painter draws shaped lines on a page. Outlines of a line are filled
// together by one rasterizer the width of the page and the height of a
// line's band, reused line after line: go-text's render package makes a
// rasterizer the size of the whole image for every run, which cost 600 MB
// of allocations for one page at 150 dpi. Colour bitmaps (emoji) are
// scaled onto the page. (The outline walk is go-text/render's, which is
// BSD-licensed.)
type painter struct {
	page    *image.RGBA
	ras     vector.Rasterizer
	ink     *image.Uniform
	decoded map[glyphKey]*image.RGBA // bitmaps decoded and scaled for this page
}

type glyphKey struct {
	face *font.Face
	gid  font.GID
	size image.Point // as scaled
}

func newPainter(page *image.RGBA, ink color.RGBA) *painter {
	return &painter{page: page, ink: image.NewUniform(ink), decoded: map[glyphKey]*image.RGBA{}}
}

// line draws line set at em pixels per em with its pen starting at x and
// its baseline at y (pixels). What reaches more than 1.4 em above the
// baseline or 0.6 em below it is clipped.
func (p *painter) line(line textshape.Line, em, x, y float64) {
	b := p.page.Rect
	top := max(b.Min.Y, int(math.Floor(y-1.4*em)))
	bottom := min(b.Max.Y, int(math.Ceil(y+0.6*em)))
	if bottom <= top {
		return
	}
	band := p.page.SubImage(image.Rect(b.Min.X, top, b.Max.X, bottom)).(*image.RGBA)
	p.ras.Reset(b.Dx(), bottom-top)
	oy := y - float64(top)
	type bitmapAt struct {
		key    glyphKey
		g      font.GlyphBitmap
		bounds image.Rectangle
	}
	var bitmaps []bitmapAt
	pen := x - float64(b.Min.X)
	for _, run := range line {
		scale := float32(em / float64(run.Face.Upem()))
		for _, g := range run.Glyphs {
			gx := float32(pen + fixedToFloat(g.XOffset))
			gy := float32(oy - fixedToFloat(g.YOffset))
			switch d := run.Face.GlyphData(g.GlyphID).(type) {
			case font.GlyphOutline:
				p.outline(d, scale, gx, gy)
			case font.GlyphBitmap:
				// Placed by the extents the shaper measured, in pixels.
				x0, y0 := float64(gx), float64(gy)-fixedToFloat(g.YBearing)
				r := image.Rect(int(math.Round(x0)), int(math.Round(y0)),
					int(math.Round(x0+fixedToFloat(g.Width))), int(math.Round(y0-fixedToFloat(g.Height))))
				bitmaps = append(bitmaps, bitmapAt{glyphKey{face: run.Face, gid: g.GlyphID}, d, r.Add(image.Pt(b.Min.X, top))})
			}
			pen += fixedToFloat(g.XAdvance)
		}
	}
	p.ras.Draw(band, band.Bounds(), p.ink, image.Point{})
	for _, bm := range bitmaps {
		p.bitmap(bm.key, bm.g, bm.bounds)
	}
}

// outline adds a glyph's outline, in font units scaled by scale, with its
// origin at (x, y) in the band (y down).
func (p *painter) outline(o font.GlyphOutline, scale, x, y float32) {
	pt := func(a opentype.SegmentPoint) (float32, float32) { return a.X*scale + x, -a.Y*scale + y }
	open := false
	for _, s := range o.Segments {
		switch s.Op {
		case opentype.SegmentOpMoveTo:
			if open {
				p.ras.ClosePath()
			}
			p.ras.MoveTo(pt(s.Args[0]))
			open = true
		case opentype.SegmentOpLineTo:
			p.ras.LineTo(pt(s.Args[0]))
		case opentype.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			p.ras.QuadTo(x1, y1, x2, y2)
		case opentype.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x3, y3 := pt(s.Args[2])
			p.ras.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	if open {
		p.ras.ClosePath()
	}
}

// bitmap scales a PNG glyph (the only bitmap format the embedded emoji
// font has) into r on the page, decoding and scaling each glyph once a
// page; a bitmap
// that does not decode, or would be larger than 512 pixels a side, is
// left out.
func (p *painter) bitmap(key glyphKey, g font.GlyphBitmap, r image.Rectangle) {
	if g.Format != font.PNG || r.Empty() || r.Dx() > 512 || r.Dy() > 512 {
		return
	}
	key.size = r.Size()
	img, ok := p.decoded[key]
	if !ok {
		if src, err := png.Decode(bytes.NewReader(g.Data)); err == nil {
			scaled := image.NewRGBA(image.Rectangle{Max: key.size})
			xdraw.BiLinear.Scale(scaled, scaled.Rect, src, src.Bounds(), xdraw.Src, nil)
			img = scaled
		}
		p.decoded[key] = img
	}
	if img == nil {
		return
	}
	draw.Draw(p.page, r, img, image.Point{}, draw.Over)
}
