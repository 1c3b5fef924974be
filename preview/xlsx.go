package preview

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Spreadsheet limits: a workbook that unpacks to more than this is a
// decompression bomb, not a document to preview.
const (
	xlsxUnzipLimit = 256 << 20
	xlsxXMLLimit   = 64 << 20
	xlsxMaxRows    = 20000
	xlsxMaxCols    = 64
)

// openXLSX sets every sheet of a workbook as a grid of cells: a header
// naming the sheet, then rows with column letters and row numbers, cells
// clipped and aligned, read with excelize under unzip limits.
func openXLSX(data []byte, maxPixels int) (Document, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxXMLLimit})
	if err != nil {
		return nil, fmt.Errorf("%w: spreadsheet: %v", ErrCorrupt, err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
		}
		fmt.Fprintf(&b, "== %s ==\n", clip(sheet, 60))
		writeGrid(&b, rows)
		b.WriteString("\n")
	}
	return openText([]byte(b.String()), maxPixels)
}

// writeGrid writes rows as an aligned grid with column letters and row
// numbers, like the spreadsheet shows them.
func writeGrid(b *strings.Builder, rows [][]string) {
	const maxCell = 16
	if len(rows) > xlsxMaxRows {
		rows = rows[:xlsxMaxRows]
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, min(len(r), xlsxMaxCols))
	}
	widths := make([]int, cols)
	for i := range widths {
		name, _ := excelize.ColumnNumberToName(i + 1)
		widths[i] = len(name)
	}
	for _, r := range rows {
		for i := 0; i < len(r) && i < cols; i++ {
			widths[i] = max(widths[i], min(utf8.RuneCountInString(r[i]), maxCell))
		}
	}
	cell := func(s string, w int) string {
		s = clip(s, maxCell)
		return s + strings.Repeat(" ", w-utf8.RuneCountInString(s))
	}
	b.WriteString("     ")
	for i, w := range widths {
		name, _ := excelize.ColumnNumberToName(i + 1)
		b.WriteString("│" + cell(name, w))
	}
	b.WriteString("\n")
	for n, r := range rows {
		var line strings.Builder
		fmt.Fprintf(&line, "%5d", n+1)
		for i, w := range widths {
			v := ""
			if i < len(r) {
				v = r[i]
			}
			line.WriteString("│" + cell(v, w))
		}
		// Trailing padding would wrap into blank lines.
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
}
