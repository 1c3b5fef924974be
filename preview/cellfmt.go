package preview

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// A cell's value is shown as Excel shows it: numbers in the cell's number
// format (dates, percentages, thousands, currencies — excelize applies
// the format), in the General format as Excel's General shows them (at
// most 11 significant digits), booleans as TRUE and FALSE, the cached
// result of a formula, and a formula's text where no result is cached.

// numFormatter formats numbers in a workbook's number formats with
// excelize, which formats only cells of a sheet: each number is put in a
// cell of a scratch sheet added to the workbook in memory (never saved),
// with the style whose format applies, and read back formatted.
type numFormatter struct {
	f       *excelize.File
	scratch string       // the scratch sheet, once made
	general map[int]bool // style → its format is General
	usStyle map[int]int  // builtin date style → a style with Excel's US short date
	cache   map[[2]string]string
	failed  bool // the scratch sheet could not be made: numbers show raw
}

func newNumFormatter(f *excelize.File) *numFormatter {
	return &numFormatter{f: f, general: map[int]bool{}, usStyle: map[int]int{}, cache: map[[2]string]string{}}
}

// usDates are the built-in formats whose excelize codes differ from what
// Excel shows with US regional settings: 14 is the short date (excelize:
// mm-dd-yy) and 22 the short date and time.
var usDates = map[int]string{14: "m/d/yyyy", 22: "m/d/yyyy h:mm"}

// format returns raw, a number as stored, in style's number format.
func (n *numFormatter) format(raw string, style int) string {
	if style <= 0 || n.isGeneral(style) {
		return generalNumber(raw)
	}
	key := [2]string{strconv.Itoa(style), raw}
	if v, ok := n.cache[key]; ok {
		return v
	}
	v := n.viaScratch(raw, style)
	if len(n.cache) < 1<<16 {
		n.cache[key] = v
	}
	return v
}

// isGeneral reports whether style formats numbers as General.
func (n *numFormatter) isGeneral(style int) bool {
	g, ok := n.general[style]
	if !ok {
		st, err := n.f.GetStyle(style)
		g = err != nil || (st.NumFmt == 0 && st.CustomNumFmt == nil)
		if err == nil && st.CustomNumFmt == nil {
			if code, ok := usDates[st.NumFmt]; ok {
				if id, err := n.f.NewStyle(&excelize.Style{CustomNumFmt: &code}); err == nil {
					n.usStyle[style] = id
				}
			}
		}
		if len(n.general) < 1<<16 {
			n.general[style] = g
		}
	}
	return g
}

func (n *numFormatter) viaScratch(raw string, style int) string {
	if n.failed {
		return generalNumber(raw)
	}
	if n.scratch == "" {
		for i := 0; ; i++ {
			name := fmt.Sprintf("coffer scratch %d", i)
			if idx, _ := n.f.GetSheetIndex(name); idx < 0 {
				if _, err := n.f.NewSheet(name); err != nil {
					n.failed = true
					return generalNumber(raw)
				}
				n.scratch = name
				break
			}
		}
	}
	if us, ok := n.usStyle[style]; ok {
		style = us
	}
	if n.f.SetCellDefault(n.scratch, "A1", raw) != nil || n.f.SetCellStyle(n.scratch, "A1", "A1", style) != nil {
		return generalNumber(raw)
	}
	v, err := n.f.GetCellValue(n.scratch, "A1")
	if err != nil {
		return generalNumber(raw)
	}
	return v
}

// generalNumber shows a stored number as Excel's General format does in a
// cell: at most 11 significant digits, trailing zeros dropped, and
// scientific notation for numbers of more than 11 digits or smaller than
// 1E-9. Text that is not a number is returned as it is.
func generalNumber(raw string) string {
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return raw
	}
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e11 || a < 1e-9 {
		s := strconv.FormatFloat(v, 'E', 5, 64) // 1.23457E+12, as Excel
		mant, exp, _ := strings.Cut(s, "E")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		e, _ := strconv.Atoi(exp)
		sign := "+"
		if e < 0 {
			sign, e = "-", -e
		}
		return fmt.Sprintf("%sE%s%02d", mant, sign, e)
	}
	digits := 10 - int(math.Floor(math.Log10(a))) // decimals that leave 11 significant digits
	s := strconv.FormatFloat(v, 'f', max(digits, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// sharedFormula is the formula of a shared formula's first cell, which
// the others of its range take with their references moved.
type sharedFormula struct {
	text     string
	row, col int
}

// cellRef matches a reference in a formula: an optional sheet prefix is
// left alone, $ fixes a column or a row.
var cellRef = regexp.MustCompile(`(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})\b`)

// shift returns the formula of a cell dr rows and dc columns from the
// shared formula's first cell: its relative references moved, text in
// quotes left alone.
func (s sharedFormula) shift(dr, dc int) string {
	var b strings.Builder
	parts := strings.Split(s.text, `"`)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('"')
		}
		if i%2 == 1 { // inside a string literal
			b.WriteString(p)
			continue
		}
		b.WriteString(cellRef.ReplaceAllStringFunc(p, func(ref string) string {
			m := cellRef.FindStringSubmatch(ref)
			col, err := excelize.ColumnNameToNumber(m[2])
			row, rerr := strconv.Atoi(m[4])
			if err != nil || rerr != nil {
				return ref
			}
			if m[1] == "" {
				col += dc
			}
			if m[3] == "" {
				row += dr
			}
			name, err := excelize.ColumnNumberToName(col)
			if err != nil || row < 1 || row > excelize.TotalRows {
				return "#REF!"
			}
			return m[1] + name + m[3] + strconv.Itoa(row)
		}))
	}
	return b.String()
}

// maxSharedStrings bounds the strings of a workbook's table read.
const maxSharedStrings = 4 << 20

// readSharedStrings decodes a workbook's shared-strings part (its size
// checked by checkXLSXSize): each item's text, rich-text runs joined,
// phonetic guides left out.
func readSharedStrings(part []byte) ([]string, error) {
	var out []string
	if len(part) == 0 {
		return nil, nil
	}
	d := xml.NewDecoder(bytes.NewReader(part))
	var cur strings.Builder
	inSI, inT, inPh := false, false, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%w: shared strings: %v", ErrCorrupt, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "t":
				inT = inSI
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if len(out) >= maxSharedStrings {
					return out, nil
				}
				out = append(out, cutBytes(cur.String(), xlsxMaxCellBytes))
				inSI = false
			case "t":
				inT = false
			case "rPh":
				inPh--
			}
		case xml.CharData:
			if inT && inPh == 0 && cur.Len() < xlsxMaxCellBytes {
				cur.Write(t)
			}
		}
	}
}
