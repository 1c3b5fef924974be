package preview

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

var (
	gridLine    = color.RGBA{R: 218, G: 220, B: 224, A: 255} // Excel's gridlines
	gridHead    = color.RGBA{R: 240, G: 240, B: 240, A: 255}
	gridHeadInk = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	gridFoldBg  = color.RGBA{R: 246, G: 246, B: 246, A: 255}
	gridHidden  = color.RGBA{R: 176, G: 32, B: 32, A: 255}
	gridFormula = color.RGBA{R: 110, G: 110, B: 110, A: 255}
)

// Render draws page (0-based) at dpi.
func (d *gridDoc) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	if page < 0 || page >= d.Pages() {
		return nil, fmt.Errorf("%w: page %d of %d", ErrPage, page+1, d.Pages())
	}
	var ops []drawOp
	if page < len(d.pages) {
		ops = d.ops(d.pages[page])
	}
	return drawPage(ctx, d.shaper, gridPageW, gridPageH, ops, dpi, d.maxPixels)
}

// pageCell is a cell of a page: where it is and what it holds.
type pageCell struct {
	r       rectPt
	text    rectPt    // where its text may show, overflowing into empty neighbours; empty without text
	cell    *gridCell // nil: nothing written in it
	look    *cellLook
	covered bool   // inside a merged cell, not its first
	merged  rectPt // for a merged cell's first cell, the whole merged cell on this page
}

// gridPainter builds one page's operations.
type gridPainter struct {
	d    *gridDoc
	p    gridPage
	v    *sheetView
	m    *measurer
	ops  []drawOp
	xs   []float64 // left edge of each of p.cols
	ys   []float64 // top edge of each of p.rows
	grid rectPt    // the cells' area
}

func (d *gridDoc) ops(p gridPage) []drawOp {
	gp := &gridPainter{d: d, p: p, v: p.view, m: newMeasurer(d.shaper)}
	gp.title()
	if p.view == nil || len(p.notes) > 0 {
		gp.notes()
		return gp.ops
	}
	gp.place()
	cells := gp.cells()
	gp.textBoxes(cells)
	gp.gridlines(cells)
	gp.fills(cells)
	gp.borders(cells)
	gp.texts(cells)
	gp.headers()
	return gp.ops
}

func (gp *gridPainter) text(s string, style int, size float64, ink color.RGBA, x, y float64, clip rectPt) {
	gp.ops = append(gp.ops, drawOp{rect: clip, text: s, style: style, size: size, color: ink, x: x, y: y})
}

func (gp *gridPainter) fill(r rectPt, c color.RGBA) {
	if !r.empty() {
		gp.ops = append(gp.ops, fill(r, c))
	}
}

// title names the sheet, says if Excel hides it, and numbers the page.
func (gp *gridPainter) title() {
	y := gridMargin + 14
	if gp.p.bookNote || gp.v == nil {
		gp.text("Workbook", styleBold, 11, mdInk, gridMargin, y, rectPt{})
		return
	}
	name := clip(gp.v.g.name, 80)
	gp.text(name, styleBold, 11, mdInk, gridMargin, y, rectPt{})
	x := gridMargin + gp.m.width(name, styleBold, 11) + 8
	if gp.v.g.hidden {
		gp.text("hidden sheet", styleItalic, 9, gridHidden, x, y, rectPt{})
	}
	page := fmt.Sprintf("sheet page %d of %d", gp.p.nth, gp.p.of)
	gp.text(page, styleRegular, 8, gridHeadInk, gridPageW-gridMargin-gp.m.width(page, styleRegular, 8), y, rectPt{})
}

// notes writes lines of notes under the title.
func (gp *gridPainter) notes() {
	y := gridMargin + gridTitle + 14
	for _, n := range gp.p.notes {
		gp.text(n, styleItalic, 10, gridHeadInk, gridMargin, y, rectPt{0, 0, gridPageW - gridMargin, gridPageH})
		y += 16
	}
}

// place computes the edges of the page's columns and rows.
func (gp *gridPainter) place() {
	x := gridMargin + gp.v.rowHead
	for _, c := range gp.p.cols {
		gp.xs = append(gp.xs, x)
		x += gp.v.cols[c].width
	}
	right := min(x, gridPageW-gridMargin)
	y := gridMargin + gridTitle + gridHeadH
	for _, r := range gp.p.rows {
		gp.ys = append(gp.ys, y)
		y += gp.v.rows[r].height
	}
	gp.grid = rectPt{gridMargin + gp.v.rowHead, gridMargin + gridTitle + gridHeadH, right, min(y, gridPageH-gridMargin)}
}

func (gp *gridPainter) colRect(i int) (float64, float64) {
	return gp.xs[i], gp.xs[i] + gp.v.cols[gp.p.cols[i]].width
}

func (gp *gridPainter) rowRect(j int) (float64, float64) {
	return gp.ys[j], gp.ys[j] + gp.v.rows[gp.p.rows[j]].height
}

// cells resolves every cell of the page: its place, value, look, and
// the merged cells over it.
func (gp *gridPainter) cells() [][]pageCell {
	looks := gp.d.looks
	out := make([][]pageCell, len(gp.p.rows))
	for j, ri := range gp.p.rows {
		dr := gp.v.rows[ri]
		out[j] = make([]pageCell, len(gp.p.cols))
		y0, y1 := gp.rowRect(j)
		for i, ci := range gp.p.cols {
			dc := gp.v.cols[ci]
			x0, x1 := gp.colRect(i)
			pc := pageCell{r: rectPt{x0, y0, x1, y1}, look: &looks.def}
			if dr.last > 0 || dc.last > 0 {
				out[j][i] = pc
				continue
			}
			style := gp.v.g.look.colAt(dc.col).style
			if dr.row != nil {
				if dr.row.style != 0 {
					style = dr.row.style
				}
				cells := dr.row.cells
				if k, ok := slices.BinarySearchFunc(cells, dc.col, func(c gridCell, col int) int { return c.col - col }); ok {
					pc.cell = &cells[k]
					style = cells[k].style
				}
			}
			pc.look = looks.get(style)
			out[j][i] = pc
		}
	}
	gp.merge(out)
	return out
}

// merge marks the merged cells that reach the page: the first cell shown
// of each takes the whole merged area (on this page), the others are
// covered.
func (gp *gridPainter) merge(cells [][]pageCell) {
	if len(cells) == 0 {
		return
	}
	for _, m := range gp.v.g.look.merges {
		var js, is []int
		for j, ri := range gp.p.rows {
			if r := gp.v.rows[ri]; r.last == 0 && m.r0 <= r.num && r.num <= m.r1 {
				js = append(js, j)
			}
		}
		for i, ci := range gp.p.cols {
			if c := gp.v.cols[ci]; c.last == 0 && m.c0 <= c.col && c.col <= m.c1 {
				is = append(is, i)
			}
		}
		if len(js) == 0 || len(is) == 0 || (len(js) == 1 && len(is) == 1) {
			continue
		}
		slices.Sort(js)
		slices.Sort(is)
		first := &cells[js[0]][is[0]]
		first.merged = rectPt{first.r.x0, first.r.y0, cells[js[0]][is[len(is)-1]].r.x1, cells[js[len(js)-1]][is[0]].r.y1}
		// The merged cell shows its first cell's value, wherever the page
		// starts it.
		if first.cell == nil || first.cell.kind == kindEmpty {
			if anchor := gp.cellAt(m.r0, m.c0); anchor != nil {
				first.cell = anchor
				first.look = gp.d.looks.get(anchor.style)
			}
		}
		for _, j := range js {
			for _, i := range is {
				if j != js[0] || i != is[0] {
					cells[j][i].covered = true
				}
			}
		}
	}
}

// cellAt finds a cell of the sheet by its row and column.
func (gp *gridPainter) cellAt(row, col int) *gridCell {
	rows := gp.v.g.rows
	k, ok := slices.BinarySearchFunc(rows, row, func(r gridRow, n int) int { return r.num - n })
	if !ok {
		return nil
	}
	cells := rows[k].cells
	i, ok := slices.BinarySearchFunc(cells, col, func(c gridCell, col int) int { return c.col - col })
	if !ok {
		return nil
	}
	return &cells[i]
}

// gridlines draws Excel's light lines between cells (under fills, which
// hide them, as Excel does) and the folds.
func (gp *gridPainter) gridlines(cells [][]pageCell) {
	for j, ri := range gp.p.rows {
		if gp.v.rows[ri].last > 0 {
			y0, y1 := gp.rowRect(j)
			gp.fill(rectPt{gp.grid.x0, y0, gp.grid.x1, y1}, gridFoldBg)
		}
	}
	for i, ci := range gp.p.cols {
		if gp.v.cols[ci].last > 0 {
			x0, x1 := gp.colRect(i)
			gp.fill(rectPt{x0, gp.grid.y0, x1, gp.grid.y1}, gridFoldBg)
		}
	}
	for _, row := range cells {
		// Text running over empty cells hides the lines it crosses.
		var spans []rectPt
		for _, c := range row {
			if !c.text.empty() && (c.text.x0 < c.r.x0 || c.text.x1 > c.r.x1) {
				spans = append(spans, c.text)
			}
		}
		for _, c := range row {
			if c.covered {
				continue
			}
			r := c.r
			if !c.merged.empty() {
				r = c.merged
			}
			crossed := false
			for _, s := range spans {
				crossed = crossed || (s.x0 < r.x1-0.01 && r.x1+0.01 < s.x1)
			}
			if !crossed {
				gp.fill(rectPt{r.x1 - 0.5, r.y0, r.x1, r.y1}, gridLine)
			}
			gp.fill(rectPt{r.x0, r.y1 - 0.5, r.x1, r.y1}, gridLine)
		}
	}
}

func (gp *gridPainter) fills(cells [][]pageCell) {
	for _, row := range cells {
		for _, c := range row {
			if c.covered || c.look.fill.A == 0 {
				continue
			}
			r := c.r
			if !c.merged.empty() {
				r = c.merged
			}
			gp.fill(r, c.look.fill)
		}
	}
}

// borders draws each cell's borders on its edges.
func (gp *gridPainter) borders(cells [][]pageCell) {
	for _, row := range cells {
		for _, c := range row {
			r := c.r
			b := c.look.borders
			gp.line(r.x0, r.y0, r.x0, r.y1, b[0])
			gp.line(r.x1, r.y0, r.x1, r.y1, b[1])
			gp.line(r.x0, r.y0, r.x1, r.y0, b[2])
			gp.line(r.x0, r.y1, r.x1, r.y1, b[3])
		}
	}
}

// line draws a horizontal or vertical border line centred on its edge.
func (gp *gridPainter) line(x0, y0, x1, y1 float64, b borderLine) {
	if b.width == 0 {
		return
	}
	h := b.width / 2
	segment := func(a, z float64) {
		if y0 == y1 {
			if b.twice {
				gp.fill(rectPt{a, y0 - h, z, y0 - h + 0.6}, b.color)
				gp.fill(rectPt{a, y0 + h - 0.6, z, y0 + h}, b.color)
				return
			}
			gp.fill(rectPt{a, y0 - h, z, y0 + h}, b.color)
			return
		}
		if b.twice {
			gp.fill(rectPt{x0 - h, a, x0 - h + 0.6, z}, b.color)
			gp.fill(rectPt{x0 + h - 0.6, a, x0 + h, z}, b.color)
			return
		}
		gp.fill(rectPt{x0 - h, a, x0 + h, z}, b.color)
	}
	from, to := x0, x1
	if x0 == x1 {
		from, to = y0, y1
	}
	if b.dash == 0 {
		segment(from, to)
		return
	}
	for a := from; a < to; a += 2 * b.dash {
		segment(a, min(a+b.dash, to))
	}
}

// headers draws the column letters and the row numbers.
func (gp *gridPainter) headers() {
	top := gridMargin + gridTitle
	left := gridMargin
	gp.fill(rectPt{left, top, gp.grid.x1, top + gridHeadH}, gridHead)
	gp.fill(rectPt{left, top, left + gp.v.rowHead, gp.grid.y1}, gridHead)
	for i, ci := range gp.p.cols {
		x0, x1 := gp.colRect(i)
		name := gp.v.cols[ci].name()
		if gp.v.cols[ci].last > 0 {
			name = "⋯"
		}
		w := gp.m.width(name, styleRegular, 8.5)
		gp.text(name, styleRegular, 8.5, gridHeadInk, x0+(x1-x0-w)/2, top+gridHeadH-4, rectPt{x0, top, x1, top + gridHeadH})
		gp.fill(rectPt{x1 - 0.5, top, x1, top + gridHeadH}, gridLine)
		if i == gp.v.frozenCols-1 && len(gp.p.cols) > gp.v.frozenCols {
			gp.fill(rectPt{x1 - 0.6, top, x1 + 0.6, gp.grid.y1}, gridHeadInk) // the frozen pane's edge
		}
	}
	for j, ri := range gp.p.rows {
		y0, y1 := gp.rowRect(j)
		r := gp.v.rows[ri]
		label := strconv.Itoa(r.num)
		size := 8.5
		if r.last > 0 {
			gp.text(r.foldText(), styleItalic, 8, gridHeadInk, gp.grid.x0+4, y1-3.5, rectPt{gp.grid.x0, y0, gp.grid.x1, y1})
			label, size = "⋮", 8
		}
		w := gp.m.width(label, styleRegular, size)
		gp.text(label, styleRegular, size, gridHeadInk, left+gp.v.rowHead-4-w, y1-3.5, rectPt{left, y0, left + gp.v.rowHead, y1})
		gp.fill(rectPt{left, y1 - 0.5, left + gp.v.rowHead, y1}, gridLine)
		if j == gp.v.frozenRows-1 && len(gp.p.rows) > gp.v.frozenRows {
			gp.fill(rectPt{left, y1 - 0.6, gp.grid.x1, y1 + 0.6}, gridHeadInk)
		}
	}
}

// textBoxes finds where each cell's text may show: its cell (or merged
// cell), or for text that does not fit and does not wrap, the empty
// cells beside it as far as it needs.
func (gp *gridPainter) textBoxes(cells [][]pageCell) {
	for j, row := range cells {
		for i := range row {
			c := &row[i]
			if c.covered || c.cell == nil || c.cell.kind == kindEmpty || c.cell.text == "" {
				continue
			}
			c.text = c.r
			if !c.merged.empty() {
				c.text = c.merged
				continue
			}
			l := c.look
			if l.wrap || l.shrink || c.cell.kind == kindNumber {
				continue
			}
			style, _ := gp.styleInk(c)
			avail := c.r.x1 - c.r.x0 - 2*gridPad - float64(l.indent)*7.5
			if w := gp.m.width(flatten(c.cell.text), style, l.size); w > avail {
				c.text = gp.overflow(cells, j, i, gp.align(c), w-avail)
			}
		}
	}
}

// styleInk is the style and ink a cell's text is set in: a formula shown
// as its text (no result was cached) in grey italics.
func (gp *gridPainter) styleInk(c *pageCell) (int, color.RGBA) {
	if c.cell.kind == kindFormula {
		bold := c.look.style == styleBold || c.look.style == styleBoldItalic
		return styleOf(bold, true), gridFormula
	}
	return c.look.style, c.look.ink
}

// align is a cell's horizontal alignment, General resolved by its kind:
// numbers right, booleans and errors centred, text left.
func (gp *gridPainter) align(c *pageCell) string {
	switch a := c.look.hAlign; a {
	case "left", "right", "center":
		return a
	case "centerContinuous":
		return "center"
	}
	switch c.cell.kind {
	case kindNumber:
		return "right"
	case kindBool, kindError:
		return "center"
	}
	return "left"
}

// texts sets each cell's text in its cell, as Excel would.
func (gp *gridPainter) texts(cells [][]pageCell) {
	for j, row := range cells {
		for i := range row {
			c := &row[i]
			if c.covered || c.cell == nil || c.cell.kind == kindEmpty || c.cell.text == "" {
				continue
			}
			gp.cellText(cells, j, i)
		}
	}
}

// cellText sets one cell's text: aligned, wrapped or overflowing into
// empty neighbours, numbers too wide shown as ####, clipped.
func (gp *gridPainter) cellText(cells [][]pageCell, j, i int) {
	c := &cells[j][i]
	l, cell := c.look, c.cell
	box := c.r
	if !c.merged.empty() {
		box = c.merged
	}
	style, ink := gp.styleInk(c)
	size := l.size
	indent := float64(l.indent) * 7.5
	avail := box.x1 - box.x0 - 2*gridPad - indent
	align := gp.align(c)
	var lines []string
	if l.wrap {
		lines = gp.wrapCell(cell.text, style, size, avail)
	} else {
		lines = []string{flatten(cell.text)}
		w := gp.m.width(lines[0], style, size)
		switch {
		case cell.kind == kindNumber && w > avail:
			hash := gp.m.width("#", style, size)
			lines[0] = strings.Repeat("#", max(1, int(avail/max(hash, 0.1))))
		case l.shrink && w > avail && w > 0:
			size = max(size*avail/w, size/2)
		case w > avail:
			box = c.text
		}
	}
	lead := size * 1.22
	var y float64
	switch l.vAlign {
	case "top":
		y = box.y0 + 1 + size*0.95
	case "center":
		y = (box.y0+box.y1)/2 - float64(len(lines))*lead/2 + size*0.95
	default:
		y = box.y1 - 2 - size*0.22 - float64(len(lines)-1)*lead
	}
	clip := rectPt{max(box.x0, gp.grid.x0), box.y0, min(box.x1, gp.grid.x1), box.y1}
	for _, ln := range lines {
		w := gp.m.width(ln, style, size)
		x := c.r.x0 + gridPad + indent
		switch align {
		case "right":
			x = c.r.x1 - gridPad - indent - w
			if !c.merged.empty() {
				x = box.x1 - gridPad - indent - w
			}
		case "center":
			x = (box.x0+box.x1)/2 - w/2
		}
		gp.text(ln, style, size, ink, x, y, clip)
		if l.underline {
			gp.fill(rectPt{x, y + size*0.1, x + w, y + size*0.1 + max(size*0.06, 0.5)}, ink)
		}
		if l.strike {
			gp.fill(rectPt{x, y - size*0.3, x + w, y - size*0.3 + max(size*0.06, 0.5)}, ink)
		}
		y += lead
	}
}

// overflow widens a cell's box over the empty cells beside it, as far as
// its text needs (excess points beyond the cell) and the page allows:
// rightwards for text aligned left, leftwards for right, both for centred.
func (gp *gridPainter) overflow(cells [][]pageCell, j, i int, align string, excess float64) rectPt {
	row := cells[j]
	box := row[i].r
	free := func(k int) bool {
		c := row[k]
		return !c.covered && c.merged.empty() && (c.cell == nil || c.cell.kind == kindEmpty)
	}
	need := excess
	if align == "center" {
		need = excess / 2
	}
	if align != "right" {
		for k, got := i+1, 0.0; k < len(row) && got < need && free(k); k++ {
			box.x1, got = row[k].r.x1, got+row[k].r.x1-row[k].r.x0
		}
	}
	if align != "left" {
		for k, got := i-1, 0.0; k >= 0 && got < need && free(k); k-- {
			box.x0, got = row[k].r.x0, got+row[k].r.x1-row[k].r.x0
		}
	}
	return box
}

// wrapCell breaks text into lines of at most width points, at spaces and
// line ends (and between letters when a word is wider).
func (gp *gridPainter) wrapCell(text string, style int, size, width float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line := ""
		for _, word := range strings.FieldsFunc(para, unicode.IsSpace) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if gp.m.width(try, style, size) <= width || line == "" {
				line = try
				continue
			}
			out = append(out, line)
			line = word
		}
		out = append(out, line)
		if len(out) > 200 {
			break
		}
	}
	return out
}

// flatten makes a cell's text one line, as Excel shows a cell that does
// not wrap.
func flatten(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
