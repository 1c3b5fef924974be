package preview

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"

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
// above; it returns the size of its largest part, in bytes. Sizes are those
// the directory declares; archive/zip fails a part that unpacks to more
// than declared, so they cannot lie. Data that is not a zip is left for
// excelize to judge (the largest part is then taken to be the limit).
func checkXLSXSize(data []byte) (largest int64, err error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return xlsxUnzipLimit, nil
	}
	var total uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		name := strings.ReplaceAll(f.Name, `\`, "/")
		if strings.EqualFold(name, xlsxSharedStrings) && size > xlsxSharedStringsLimit {
			return 0, fmt.Errorf("%w: the workbook's shared strings unpack to %d MiB, more than the %d MiB a preview may hold in memory (split the workbook, or export a copy where policy allows)",
				ErrTooLarge, size>>20, xlsxSharedStringsLimit>>20)
		}
		if size > xlsxUnzipLimit || total+size > xlsxUnzipLimit {
			return 0, fmt.Errorf("%w: the workbook unpacks to more than the %d MiB a preview may hold in memory (split the workbook, or export a copy where policy allows)",
				ErrTooLarge, xlsxUnzipLimit>>20)
		}
		total += size
		largest = max(largest, int64(size))
	}
	return largest, nil
}

// openXLSX sets every sheet of a workbook as a grid of cells in pages of
// text.
func openXLSX(ctx context.Context, data []byte, opts Options) (Document, error) {
	text, err := xlsxText(ctx, data)
	if err != nil {
		return nil, err
	}
	return openLines(text, opts)
}

// xlsxText sets every sheet of a workbook as a grid of cells: a header
// naming the sheet, then rows with column letters and row numbers, cells
// clipped and aligned (see grid.go). The workbook is read with excelize
// entirely in memory (see the limits above), row by row.
func xlsxText(ctx context.Context, data []byte) (string, error) {
	largest, err := checkXLSXSize(data)
	if err != nil {
		return "", err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    xlsxUnzipLimit,
		UnzipXMLSizeLimit: xlsxUnzipLimit, // = UnzipSizeLimit: nothing spills
		TmpDir:            xlsxNoTempDir,
	})
	if err != nil {
		return "", fmt.Errorf("%w: spreadsheet: %v", ErrCorrupt, err)
	}
	defer f.Close()
	var b strings.Builder
	budget := newXLSXBudget(largest)
	sheets := f.GetSheetList()
	for i, sheet := range sheets {
		if why := budget.spent(i); why != "" {
			fmt.Fprintf(&b, "… %d more sheets not shown, from %q on: %s\n", len(sheets)-i, clip(sheet, 60), why)
			break
		}
		g, err := readSheet(ctx, f, sheet, budget)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "== %s ==\n", clip(sheet, 60))
		g.write(&b)
		b.WriteString("\n")
	}
	return b.String(), nil
}
