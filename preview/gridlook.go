package preview

import (
	"image/color"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// cellLook is how a cell style draws: what excelize reads of it, resolved
// (theme and indexed colours to RGB) into what a page needs.
type cellLook struct {
	size              float64 // font size, points
	style             int     // shaper style: bold, italic
	ink               color.RGBA
	underline, strike bool
	fill              color.RGBA // A = 0: none
	// borders: left, right, top, bottom.
	borders [4]borderLine
	hAlign  string // "", "left", "center", "right", "fill", "justify", "centerContinuous", "distributed"
	vAlign  string // "", "top", "center", "bottom"
	wrap    bool
	shrink  bool
	indent  int
}

// borderLine is one side of a cell's border.
type borderLine struct {
	width float64 // points; 0: none
	color color.RGBA
	dash  float64 // length of dashes and gaps, points; 0: solid
	twice bool    // double
}

// borderStyles maps excelize's border style numbers (the order of
// SpreadsheetML's ST_BorderStyle) to lines: width in points, dash length.
var borderStyles = [...]struct {
	width, dash float64
	twice       bool
}{
	{0, 0, false},       // none
	{0.75, 0, false},    // thin
	{1.5, 0, false},     // medium
	{0.75, 3, false},    // dashed
	{0.75, 0.75, false}, // dotted
	{2.25, 0, false},    // thick
	{2.25, 0, true},     // double
	{0.5, 0, false},     // hair
	{1.5, 3, false},     // mediumDashed
	{0.75, 4, false},    // dashDot
	{1.5, 4, false},     // mediumDashDot
	{0.75, 2, false},    // dashDotDot
	{1.5, 2, false},     // mediumDashDotDot
	{1.5, 4, false},     // slantDashDot
}

// patternShare is how much of a cell each pattern fill covers with its
// foreground colour (patterns are drawn as that colour blended on white).
var patternShare = map[int]float64{
	1: 1, 2: 0.5, 3: 0.75, 4: 0.25, 17: 0.125, 18: 0.0625, // solid and the greys
}

// lookCache resolves the styles a workbook's sheets use, while excelize
// has the workbook open, and then serves them without it.
type lookCache struct {
	f     *excelize.File
	looks map[int]*cellLook
	def   cellLook // style 0: the workbook's default font
}

func newLookCache(f *excelize.File) *lookCache {
	c := &lookCache{f: f, looks: map[int]*cellLook{}, def: cellLook{size: 11, style: styleRegular, ink: color.RGBA{A: 255}}}
	if l := c.resolve(0); l != nil {
		c.def = *l
	}
	return c
}

// load resolves every style the sheets' cells, rows and columns use, then
// lets go of the workbook.
func (c *lookCache) load(sheets []*sheetGrid) {
	for _, g := range sheets {
		for _, r := range g.rows {
			c.add(r.style)
			for _, cell := range r.cells {
				c.add(cell.style)
			}
		}
		for _, col := range g.look.cols {
			c.add(col.style)
		}
	}
	c.f = nil
}

func (c *lookCache) add(style int) {
	if _, ok := c.looks[style]; ok || style <= 0 || len(c.looks) >= 1<<16 {
		return
	}
	c.looks[style] = c.resolve(style)
}

// get returns the look of style; unknown styles look like the default.
func (c *lookCache) get(style int) *cellLook {
	if l := c.looks[style]; l != nil {
		return l
	}
	return &c.def
}

func (c *lookCache) resolve(style int) *cellLook {
	st, err := c.f.GetStyle(style)
	if err != nil || st == nil {
		return nil
	}
	l := &cellLook{size: c.def.size, style: styleRegular, ink: color.RGBA{A: 255}}
	if style == 0 {
		l.size = 11
	}
	if fnt := st.Font; fnt != nil {
		if fnt.Size >= 1 && fnt.Size <= 409 {
			l.size = fnt.Size
		}
		l.style = styleOf(fnt.Bold, fnt.Italic)
		l.underline = fnt.Underline != "" && fnt.Underline != "none"
		l.strike = fnt.Strike
		if rgb, ok := c.color(fnt.Color, fnt.ColorIndexed, fnt.ColorTheme, fnt.ColorTint); ok {
			l.ink = rgb
		}
	}
	if fl := st.Fill; len(fl.Color) > 0 {
		share := 1.0
		if fl.Type == "pattern" {
			share = patternShare[fl.Pattern]
		}
		if rgb, ok := parseHex(fl.Color[0]); ok && share > 0 {
			l.fill = blendWhite(rgb, share)
		}
	}
	for _, b := range st.Border {
		side := map[string]int{"left": 0, "right": 1, "top": 2, "bottom": 3}
		i, ok := side[b.Type]
		if !ok || b.Style <= 0 || b.Style >= len(borderStyles) {
			continue
		}
		bs := borderStyles[b.Style]
		ink, ok := parseHex(b.Color)
		if !ok {
			ink = color.RGBA{A: 255}
		}
		l.borders[i] = borderLine{width: bs.width, color: ink, dash: bs.dash, twice: bs.twice}
	}
	if a := st.Alignment; a != nil {
		l.hAlign, l.vAlign, l.wrap, l.shrink = a.Horizontal, a.Vertical, a.WrapText, a.ShrinkToFit
		l.indent = min(max(a.Indent, 0), 15)
	}
	return l
}

// color resolves a font colour: explicit RGB, theme (with tint) or
// indexed.
func (c *lookCache) color(hex string, indexed int, theme *int, tint float64) (color.RGBA, bool) {
	base := c.f.GetBaseColor(hex, indexed, theme)
	if len(base) == 8 {
		base = base[2:]
	}
	if _, ok := parseHex(base); !ok {
		return color.RGBA{}, false
	}
	if tint != 0 && tint >= -1 && tint <= 1 {
		base = excelize.ThemeColor(base, tint)
	}
	return parseHex(base)
}

// parseHex reads RRGGBB or AARRGGBB.
func parseHex(s string) (color.RGBA, bool) {
	s = strings.TrimPrefix(s, "#")
	if len(s) == 8 {
		s = s[2:]
	}
	if len(s) != 6 {
		return color.RGBA{}, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}, true
}

// blendWhite returns c covering share of white.
func blendWhite(c color.RGBA, share float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(float64(v)*share + 255*(1-share) + 0.5) }
	return color.RGBA{R: mix(c.R), G: mix(c.G), B: mix(c.B), A: 255}
}
