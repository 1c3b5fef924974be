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
	// bytes: it is decoded whole (readSharedStrings keeps each string, at
	// most xlsxMaxCellBytes of it; excelize's own decoding took 11 times
	// the part's size, 629 MiB of heap for 57 MiB of short strings).
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

// openXLSX sets every sheet of a workbook as a grid of cells, as Excel
// shows it, in pages (gridpage.go).
func openXLSX(ctx context.Context, data []byte, opts Options) (Document, error) {
	fonts, err := textFonts(opts.Text)
	if err != nil {
		return nil, err
	}
	book, err := readWorkbook(ctx, data)
	if err != nil {
		return nil, err
	}
	return layoutWorkbook(book, fonts.shaper, opts.MaxPixels), nil
}

// xlsxText sets every sheet of a workbook as a grid of cells in text: a
// header naming the sheet, then rows with column letters and row numbers,
// cells clipped and aligned (see grid.go).
func xlsxText(ctx context.Context, data []byte) (string, error) {
	book, err := readWorkbook(ctx, data)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, g := range book.sheets {
		fmt.Fprintf(&b, "== %s ==\n", clip(g.name, 60))
		g.write(&b)
		b.WriteString("\n")
	}
	if book.cut != "" {
		b.WriteString(book.cut + "\n")
	}
	return b.String(), nil
}

// workbook is what a preview shows of a workbook.
type workbook struct {
	sheets []*sheetGrid
	cut    string // what sheets are not shown, and why; "" when all are
	styles *lookCache
}

// readWorkbook reads a workbook entirely in memory (see the limits above):
// excelize unpacks it and knows its styles and number formats; the sheets
// are read by readSheet within one budget.
func readWorkbook(ctx context.Context, data []byte) (*workbook, error) {
	largest, err := checkXLSXSize(data)
	if err != nil {
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
	sheets, err := bookSheets(f)
	if err != nil {
		return nil, err
	}
	sst, err := readSharedStrings(pkgPart(f, sharedStringsPart(f)))
	if err != nil {
		return nil, err
	}
	book := &workbook{styles: newLookCache(f)}
	nf := newNumFormatter(f)
	budget := newXLSXBudget(largest)
	for i, s := range sheets {
		if why := budget.spent(i); why != "" {
			book.cut = fmt.Sprintf("… %d more sheets not shown, from %q on: %s", len(sheets)-i, clip(s.name, 60), why)
			break
		}
		part, ok := f.Pkg.Load(s.part)
		data, _ := part.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: sheet %q has no part %s", ErrCorrupt, s.name, s.part)
		}
		g, err := readSheet(ctx, data, sst, nf, budget)
		if err != nil {
			return nil, fmt.Errorf("sheet %q: %w", s.name, err)
		}
		g.name, g.hidden = s.name, s.hidden
		book.sheets = append(book.sheets, g)
	}
	book.styles.load(book.sheets)
	return book, nil
}
