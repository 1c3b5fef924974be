package preview

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/xuri/excelize/v2"
)

// sheetLook is what a sheet says of its own layout, in its own units.
type sheetLook struct {
	// defaultRow is the height of rows without one of their own, in
	// points; 0: the default font's.
	defaultRow float64
	// defaultCol and baseCol are the default column width and the base
	// width it is made from, in characters of the default font's digits;
	// 0: unset.
	defaultCol, baseCol float64
	cols                []colLook
	merges              []mergeRange
	// frozenRows and frozenCols are the rows at the top and columns at the
	// left that stay on screen as the sheet scrolls: a page repeats them.
	frozenRows, frozenCols int
}

// colLook is a <col> element: the look of columns min to max.
type colLook struct {
	min, max int
	width    float64 // characters; 0: the default
	hidden   bool
	style    int
}

// mergeRange is a merged cell, its first and last rows and columns.
type mergeRange struct{ r0, c0, r1, c1 int }

// colAt returns the look of column col. cols are sorted by min (sortCols)
// and do not overlap, as Excel writes them; where they do, one of them
// wins.
func (s *sheetLook) colAt(col int) colLook {
	i, _ := slices.BinarySearchFunc(s.cols, col, func(c colLook, col int) int { return c.min - col })
	for _, k := range []int{i, i - 1} {
		if k >= 0 && k < len(s.cols) && s.cols[k].min <= col && col <= s.cols[k].max {
			return s.cols[k]
		}
	}
	return colLook{min: col, max: col}
}

const (
	maxMerges         = 100_000
	maxColLooks       = 16_384
	maxSharedFormulas = 100_000
)

// mergeRef finds the merged cells of a sheet (after its sheetData).
var mergeRef = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?mergeCell\s+ref="([A-Z]{1,3}[0-9]{1,7})(?::([A-Z]{1,3}[0-9]{1,7}))?"`)

// sheetReader reads one sheet's XML into a grid, spending a budget.
type sheetReader struct {
	g   *sheetGrid
	b   *xlsxBudget
	sst []string
	nf  *numFormatter

	masters map[int]sharedFormula
	// The row being read.
	row     gridRow
	rowNum  int
	lastCol int
	// pending are the rows without values read since the last row with
	// values, while they are few enough to be shown.
	pending   []gridRow
	lastValue int // the last row with values, 0 before the first
	// The cell being read.
	cell                      cellXML
	inV, inF, inIs, inT, inPh bool
}

// cellXML is a <c> element as read.
type cellXML struct {
	ref, t   string
	style    int
	hasStyle bool
	v, f, is strings.Builder
	fShared  bool
	fSI      int
	fRef     bool // the shared formula's first cell (it has a ref)
}

// readSheet reads a sheet's part into a grid: values formatted, rows and
// columns with their sizes and looks, merged cells and frozen panes.
func readSheet(ctx context.Context, part []byte, sst []string, nf *numFormatter, b *xlsxBudget) (*sheetGrid, error) {
	b.xml -= b.charge
	r := &sheetReader{g: &sheetGrid{}, b: b, sst: sst, nf: nf, masters: map[int]sharedFormula{}}
	d := xml.NewDecoder(bytes.NewReader(part))
	inData := false
	stopped := false
	for !stopped {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: sheet XML: %v", ErrCorrupt, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "sheetData":
				inData = true
				slices.SortStableFunc(r.g.look.cols, func(a, b colLook) int { return a.min - b.min })
			case "row":
				if !inData {
					continue
				}
				if r.rowNum%4096 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				if err := r.startRow(t); err != nil {
					return nil, err
				}
				if r.b.steps <= 0 {
					r.g.stop(r.rowNum, fmt.Sprintf("a preview reads at most %s rows of a workbook", humanize.Comma(xlsxMaxSteps)))
					stopped = true
				}
				r.b.steps--
			case "c":
				if inData {
					r.startCell(t)
				}
			case "v":
				r.inV = true
			case "f":
				r.inF = true
				r.startFormula(t)
			case "is":
				r.inIs = true
			case "t":
				r.inT = true
			case "rPh":
				r.inPh = true
			case "sheetFormatPr":
				r.sheetFormat(t)
			case "col":
				r.col(t)
			case "pane":
				r.pane(t)
			case "dimension":
				r.dimension(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "sheetData":
				stopped = true
			case "row":
				if inData {
					if err := r.endRow(); err != nil {
						return nil, err
					}
					stopped = stopped || r.g.cut > 0
				}
			case "c":
				if inData {
					if err := r.endCell(); err != nil {
						return nil, err
					}
					if r.b.cells <= 0 && r.g.cut == 0 {
						r.g.stop(r.rowNum+1, fmt.Sprintf("a preview reads at most %s cells of a workbook", humanize.Comma(xlsxMaxCells)))
					}
				}
			case "v":
				r.inV = false
			case "f":
				r.inF = false
			case "is":
				r.inIs = false
			case "t":
				r.inT = false
			case "rPh":
				r.inPh = false
			}
		case xml.CharData:
			r.text(t)
		}
	}
	r.merges(part[min(int(d.InputOffset()), len(part)):])
	r.finish()
	return r.g, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func attrFloat(t xml.StartElement, name string) float64 {
	v, err := strconv.ParseFloat(attr(t, name), 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0
	}
	return v
}

func attrBool(t xml.StartElement, name string) bool {
	v := attr(t, name)
	return v == "1" || v == "true"
}

func (r *sheetReader) sheetFormat(t xml.StartElement) {
	r.g.look.defaultRow = attrFloat(t, "defaultRowHeight")
	r.g.look.defaultCol = attrFloat(t, "defaultColWidth")
	r.g.look.baseCol = attrFloat(t, "baseColWidth")
}

func (r *sheetReader) col(t xml.StartElement) {
	lo, err1 := strconv.Atoi(attr(t, "min"))
	hi, err2 := strconv.Atoi(attr(t, "max"))
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || len(r.g.look.cols) >= maxColLooks {
		return
	}
	style, _ := strconv.Atoi(attr(t, "style"))
	r.g.look.cols = append(r.g.look.cols, colLook{min: lo, max: min(hi, excelize.MaxColumns),
		width: attrFloat(t, "width"), hidden: attrBool(t, "hidden"), style: style})
}

func (r *sheetReader) pane(t xml.StartElement) {
	if s := attr(t, "state"); s != "frozen" && s != "frozenSplit" {
		return
	}
	r.g.look.frozenRows = min(int(attrFloat(t, "ySplit")), 64)
	r.g.look.frozenCols = min(int(attrFloat(t, "xSplit")), 16)
}

func (r *sheetReader) dimension(t xml.StartElement) {
	ref := attr(t, "ref")
	if _, last, ok := strings.Cut(ref, ":"); ok {
		ref = last
	}
	if _, row, err := excelize.CellNameToCoordinates(ref); err == nil {
		r.g.usedTo = row
	}
}

func (r *sheetReader) startRow(t xml.StartElement) error {
	num := r.rowNum + 1
	if v := attr(t, "r"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > excelize.TotalRows {
			return fmt.Errorf("%w: row number %q", ErrCorrupt, v)
		}
		num = n
	}
	style := 0
	if attrBool(t, "customFormat") {
		style, _ = strconv.Atoi(attr(t, "s"))
	}
	height := 0.0
	if attrBool(t, "customHeight") || attr(t, "ht") != "" {
		height = attrFloat(t, "ht")
	}
	r.row = gridRow{num: num, height: height, hidden: attrBool(t, "hidden"), style: style}
	r.rowNum, r.lastCol = num, 0
	return nil
}

func (r *sheetReader) startCell(t xml.StartElement) {
	r.cell.ref, r.cell.t = attr(t, "r"), attr(t, "t")
	s := attr(t, "s")
	r.cell.style, _ = strconv.Atoi(s)
	r.cell.hasStyle = s != ""
	r.cell.v.Reset()
	r.cell.f.Reset()
	r.cell.is.Reset()
	r.cell.fShared, r.cell.fRef = false, false
}

func (r *sheetReader) startFormula(t xml.StartElement) {
	if attr(t, "t") == "shared" {
		r.cell.fShared = true
		r.cell.fSI, _ = strconv.Atoi(attr(t, "si"))
		r.cell.fRef = attr(t, "ref") != ""
	}
}

func (r *sheetReader) text(t xml.CharData) {
	var dst *strings.Builder
	switch {
	case r.inV:
		dst = &r.cell.v
	case r.inF:
		dst = &r.cell.f
	case r.inIs && r.inT && !r.inPh:
		dst = &r.cell.is
	default:
		return
	}
	if dst.Len()+len(t) <= xlsxMaxCellBytes {
		dst.Write(t)
	}
}

// endCell turns the cell read into a grid cell, if it shows anything.
func (r *sheetReader) endCell() error {
	r.b.cells--
	c := &r.cell
	col := r.lastCol + 1
	if c.ref != "" {
		cn, row, err := excelize.CellNameToCoordinates(c.ref)
		if err != nil || row != r.rowNum {
			if err == nil {
				err = fmt.Errorf("in row %d", r.rowNum)
			}
			return fmt.Errorf("%w: cell reference %q: %v", ErrCorrupt, c.ref, err)
		}
		col = cn
	}
	if col > excelize.MaxColumns {
		return fmt.Errorf("%w: cell beyond column XFD in row %d", ErrCorrupt, r.rowNum)
	}
	r.lastCol = col
	style := c.style
	if !c.hasStyle {
		style = r.styleAt(col)
	}
	text, kind := r.value(col, style)
	if kind == kindEmpty {
		if c.hasStyle && style != 0 && r.g.keeps(col) && r.b.styled > 0 {
			r.b.styled--
			r.row.cells = setCell(r.row.cells, gridCell{col: col, style: style, kind: kindEmpty})
		}
		return nil
	}
	r.g.note(col)
	r.row.values = true
	if r.g.keeps(col) {
		r.row.cells = setCell(r.row.cells, gridCell{col: col, text: text, style: style, kind: kind})
	}
	return nil
}

// setCell adds c to a row's cells, replacing one of its column: a cell
// written twice shows its last value, as in Excel.
func setCell(cells []gridCell, c gridCell) []gridCell {
	if n := len(cells); n > 0 && cells[n-1].col >= c.col {
		for i := range cells {
			if cells[i].col == c.col {
				cells[i] = c
				return cells
			}
		}
	}
	return append(cells, c)
}

// styleAt is the style of an empty cell of column col in the row read:
// the row's, else the column's.
func (r *sheetReader) styleAt(col int) int {
	if r.row.style != 0 {
		return r.row.style
	}
	return r.g.look.colAt(col).style
}

// value returns what the cell read shows, and how it reads.
func (r *sheetReader) value(col, style int) (string, cellKind) {
	c := &r.cell
	v := c.v.String()
	switch c.t {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && i >= 0 && i < len(r.sst) {
			if r.sst[i] != "" {
				return r.sst[i], kindText
			}
			return "", kindEmpty
		}
	case "inlineStr":
		if s := c.is.String(); s != "" {
			return s, kindText
		}
	case "str":
		if v != "" {
			return v, kindText
		}
	case "b":
		if v != "" {
			if strings.TrimSpace(v) == "1" {
				return "TRUE", kindBool
			}
			return "FALSE", kindBool
		}
	case "e":
		if v != "" {
			return v, kindError
		}
	case "d":
		if v != "" {
			return v, kindText
		}
	default:
		if strings.TrimSpace(v) != "" {
			return r.nf.format(v, style), kindNumber
		}
	}
	f := c.f.String()
	if c.fShared {
		m, ok := r.masters[c.fSI]
		switch {
		case f != "" && c.fRef && len(r.masters) < maxSharedFormulas:
			r.masters[c.fSI] = sharedFormula{text: f, row: r.rowNum, col: col}
		case f == "" && ok:
			f = m.shift(r.rowNum-m.row, col-m.col)
		}
	}
	if f != "" {
		return "=" + f, kindFormula
	}
	return "", kindEmpty
}

// endRow keeps the row read: a row with values (within the budget), and
// an empty row while it may yet lie in a gap shown.
func (r *sheetReader) endRow() error {
	row := r.row
	if !row.values {
		gapOK := row.num-r.lastValue <= xlsxGap
		if gapOK && (len(row.cells) > 0 || row.height > 0 || row.hidden || row.style != 0) {
			r.pending = append(r.pending, row)
		}
		return nil
	}
	if r.b.rows <= 0 {
		r.g.stop(row.num, fmt.Sprintf("a preview shows at most %s rows of a workbook", humanize.Comma(xlsxMaxRows)))
		return nil
	}
	r.b.rows--
	if row.num <= r.lastValue {
		return nil // rows out of order: the first one read stays
	}
	if row.num-r.lastValue-1 <= xlsxGap {
		r.g.rows = append(r.g.rows, r.pending...)
	}
	r.pending = r.pending[:0]
	r.g.rows = append(r.g.rows, row)
	r.lastValue = row.num
	return nil
}

// merges reads the merged cells, which follow the sheet's rows, from rest
// (the part after where the reading stopped).
func (r *sheetReader) merges(rest []byte) {
	for _, m := range mergeRef.FindAllSubmatch(rest, maxMerges) {
		c0, r0, err := excelize.CellNameToCoordinates(string(m[1]))
		if err != nil {
			continue
		}
		c1, r1 := c0, r0
		if len(m[2]) > 0 {
			if c1, r1, err = excelize.CellNameToCoordinates(string(m[2])); err != nil {
				continue
			}
		}
		r.g.look.merges = append(r.g.look.merges, mergeRange{min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)})
	}
}

// finish drops the cells of columns that are not shown after all.
func (r *sheetReader) finish() {
	g := r.g
	if len(g.cols) == 0 {
		return
	}
	last := g.cols[len(g.cols)-1] + xlsxGap
	for i := range g.rows {
		cells := g.rows[i].cells[:0]
		for _, c := range g.rows[i].cells {
			if c.col <= last {
				cells = append(cells, c)
			}
		}
		g.rows[i].cells = cells
	}
}
