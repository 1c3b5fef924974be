package preview

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/xuri/excelize/v2"
)

// A workbook preview reads its sheets row by row with excelize's Rows
// iterator and keeps only what it shows, so memory and time are bounded by
// the budgets below whatever the workbook claims: its used range, its row
// numbers, its column letters. Where a budget stops the reading, the page
// says so.
const (
	// xlsxMaxRows is how many rows with values a preview shows, over all
	// the sheets of a workbook.
	xlsxMaxRows = 20000
	// xlsxMaxCols is how many columns with values a preview shows of a
	// sheet: the leftmost ones. Empty columns are skipped.
	xlsxMaxCols = 64
	// xlsxMaxCellRunes is where a cell's text is clipped, in columns (a
	// Chinese letter takes two).
	xlsxMaxCellRunes = 16
	// xlsxMaxCells bounds the cells excelize materialises for the rows
	// read, over all sheets: it hands over a row as a slice reaching its
	// last cell, 16,384 strings for one value in column XFD (measured:
	// about 17 ms and 70 MB allocated per million cells), so a preview
	// reads at most 512 rows that reach column XFD.
	xlsxMaxCells = 8 << 20
	// xlsxMaxSteps bounds the rows the iterator steps through, over all
	// sheets: it steps through empty rows one by one (1,048,576 steps for
	// values in A1 and A1048576).
	xlsxMaxSteps = 4 << 20
	// xlsxMaxSheets bounds the sheets read.
	xlsxMaxSheets = 256
)

// xlsxBudget is what remains of a workbook preview's budgets.
type xlsxBudget struct {
	rows, cells, steps int
	// xml is how many bytes of XML the sheets still to read may be
	// charged. Reading a sheet may decode its whole part (rows of empty
	// cells cost time and show nothing), and several sheets may name the
	// same part, so each sheet is charged the size of the largest part.
	xml, charge int64
}

func newXLSXBudget(largestPart int64) *xlsxBudget {
	return &xlsxBudget{rows: xlsxMaxRows, cells: xlsxMaxCells, steps: xlsxMaxSteps,
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
	rows []gridRow
	// seen has bit c-1 set for every column c holding a value in the
	// rows read.
	seen [excelize.MaxColumns / 64]uint64
	// cols are the leftmost xlsxMaxCols columns of seen, ascending. A
	// column not among them when a row is read can never be, so a row
	// keeps only its cells in cols.
	cols   []int
	widest int // the longest row excelize handed over, in cells

	cut    int    // the first row not read when the reading stopped early, else 0
	why    string // why it stopped
	usedTo int    // the last row of the sheet's used range, as the sheet claims it
}

type gridRow struct {
	num   int
	cells []gridCell
}

type gridCell struct {
	col  int
	text string // clipped to xlsxMaxCellRunes
}

// readSheet reads one sheet into a grid, spending b.
func readSheet(ctx context.Context, f *excelize.File, sheet string, b *xlsxBudget) (*sheetGrid, error) {
	b.xml -= b.charge
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
	}
	defer rows.Close()
	g := &sheetGrid{}
	for num := 1; rows.Next(); num++ {
		if num%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if b.steps <= 0 {
			g.stop(num, fmt.Sprintf("a preview steps through at most %s rows of a workbook", humanize.Comma(xlsxMaxSteps)))
			break
		}
		if b.cells <= 0 {
			name, _ := excelize.ColumnNumberToName(min(g.widest, excelize.MaxColumns))
			g.stop(num, fmt.Sprintf("these rows are too wide to read further (they reach column %s)", name))
			break
		}
		b.steps--
		cells, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("%w: sheet %q, row %d: %v", ErrCorrupt, sheet, num, err)
		}
		b.cells -= len(cells)
		g.widest = max(g.widest, len(cells))
		if !hasValue(cells) {
			continue
		}
		if b.rows <= 0 {
			g.stop(num, fmt.Sprintf("a preview shows at most %s rows of a workbook", humanize.Comma(xlsxMaxRows)))
			break
		}
		b.rows--
		g.add(num, cells)
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
	}
	if g.cut > 0 {
		// The used range is only the sheet's claim, read for the message.
		if ref, err := f.GetSheetDimension(sheet); err == nil {
			if _, last, ok := strings.Cut(ref, ":"); ok {
				ref = last
			}
			if _, row, err := excelize.CellNameToCoordinates(ref); err == nil {
				g.usedTo = row
			}
		}
	}
	return g, nil
}

// hasValue reports whether a row excelize handed over holds a value.
func hasValue(cells []string) bool {
	for _, c := range cells[:min(len(cells), excelize.MaxColumns)] {
		if c != "" {
			return true
		}
	}
	return false
}

func (g *sheetGrid) stop(num int, why string) { g.cut, g.why = num, why }

// add keeps row num's values that fall in the columns shown so far.
func (g *sheetGrid) add(num int, cells []string) {
	cells = cells[:min(len(cells), excelize.MaxColumns)]
	for i, v := range cells {
		if v != "" {
			g.note(i + 1)
		}
	}
	r := gridRow{num: num}
	for _, col := range g.cols {
		if col <= len(cells) && cells[col-1] != "" {
			r.cells = append(r.cells, gridCell{col: col, text: clip(cells[col-1], xlsxMaxCellRunes)})
		}
	}
	g.rows = append(g.rows, r)
}

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

// hidden returns how many columns with values are not shown.
func (g *sheetGrid) hidden() int {
	n := 0
	for _, w := range g.seen {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n - len(g.cols)
}

// write sets the grid as text: column letters over the columns shown, row
// numbers before the rows, runs of more than two empty rows folded into
// one line, and a last line for every cut.
func (g *sheetGrid) write(b *strings.Builder) {
	if len(g.rows) == 0 && g.cut == 0 {
		b.WriteString("(no values)\n")
		return
	}
	widths := make([]int, len(g.cols))
	for i, col := range g.cols {
		name, _ := excelize.ColumnNumberToName(col)
		widths[i] = len(name)
	}
	for _, r := range g.rows {
		for _, c := range r.cells {
			if i, ok := slices.BinarySearch(g.cols, c.col); ok {
				widths[i] = max(widths[i], cellWidth(c.text))
			}
		}
	}
	label := 5
	if len(g.rows) > 0 {
		label = max(label, len(strconv.Itoa(g.rows[len(g.rows)-1].num)))
	}
	pad := func(s string, w int) string { return s + strings.Repeat(" ", max(0, w-cellWidth(s))) }
	line := func(num string, cells []gridCell) {
		var l strings.Builder
		l.WriteString(strings.Repeat(" ", label-len(num)) + num)
		for i, col := range g.cols {
			v := ""
			if j, ok := slices.BinarySearchFunc(cells, col, func(c gridCell, col int) int { return c.col - col }); ok {
				v = cells[j].text
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
	for _, r := range g.rows {
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
	if n := g.hidden(); n > 0 {
		first := 0
		for col := g.cols[len(g.cols)-1] + 1; col <= excelize.MaxColumns && first == 0; col++ {
			if g.seen[(col-1)/64]&(1<<((col-1)%64)) != 0 {
				first = col
			}
		}
		name, _ := excelize.ColumnNumberToName(first)
		fmt.Fprintf(b, "… %s more columns not shown, from column %s on: a preview shows at most %d columns\n",
			humanize.Comma(int64(n)), name, xlsxMaxCols)
	}
	if g.cut > 0 {
		if g.usedTo >= g.cut {
			fmt.Fprintf(b, "… up to %s more rows not shown (rows %s to %s of the used range): %s\n",
				humanize.Comma(int64(g.usedTo-g.cut+1)), humanize.Comma(int64(g.cut)), humanize.Comma(int64(g.usedTo)), g.why)
		} else {
			fmt.Fprintf(b, "… more rows not shown, from row %s on: %s\n", humanize.Comma(int64(g.cut)), g.why)
		}
	}
}
