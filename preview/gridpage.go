package preview

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/xuri/excelize/v2"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// A workbook is printed as Excel shows it on screen, at 100%: each sheet
// its own run of landscape A4 pages, titled with its tab's name (and
// "hidden sheet" for a sheet Excel hides); the column letters and row
// numbers around the cells; columns and rows as wide and tall as the
// workbook makes them; gridlines, fills, borders, fonts, alignment,
// merged cells. A sheet wider or taller than a page continues down, then
// across (Excel's page order), and its frozen rows and columns (the
// panes that stay on screen as it scrolls) are repeated on every page.
// Runs of more than xlsxGap empty rows or columns fold into one narrow
// band that says so; hidden rows and columns are not shown, as in Excel.
const (
	gridPageW, gridPageH = 842.0, 595.0 // A4 landscape, points
	gridMargin           = 24.0
	gridTitle            = 22.0 // the title band
	gridHeadH            = 15.0 // the column letters
	gridFold             = 13.0 // a folded run of rows or columns
	gridPad              = 2.0  // inside a cell, left and right
)

// dispRow is a row as shown: a row of the sheet, or a fold.
type dispRow struct {
	num    int      // the row's number; for a fold, the first row folded
	last   int      // for a fold, the last row folded; else 0
	height float64  // points
	row    *gridRow // nil for a row without values or look
}

// dispCol is a column as shown: a column of the sheet, or a fold.
type dispCol struct {
	col   int // for a fold, the first column folded
	last  int // for a fold, the last column folded; else 0
	width float64
	trail bool // an empty column after the last, shown only where it fits
}

// sheetView is a sheet laid out for pages.
type sheetView struct {
	g          *sheetGrid
	rows       []dispRow
	cols       []dispCol
	frozenRows int // how many of rows are frozen, at the top
	frozenCols int
	rowHead    float64 // width of the row numbers, points
	notes      []string
}

// gridPage is one page: a sheet's rows and columns (indices into its
// view, frozen ones first), or lines of notes.
type gridPage struct {
	view     *sheetView
	rows     []int
	cols     []int
	nth, of  int // the page's place among its sheet's pages, from 1
	notes    []string
	bookNote bool // the workbook's last page, saying which sheets are not shown
}

// gridDoc is a workbook's pages. Pages are laid out when opened (which
// rows and columns each shows) and drawn when asked for.
type gridDoc struct {
	pages     []gridPage
	looks     *lookCache
	shaper    *textshape.Shaper
	maxPixels int
}

func (d *gridDoc) Pages() int   { return max(1, len(d.pages)) }
func (d *gridDoc) Close() error { return nil }

// layoutWorkbook lays out every sheet read.
func layoutWorkbook(book *workbook, sh *textshape.Shaper, maxPixels int) Document {
	d := &gridDoc{looks: book.styles, shaper: sh, maxPixels: maxPixels}
	for _, g := range book.sheets {
		v := newSheetView(g, book.styles)
		d.pages = append(d.pages, v.pages()...)
	}
	if book.cut != "" {
		d.pages = append(d.pages, gridPage{notes: []string{book.cut}, bookNote: true})
	}
	return d
}

// digitWidth is the width of a digit of the workbook's default font, in
// pixels at 96 dpi, the unit column widths count in: Calibri's (and
// Carlito's) digits are 0.5068 em, so 7 px at 11 pt, 8 px at 12 pt.
func digitWidth(size float64) float64 { return math.Floor(0.5068 * size * 96 / 72) }

// colPoints converts a column width in characters (as a <col> gives it)
// to points, as Excel does: whole pixels of digitWidth digits plus the
// cell's padding.
func colPoints(chars, mdw float64) float64 {
	px := math.Floor((256*chars + math.Floor(128/mdw)) / 256 * mdw)
	return px * 72 / 96
}

func newSheetView(g *sheetGrid, looks *lookCache) *sheetView {
	v := &sheetView{g: g, notes: g.cutNotes()}
	size := looks.def.size
	mdw := digitWidth(size)
	defCol := 0.0
	switch {
	case g.look.defaultCol > 0:
		defCol = colPoints(g.look.defaultCol, mdw)
	default:
		base := g.look.baseCol
		if base <= 0 {
			base = 8
		}
		px := math.Ceil((base*mdw+5)/8) * 8 // Excel rounds the default up to 8 px
		defCol = px * 72 / 96
	}
	defRow := g.look.defaultRow
	if defRow <= 0 {
		defRow = math.Round(size * 1.36)
	}
	v.cols = dispCols(g, defCol, mdw)
	v.rows = dispRows(g, defRow)
	for _, c := range v.cols {
		if c.last == 0 && c.col <= g.look.frozenCols {
			v.frozenCols++
		}
	}
	for _, r := range v.rows {
		if r.last == 0 && r.num <= g.look.frozenRows {
			v.frozenRows++
		}
	}
	last := 1
	if n := len(v.rows); n > 0 {
		last = max(v.rows[n-1].num, v.rows[n-1].last)
	}
	v.rowHead = max(22, float64(len(strconv.Itoa(last)))*5.5+8)
	return v
}

// dispCols are the columns shown: those with values, the empty ones in
// gaps of at most xlsxGap between them (and before the first, from A),
// longer gaps folded, hidden columns left out.
func dispCols(g *sheetGrid, defCol, mdw float64) []dispCol {
	var out []dispCol
	add := func(col int) {
		l := g.look.colAt(col)
		if l.hidden {
			return
		}
		w := defCol
		if l.width > 0 {
			w = colPoints(l.width, mdw)
		}
		out = append(out, dispCol{col: col, width: w})
	}
	prev := 0
	for _, col := range g.cols {
		if gap := col - prev - 1; gap > xlsxGap {
			out = append(out, dispCol{col: prev + 1, last: col - 1, width: gridFold})
		} else {
			for c := prev + 1; c < col; c++ {
				add(c)
			}
		}
		add(col)
		prev = col
	}
	// A few empty columns after the last, for its text to run into.
	for c := prev + 1; c <= min(prev+xlsxGap, excelize.MaxColumns) && prev > 0; c++ {
		add(c)
		out[len(out)-1].trail = true
	}
	return out
}

// dispRows are the rows shown, as dispCols are the columns.
func dispRows(g *sheetGrid, defRow float64) []dispRow {
	var out []dispRow
	add := func(num int, r *gridRow) {
		h := defRow
		if r != nil {
			if r.hidden {
				return
			}
			if r.height > 0 {
				h = r.height
			}
		}
		out = append(out, dispRow{num: num, height: h, row: r})
	}
	prev := 0
	for i := range g.rows {
		r := &g.rows[i]
		if gap := r.num - prev - 1; gap > xlsxGap {
			out = append(out, dispRow{num: prev + 1, last: r.num - 1, height: gridFold})
		} else {
			for n := prev + 1; n < r.num; n++ {
				add(n, nil)
			}
		}
		add(r.num, r)
		prev = r.num
	}
	return out
}

// bands splits sizes (after the first frozen) into runs that fit in
// avail together with the frozen ones: each run is a page's share.
func bands(sizes []float64, frozen int, avail float64) [][]int {
	fixed := 0.0
	for _, s := range sizes[:frozen] {
		fixed += s
	}
	room := max(avail-fixed, avail/4) // frozen panes never take a whole page
	var out [][]int
	var cur []int
	used := 0.0
	for i := frozen; i < len(sizes); i++ {
		if used+sizes[i] > room && len(cur) > 0 {
			out = append(out, cur)
			cur, used = nil, 0
		}
		cur = append(cur, i)
		used += sizes[i]
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// pages lays the sheet out: down, then across.
func (v *sheetView) pages() []gridPage {
	if len(v.rows) == 0 || len(v.cols) == 0 {
		return []gridPage{{view: v, nth: 1, of: 1, notes: append([]string{"(no values)"}, v.notes...)}}
	}
	colSizes := make([]float64, len(v.cols))
	for i, c := range v.cols {
		colSizes[i] = c.width
	}
	rowSizes := make([]float64, len(v.rows))
	for i, r := range v.rows {
		rowSizes[i] = r.height
	}
	frozenCols, frozenRows := seq(v.frozenCols), seq(v.frozenRows)
	across := bands(colSizes, v.frozenCols, gridPageW-2*gridMargin-v.rowHead)
	if last := across[len(across)-1]; len(across) > 1 && v.cols[last[0]].trail {
		across = across[:len(across)-1] // no page of empty columns alone
	}
	down := bands(rowSizes, v.frozenRows, gridPageH-2*gridMargin-gridTitle-gridHeadH)
	var out []gridPage
	for _, cols := range across {
		for _, rows := range down {
			out = append(out, gridPage{view: v, rows: append(slices.Clone(frozenRows), rows...), cols: append(slices.Clone(frozenCols), cols...)})
		}
	}
	if len(v.notes) > 0 {
		out = append(out, gridPage{view: v, notes: v.notes})
	}
	for i := range out {
		out[i].nth, out[i].of = i+1, len(out)
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// colName is a column's letters, or a fold's range of them.
func (c dispCol) name() string {
	a, _ := excelize.ColumnNumberToName(c.col)
	if c.last == 0 {
		return a
	}
	b, _ := excelize.ColumnNumberToName(c.last)
	return a + "–" + b
}

// foldText says what a folded run of rows holds.
func (r dispRow) foldText() string {
	return fmt.Sprintf("⋮ rows %s to %s have no values", humanize.Comma(int64(r.num)), humanize.Comma(int64(r.last)))
}
