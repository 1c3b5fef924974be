package preview_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// styledWorkbook is a workbook as an analyst's model looks: a "Summary"
// sheet with a merged, filled title, a frozen header of two rows, column
// widths and row heights of its own, number formats (thousands,
// percentages, negatives in red, dates in two formats), formulas with and
// without cached results, wrapped and overflowing text, a number too wide
// for its column, borders (thin, medium, dashed, double), fonts (bold,
// italic, underlined, coloured) and a vertically merged cell; a hidden
// "Notes" sheet; and a "Wide" sheet of 30 columns and 80 rows with its
// first row and column frozen.
func styledWorkbook(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	style := func(s *excelize.Style) int {
		t.Helper()
		id, err := f.NewStyle(s)
		must(err)
		return id
	}
	thin := []excelize.Border{{Type: "left", Color: "808080", Style: 1}, {Type: "right", Color: "808080", Style: 1},
		{Type: "top", Color: "808080", Style: 1}, {Type: "bottom", Color: "808080", Style: 1}}
	money, pct, neg, day := "#,##0.00", "0.0%", "#,##0;[Red]-#,##0", "d mmm yyyy"
	title := style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F4E79"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	header := style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 2}}, Alignment: &excelize.Alignment{Horizontal: "center"}})
	num := style(&excelize.Style{CustomNumFmt: &money, Border: thin})
	percent := style(&excelize.Style{CustomNumFmt: &pct, Border: thin, Font: &excelize.Font{Italic: true, Color: "375623"}})
	negative := style(&excelize.Style{CustomNumFmt: &neg, Border: thin})
	usDate := style(&excelize.Style{NumFmt: 14, Border: thin})
	longDate := style(&excelize.Style{CustomNumFmt: &day, Border: thin})
	wrap := style(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Border: []excelize.Border{{Type: "left", Color: "C00000", Style: 3}, {Type: "right", Color: "C00000", Style: 3},
			{Type: "top", Color: "C00000", Style: 3}, {Type: "bottom", Color: "C00000", Style: 6}}})
	link := style(&excelize.Style{Font: &excelize.Font{Underline: "single", Color: "0563C1"}})
	merged := style(&excelize.Style{Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}, Border: thin})

	s := "Summary"
	must(f.SetSheetName("Sheet1", s))
	must(f.SetColWidth(s, "A", "A", 30))
	must(f.SetColWidth(s, "B", "D", 15))
	must(f.SetColWidth(s, "E", "E", 6))
	must(f.SetColWidth(s, "F", "G", 14))
	must(f.SetCellValue(s, "A1", "Project Falcon — model summary"))
	must(f.MergeCell(s, "A1", "G1"))
	must(f.SetCellStyle(s, "A1", "G1", title))
	must(f.SetRowHeight(s, 1, 30))
	for i, h := range []string{"Metric", "FY2023", "FY2024", "Change", "Rank", "Signed", "Closing"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		must(f.SetCellValue(s, cell, h))
	}
	must(f.SetCellStyle(s, "A2", "G2", header))
	must(f.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}))
	signed := time.Date(1963, 6, 25, 0, 0, 0, 0, time.UTC)
	for r := 3; r <= 60; r++ {
		row := fmt.Sprint(r)
		must(f.SetCellValue(s, "A"+row, fmt.Sprintf("Revenue line %d", r-2)))
		must(f.SetCellFloat(s, "B"+row, 1234567.891*float64(r)/3, -1, 64))
		must(f.SetCellFloat(s, "C"+row, 1234567.891*float64(r)/3*1.12-float64(r%7)*400000, -1, 64))
		must(f.SetCellFormula(s, "D"+row, fmt.Sprintf("C%d/B%d-1", r, r)))
		must(f.SetCellInt(s, "E"+row, int64(r)*1000003))
		must(f.SetCellValue(s, "F"+row, signed.AddDate(0, 0, r)))
		must(f.SetCellValue(s, "G"+row, signed.AddDate(50, 0, r)))
		must(f.SetCellStyle(s, "B"+row, "C"+row, num))
		must(f.SetCellStyle(s, "D"+row, "D"+row, percent))
		must(f.SetCellStyle(s, "E"+row, "E"+row, negative))
		must(f.SetCellStyle(s, "F"+row, "F"+row, usDate))
		must(f.SetCellStyle(s, "G"+row, "G"+row, longDate))
	}
	must(f.SetCellFloat(s, "C5", -250000, -1, 64))
	must(f.SetCellValue(s, "A62", "Wrapped: the Issuer shall pay interest on each Interest Payment Date at the Rate of Interest."))
	must(f.SetCellStyle(s, "A62", "A62", wrap))
	must(f.SetRowHeight(s, 62, 48))
	must(f.SetCellValue(s, "B62", "An overflowing note that runs on across the empty cells beside it"))
	must(f.SetCellValue(s, "A64", "Data room (underlined, blue)"))
	must(f.SetCellStyle(s, "A64", "A64", link))
	must(f.SetCellValue(s, "B10", "Merged B10:B12"))
	must(f.MergeCell(s, "B10", "B12"))
	must(f.SetCellStyle(s, "B10", "B12", merged))

	_, err := f.NewSheet("Notes")
	must(err)
	must(f.SetCellValue("Notes", "A1", "Internal notes: not for the client"))
	must(f.SetSheetVisible("Notes", false))

	w := "Wide"
	_, err = f.NewSheet(w)
	must(err)
	for r := 1; r <= 80; r++ {
		for c := 1; c <= 30; c++ {
			cell, _ := excelize.CoordinatesToCellName(c, r)
			switch {
			case r == 1 && c == 1:
				must(f.SetCellValue(w, cell, "Ticker"))
			case r == 1:
				must(f.SetCellValue(w, cell, fmt.Sprintf("Q%d %d", (c-2)%4+1, 2020+(c-2)/4)))
			case c == 1:
				must(f.SetCellValue(w, cell, fmt.Sprintf("TICK%02d", r)))
			default:
				must(f.SetCellFloat(w, cell, float64(r*c)/7, 2, 64))
			}
		}
	}
	must(f.SetPanes(w, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}))
	b, err := f.WriteToBuffer()
	must(err)
	// excelize writes formulas without results; Excel writes both. Give
	// every formula of column D but row 4's its result, as Excel would
	// have cached it.
	return cacheFormulas(t, b.Bytes(), "xl/worksheets/sheet1.xml", func(cell string) (string, bool) {
		var r int
		fmt.Sscanf(cell, "D%d", &r)
		if r == 4 {
			return "", false
		}
		b := 1234567.891 * float64(r) / 3
		c := b*1.12 - float64(r%7)*400000
		if r == 5 {
			c = -250000
		}
		return fmt.Sprint(c/b - 1), true
	})
}

var formulaCell = regexp.MustCompile(`(<c r="([A-Z]+[0-9]+)"[^>]*>)(<f>[^<]*</f>)(</c>)`)

// cacheFormulas adds cached results to the formulas of a sheet part:
// value says each cell's, or false to leave it without.
func cacheFormulas(t testing.TB, book []byte, part string, value func(cell string) (string, bool)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if zf.Name != part {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var xml bytes.Buffer
		xml.ReadFrom(rc)
		rc.Close()
		fixed := formulaCell.ReplaceAllFunc(xml.Bytes(), func(m []byte) []byte {
			g := formulaCell.FindSubmatch(m)
			v, ok := value(string(g[2]))
			if !ok {
				return m
			}
			// excelize marks a formula cell t="str"; a number result has no t.
			open := strings.Replace(string(g[1]), ` t="str"`, "", 1)
			return []byte(open + string(g[3]) + "<v>" + v + "</v>" + string(g[4]))
		})
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(fixed)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
