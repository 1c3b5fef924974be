package preview

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Spreadsheet limits. excelize unpacks every part of a workbook into memory,
// except that a worksheet or the shared-strings table larger than its
// UnzipXMLSizeLimit is unpacked to a temp file instead — cell text on disk,
// left behind by a crash. A preview never lets it: that limit is set to the
// whole-workbook limit, so no part can pass it, and a workbook larger than a
// preview may hold in memory is refused with ErrTooLarge.
const (
	// xlsxUnzipLimit bounds all the parts of a workbook together, unpacked,
	// in bytes; they are all held in memory while the preview is made.
	xlsxUnzipLimit = 256 << 20
	// xlsxSharedStringsLimit bounds the shared-strings part, unpacked, in
	// bytes: excelize decodes it whole, into about 11 times its size
	// (measured: 57 MiB of short strings took 629 MiB of heap).
	xlsxSharedStringsLimit = 32 << 20
	xlsxMaxRows            = 20000
	xlsxMaxCols            = 64
)

// xlsxNoTempDir is excelize's TmpDir: a name no operating system can create
// a file under (it holds a NUL byte). With the limits above excelize has no
// reason to spill; should a later version find one, creating the file fails
// instead of writing cell text to disk.
const xlsxNoTempDir = "coffer-previews-never-spill\x00"

// xlsxSharedStrings is the part excelize reads the shared-strings table
// from (it matches the name without regard to case).
const xlsxSharedStrings = "xl/sharedStrings.xml"

// checkXLSXSize reads a workbook's zip directory (nothing is unpacked) and
// refuses, with ErrTooLarge, one that would unpack to more than the limits
// above. Sizes are those the directory declares; archive/zip fails a part
// that unpacks to more than declared, so they cannot lie. Data that is not a
// zip is left for excelize to judge.
func checkXLSXSize(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	var total uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		name := strings.ReplaceAll(f.Name, `\`, "/")
		if strings.EqualFold(name, xlsxSharedStrings) && size > xlsxSharedStringsLimit {
			return fmt.Errorf("%w: the workbook's shared strings unpack to %d MiB, more than the %d MiB a preview may hold in memory (split the workbook, or export a copy where policy allows)",
				ErrTooLarge, size>>20, xlsxSharedStringsLimit>>20)
		}
		if size > xlsxUnzipLimit || total+size > xlsxUnzipLimit {
			return fmt.Errorf("%w: the workbook unpacks to more than the %d MiB a preview may hold in memory (split the workbook, or export a copy where policy allows)",
				ErrTooLarge, xlsxUnzipLimit>>20)
		}
		total += size
	}
	return nil
}

// openXLSX sets every sheet of a workbook as a grid of cells: a header
// naming the sheet, then rows with column letters and row numbers, cells
// clipped and aligned. The workbook is read with excelize entirely in
// memory (see the limits above).
func openXLSX(data []byte, maxPixels int) (Document, error) {
	if err := checkXLSXSize(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    xlsxUnzipLimit,
		UnzipXMLSizeLimit: xlsxUnzipLimit, // = UnzipSizeLimit: nothing spills
		TmpDir:            xlsxNoTempDir,
	})
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
