package preview_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview"
)

// previewWorkbook previews data, renders its first and last pages, and
// returns the text set in them and the bytes allocated meanwhile (a bound
// on the peak memory the preview used).
func previewWorkbook(t *testing.T, data []byte) (text string, allocated uint64) {
	t.Helper()
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := preview.Open(ctx, data, "", "book.xlsx", preview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, page := range []int{0, d.Pages() - 1} {
		if _, err := d.Render(ctx, page, 72); err != nil {
			t.Fatalf("page %d of %d: %v", page+1, d.Pages(), err)
		}
	}
	runtime.ReadMemStats(&after)
	text, err = preview.XLSXText(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	return text, after.TotalAlloc - before.TotalAlloc
}

// rowLines returns the lines of text that show a row: a row number, then
// a column separator.
func rowLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		num, _, ok := strings.Cut(strings.TrimLeft(l, " "), "│")
		if _, err := strconv.Atoi(num); ok && err == nil {
			out = append(out, l)
		}
	}
	return out
}

// lines returns the lines of text that start with prefix.
func lines(text, prefix string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestSparseWorkbook: 20,000 rows holding a value in column A and one in
// column XFD made a 200 KB workbook take 9 GB when every row was
// materialised to its last column. The sheet is now read as a stream of
// the cells it holds: all 20,000 rows show, with the two columns that have
// values (the 16,382 empty ones between them folded), within a bounded
// allocation.
func TestSparseWorkbook(t *testing.T) {
	const rows = 20000
	vals := make([]any, excelize.MaxColumns)
	data := streamWorkbook(t, func(sw *excelize.StreamWriter) error {
		for r := 1; r <= rows; r++ {
			vals[0], vals[len(vals)-1] = fmt.Sprintf("a%d", r), fmt.Sprintf("z%d", r)
			if err := sw.SetRow(fmt.Sprintf("A%d", r), vals); err != nil {
				return err
			}
		}
		return nil
	})
	text, allocated := previewWorkbook(t, data)
	t.Logf("%d KB workbook: %d MiB allocated", len(data)>>10, allocated>>20)
	if allocated > 512<<20 {
		t.Errorf("previewing the sparse workbook allocated %d MiB", allocated>>20)
	}
	header := lines(text, "│")
	if len(header) != 1 || strings.Join(strings.Fields(strings.ReplaceAll(header[0], "│", " ")), " ") != "A XFD" {
		t.Errorf("column header %q, want A and XFD", header)
	}
	if l := lines(text, "1│"); len(l) != 1 || !strings.Contains(l[0], "a1 ") || !strings.HasSuffix(l[0], "│z1") {
		t.Errorf("row 1: %q", l)
	}
	if shown := len(rowLines(text)); shown != rows {
		t.Errorf("%d rows shown, want %d", shown, rows)
	}
	if cut := lines(text, "… "); len(cut) > 0 {
		t.Errorf("cuts: %q", cut)
	}
}

// TestRowsBudget: a sheet of more row elements than a preview steps
// through (a row may be written again and again) stops there and says so.
func TestRowsBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>`)
	b.WriteString(strings.Repeat(`<row r="2"/>`, preview.XLSXMaxSteps+10))
	text, err := preview.XLSXText(context.Background(), withSheetXML(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := "… more rows not shown, from row 2 on: a preview reads at most 4,194,304 rows of a workbook"
	if cut := lines(text, "… "); len(cut) != 1 || cut[0] != want || !strings.Contains(text, "1│first") {
		t.Errorf("cuts %q, want %q", cut, want)
	}
}

// TestFirstAndLastRow: values in A1 and A1048576 only. GetRows made a
// million empty rows of it and the preview stopped at row 20,000 without
// saying so; now the empty rows fold into one line and the last row shows.
func TestFirstAndLastRow(t *testing.T) {
	data := streamWorkbook(t, func(sw *excelize.StreamWriter) error {
		if err := sw.SetRow("A1", []any{"first"}); err != nil {
			return err
		}
		return sw.SetRow(fmt.Sprintf("A%d", excelize.TotalRows), []any{"last"})
	})
	text, allocated := previewWorkbook(t, data)
	t.Logf("%d KiB allocated", allocated>>10)
	if allocated > 64<<20 {
		t.Errorf("previewing two cells allocated %d MiB", allocated>>20)
	}
	want := []string{
		"== Sheet1 ==",
		"       │A",
		"      1│first",
		"      ⋮ rows 2 to 1,048,575 have no values",
		"1048576│last",
		"",
		"",
	}
	if got := strings.Split(text, "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", text, strings.Join(want, "\n"))
	}
}

// TestWideWorkbook: 30 rows of 300 columns with values show the first 64
// columns and say how many more there are.
func TestWideWorkbook(t *testing.T) {
	data := streamWorkbook(t, func(sw *excelize.StreamWriter) error {
		row := make([]any, 300)
		for r := 1; r <= 30; r++ {
			for c := range row {
				row[c] = fmt.Sprintf("r%dc%d", r, c+1)
			}
			if err := sw.SetRow(fmt.Sprintf("A%d", r), row); err != nil {
				return err
			}
		}
		return nil
	})
	text, _ := previewWorkbook(t, data)
	last, _ := excelize.ColumnNumberToName(preview.XLSXMaxCols)
	next, _ := excelize.ColumnNumberToName(preview.XLSXMaxCols + 1)
	if h := lines(text, "│"); len(h) != 1 || !strings.HasSuffix(h[0], "│"+last) {
		t.Errorf("header %q, want it to end at column %s", h, last)
	}
	if l := lines(text, "30│"); len(l) != 1 || !strings.HasSuffix(l[0], fmt.Sprintf("│r30c%d", preview.XLSXMaxCols)) {
		t.Errorf("row 30: %q", l)
	}
	want := fmt.Sprintf("… %d more columns not shown, from column %s on", 300-preview.XLSXMaxCols, next)
	if cut := lines(text, "… "); len(cut) != 1 || !strings.HasPrefix(cut[0], want) {
		t.Errorf("cut %q, want %q", cut, want)
	}
}

// TestLongWorkbook: a preview shows 20,000 rows over the whole workbook,
// then says how many rows of the used range are left and which sheets
// were not shown.
func TestLongWorkbook(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	for r := 1; r <= preview.XLSXMaxRows+50; r++ {
		if err := f.SetCellInt("Sheet1", fmt.Sprintf("B%d", r), int64(r)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"Second", "Third"} {
		if _, err := f.NewSheet(s); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue(s, "A1", s); err != nil {
			t.Fatal(err)
		}
	}
	// The used range is the sheet's claim; it is shown as such.
	if err := f.SetSheetDimension("Sheet1", "B1:B1048576"); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := previewWorkbook(t, b.Bytes())
	if l := lines(text, fmt.Sprintf("%d│", preview.XLSXMaxRows)); len(l) != 1 || !strings.HasSuffix(l[0], fmt.Sprintf("│%d", preview.XLSXMaxRows)) {
		t.Errorf("last row shown: %q", l)
	}
	want := []string{
		"… up to 1,028,576 more rows not shown (rows 20,001 to 1,048,576 of the used range): a preview shows at most 20,000 rows of a workbook",
		`… 2 more sheets not shown, from "Second" on: a preview shows at most 20,000 rows of a workbook`,
	}
	if cut := lines(text, "… "); strings.Join(cut, "\n") != strings.Join(want, "\n") {
		t.Errorf("cuts\n%s\nwant\n%s", strings.Join(cut, "\n"), strings.Join(want, "\n"))
	}
}

// TestSheetsOfABigWorkbook: reading a sheet may decode its whole part,
// and sheets may share a part, so each sheet read is charged the largest
// part; a workbook with a 65 MiB part shows 3 of its 6 sheets and says so.
func TestSheetsOfABigWorkbook(t *testing.T) {
	f := excelize.NewFile(excelize.Options{TmpDir: t.TempDir()})
	defer f.Close()
	for i := 2; i <= 6; i++ {
		name := fmt.Sprintf("S%d", i)
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue(name, "A1", name); err != nil {
			t.Fatal(err)
		}
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	cell := strings.Repeat("x", 32000)
	for r := 1; r <= 65<<20/len(cell)+10; r++ {
		if err := sw.SetRow(fmt.Sprintf("A%d", r), []any{cell}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := previewWorkbook(t, b.Bytes())
	for _, s := range []string{"== Sheet1 ==", "== S2 ==", "== S3 =="} {
		if !strings.Contains(text, s) {
			t.Errorf("no %s", s)
		}
	}
	want := `… 3 more sheets not shown, from "S4" on: the workbook is too large for a preview of every sheet`
	if cut := lines(text, "… "); len(cut) != 1 || cut[0] != want {
		t.Errorf("cuts %q, want %q", cut, want)
	}
}

// TestCorpusWorkbooks: the real workbooks of the corpus show every sheet,
// every row and every column, and say nothing is cut.
func TestCorpusWorkbooks(t *testing.T) {
	for name, want := range map[string][]string{
		"datasets.xlsx": {"== iris ==", "== mtcars ==", "== chickwts ==", "== quakes ==", "Sepal.Length", "  151│5.9         │3          │5.1         │1.8        │virginica\n",
			"   33│21.4│4  │121  │109│4.11│2.78 │18.6 │1 │1 │4   │2\n", " 1001│-21.59│170.56│165  │6  │119\n"},
		"deaths.xlsx": {"== arts ==", "== other ==", "   15│George Michael  │musician        │53    │FALSE   │6/25/1963    │12/25/2016\n",
			"│keep making not…│"},
	} {
		data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "xlsx", name))
		if err != nil {
			t.Fatal(err)
		}
		text, _ := previewWorkbook(t, data)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: no %q in\n%s", name, w, text[:min(len(text), 2000)])
			}
		}
		if cut := lines(text, "… "); len(cut) > 0 {
			t.Errorf("%s: %q", name, cut)
		}
	}
}

// TestHostileSheets: sheet XML that no spreadsheet program writes is
// shown within the grid's bounds or refused as corrupt, never a panic.
func TestHostileSheets(t *testing.T) {
	many := strings.Repeat(`<c r="XFD1" t="inlineStr"><is><t>z</t></is></c>`, 3)
	for name, c := range map[string]struct {
		sheetData string
		want      string // in the text; "" means refused with ErrCorrupt
	}{
		"cells past XFD":      {`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>` + many + `</row>`, "    1│a│z\n"},
		"row past 1,048,576":  {`<row r="1048577"><c r="A1048577"><v>1</v></c></row>`, ""},
		"rows out of order":   {`<row r="5"><c r="A5"><v>5</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>`, "    5│5"},
		"bad cell reference":  {`<row r="1"><c r="1A"><v>1</v></c></row>`, ""},
		"empty styled cells":  {`<row r="1">` + strings.Repeat(`<c r="B1" s="0"/>`, 1000) + `</row>`, "(no values)\n"},
		"cells without a ref": {`<row><c><v>1</v></c><c><v>2</v></c></row>`, "    1│1│2\n"},
	} {
		text, err := preview.XLSXText(context.Background(), withSheetXML(t, c.sheetData))
		switch {
		case c.want == "" && !errors.Is(err, preview.ErrCorrupt):
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		case c.want != "" && (err != nil || !strings.Contains(text, c.want)):
			t.Errorf("%s: %v, no %q in\n%s", name, err, c.want, text)
		}
	}
}

// TestHostileLayout: a sheet's layout elements, which no budget of rows
// or cells counts — 100,000 merged cells each the whole sheet, 16,384
// column elements, frozen panes larger than a page — open and draw, the
// merged cells shown as one.
func TestHostileLayout(t *testing.T) {
	var cols, merges strings.Builder
	cols.WriteString("<cols>")
	for c := excelize.MaxColumns; c >= 1; c-- {
		fmt.Fprintf(&cols, `<col min="%d" max="%d" width="%d" customWidth="1"/>`, c, c, 1+c%40)
	}
	cols.WriteString(`</cols><sheetViews><sheetView workbookViewId="0"><pane xSplit="16384" ySplit="1048576" state="frozen"/></sheetView></sheetViews>`)
	merges.WriteString(`<mergeCells count="100000">`)
	for range 100000 {
		merges.WriteString(`<mergeCell ref="A1:XFD1048576"/>`)
	}
	merges.WriteString(`</mergeCells>`)
	var rows strings.Builder
	for r := 1; r <= 200; r++ {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>v%d</t></is></c><c r="J%d" t="inlineStr"><is><t>j%d</t></is></c></row>`, r, r, r, r, r)
	}
	d := open(t, withSheetParts(t, cols.String(), rows.String(), merges.String()), "", "hostile.xlsx")
	for _, page := range []int{0, d.Pages() - 1} {
		if _, err := d.Render(context.Background(), page, 36); err != nil {
			t.Fatalf("page %d of %d: %v", page+1, d.Pages(), err)
		}
	}
	pieces, _ := preview.Pieces(d, 0)
	n := 0
	for _, p := range pieces {
		if strings.HasPrefix(p.Text, "v") || strings.HasPrefix(p.Text, "j") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d values drawn on page 1 of a sheet merged whole, want its first only", n)
	}
}
