package preview

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
	"github.com/xuri/excelize/v2"
)

// A workbook preview reads each sheet's XML once, as a stream (sheetread.go),
// and keeps only what it shows, so memory and time are bounded by the
// budgets below whatever the workbook claims: its used range, its row
// numbers, its column letters. Where a budget stops the reading, the page
// says so.
const (
	// xlsxMaxRows is how many rows with values a preview shows, over all
	// the sheets of a workbook.
	xlsxMaxRows = 20000
	// xlsxMaxCols is how many columns with values a preview shows of a
	// sheet: the leftmost ones.
	xlsxMaxCols = 64
	// xlsxMaxCellRunes is where a cell's text is clipped in the text form
	// of a grid (XLSXText), in columns (a Chinese letter takes two).
	xlsxMaxCellRunes = 16
	// xlsxMaxCellBytes bounds the text kept of a cell for its page: more
	// than a cell can show.
	xlsxMaxCellBytes = 4096
	// xlsxMaxCells bounds the cells read (decoded, with a value or not)
	// over all sheets.
	xlsxMaxCells = 8 << 20
	// xlsxMaxSteps bounds the rows read (decoded, with values or not) over
	// all sheets.
	xlsxMaxSteps = 4 << 20
	// xlsxMaxSheets bounds the sheets read.
	xlsxMaxSheets = 256
	// xlsxMaxStyled bounds the cells without a value kept for their look
	// (a fill, a border) over all sheets.
	xlsxMaxStyled = 1 << 20
	// xlsxGap is the longest run of empty rows or columns shown as such
	// between two with values; a longer run is folded into one line.
	xlsxGap = 3
)

// xlsxBudget is what remains of a workbook preview's budgets.
type xlsxBudget struct {
	rows, cells, steps, styled int
	// xml is how many bytes of XML the sheets still to read may be
	// charged. Several sheets may name the same part, so each sheet is
	// charged the size of the largest part.
	xml, charge int64
}

func newXLSXBudget(largestPart int64) *xlsxBudget {
	return &xlsxBudget{rows: xlsxMaxRows, cells: xlsxMaxCells, steps: xlsxMaxSteps, styled: xlsxMaxStyled,
		xml: xlsxUnzipLimit, charge: largestPart}
}

// spent says why no further sheet may be read, or "".
func (b *xlsxBudget) spent(sheetsRead int) string {
	switch {
	case b.rows <= 0:
		return fmt.Sprintf("a preview shows at most %s rows of a workbook", humanize.Comma(xlsxMaxRows))
	case b.cells <= 0 || b.steps <= 0:
		return "the rows read already fill a preview"
	case sheetsRead >= xlsxMaxSheets:
		return fmt.Sprintf("a preview shows at most %d sheets", xlsxMaxSheets)
	case sheetsRead > 0 && b.xml < b.charge:
		return "the workbook is too large for a preview of every sheet"
	}
	return ""
}

// sheetGrid is what a preview shows of one sheet.
type sheetGrid struct {
	name   string
	hidden bool // hidden (or very hidden) in Excel
	// rows are the rows shown, ascending: those with values, and the empty
	// ones (with a look of their own, or none) in gaps of at most xlsxGap
	// rows between them.
	rows []gridRow
	// seen has bit c-1 set for every column c holding a value in the
	// rows read.
	seen [excelize.MaxColumns / 64]uint64
	// cols are the leftmost xlsxMaxCols columns of seen, ascending. A
	// column not among them when a row is read can never be, so a row
	// keeps only its cells in cols (and those near them, for their look).
	cols []int
	look sheetLook

	cut    int    // the first row not read when the reading stopped early, else 0
	why    string // why it stopped
	usedTo int    // the last row of the sheet's used range, as the sheet claims it
}

type gridRow struct {
	num    int
	values bool    // holds a value
	height float64 // points; 0: the sheet's default
	hidden bool
	style  int // the row's own style for its empty cells, else 0
	cells  []gridCell
}

// cellKind says how a cell's text reads.
type cellKind uint8

const (
	kindText    cellKind = iota
	kindNumber           // a number, date or time: right-aligned, #### when too wide
	kindBool             // TRUE, FALSE: centred
	kindError            // #DIV/0! and the like: centred
	kindFormula          // a formula without a cached result, shown as its text
	kindEmpty            // no value: kept for its look
)

type gridCell struct {
	col   int
	text  string // at most xlsxMaxCellBytes, cut at a letter
	style int
	kind  cellKind
}

func (g *sheetGrid) stop(num int, why string) { g.cut, g.why = num, why }

// note records that column col (1-based) holds a value.
func (g *sheetGrid) note(col int) {
	word, bit := (col-1)/64, uint64(1)<<((col-1)%64)
	if g.seen[word]&bit != 0 {
		return
	}
	g.seen[word] |= bit
	if i, _ := slices.BinarySearch(g.cols, col); i < xlsxMaxCols {
		g.cols = slices.Insert(g.cols, i, col)[:min(len(g.cols)+1, xlsxMaxCols)]
	}
}

// keeps reports whether a cell of column col, read now, may be shown: it
// is among the columns with values so far, or close enough to them to
// lie in a gap shown.
func (g *sheetGrid) keeps(col int) bool {
	return len(g.cols) < xlsxMaxCols || col <= g.cols[len(g.cols)-1]+xlsxGap
}

// hiddenCols returns how many columns with values are not shown.
func (g *sheetGrid) hiddenCols() int {
	n := 0
	for _, w := range g.seen {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n - len(g.cols)
}

// cutNotes are the lines that say what of the sheet is not shown.
func (g *sheetGrid) cutNotes() []string {
	var out []string
	if n := g.hiddenCols(); n > 0 {
		first := 0
		for col := g.cols[len(g.cols)-1] + 1; col <= excelize.MaxColumns && first == 0; col++ {
			if g.seen[(col-1)/64]&(1<<((col-1)%64)) != 0 {
				first = col
			}
		}
		name, _ := excelize.ColumnNumberToName(first)
		out = append(out, fmt.Sprintf("… %s more columns not shown, from column %s on: a preview shows at most %d columns",
			humanize.Comma(int64(n)), name, xlsxMaxCols))
	}
	if g.cut > 0 {
		if g.usedTo >= g.cut {
			out = append(out, fmt.Sprintf("… up to %s more rows not shown (rows %s to %s of the used range): %s",
				humanize.Comma(int64(g.usedTo-g.cut+1)), humanize.Comma(int64(g.cut)), humanize.Comma(int64(g.usedTo)), g.why))
		} else {
			out = append(out, fmt.Sprintf("… more rows not shown, from row %s on: %s", humanize.Comma(int64(g.cut)), g.why))
		}
	}
	return out
}

// write sets the grid as text, for tests and for what a page would say
// in words: column letters over the columns with values, row numbers
// before the rows with values, runs of more than two empty rows folded
// into one line, and a last line for every cut.
func (g *sheetGrid) write(b *strings.Builder) {
	var rows []gridRow
	for _, r := range g.rows {
		if r.values {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 && g.cut == 0 {
		b.WriteString("(no values)\n")
		return
	}
	shown := func(c gridCell) bool { return c.kind != kindEmpty }
	widths := make([]int, len(g.cols))
	for i, col := range g.cols {
		name, _ := excelize.ColumnNumberToName(col)
		widths[i] = len(name)
	}
	for _, r := range rows {
		for _, c := range r.cells {
			if i, ok := slices.BinarySearch(g.cols, c.col); ok && shown(c) {
				widths[i] = max(widths[i], cellWidth(clip(c.text, xlsxMaxCellRunes)))
			}
		}
	}
	label := 5
	if len(rows) > 0 {
		label = max(label, len(strconv.Itoa(rows[len(rows)-1].num)))
	}
	pad := func(s string, w int) string { return s + strings.Repeat(" ", max(0, w-cellWidth(s))) }
	line := func(num string, cells []gridCell) {
		var l strings.Builder
		l.WriteString(strings.Repeat(" ", label-len(num)) + num)
		for i, col := range g.cols {
			v := ""
			if j, ok := slices.BinarySearchFunc(cells, col, func(c gridCell, col int) int { return c.col - col }); ok && shown(cells[j]) {
				v = clip(cells[j].text, xlsxMaxCellRunes)
			}
			l.WriteString("│" + pad(v, widths[i]))
		}
		// Trailing padding would wrap into blank lines.
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	var header []gridCell
	for _, col := range g.cols {
		name, _ := excelize.ColumnNumberToName(col)
		header = append(header, gridCell{col: col, text: name})
	}
	line("", header)
	prev := 0
	for _, r := range rows {
		switch gap := r.num - prev - 1; {
		case gap > 2:
			fmt.Fprintf(b, "%s⋮ rows %s to %s have no values\n", strings.Repeat(" ", label-1),
				humanize.Comma(int64(prev+1)), humanize.Comma(int64(r.num-1)))
		case gap > 0:
			for n := prev + 1; n < r.num; n++ {
				line(strconv.Itoa(n), nil)
			}
		}
		line(strconv.Itoa(r.num), r.cells)
		prev = r.num
	}
	for _, n := range g.cutNotes() {
		b.WriteString(n + "\n")
	}
}

// cutBytes returns s cut to at most n bytes, at a letter's start.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
