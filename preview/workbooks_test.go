package preview_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Workbooks generated with excelize for the spreadsheet tests.

// streamWorkbook writes a one-sheet workbook with excelize's stream writer:
// rows(sw) calls SetRow. The writer's own buffer (it spills past 16 MiB) goes
// to a directory of the test's, so generating never touches the temp folder a
// test watches.
func streamWorkbook(t testing.TB, rows func(sw *excelize.StreamWriter) error) []byte {
	t.Helper()
	f := excelize.NewFile(excelize.Options{TmpDir: t.TempDir()})
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := rows(sw); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bigSheetWorkbook has one sheet whose XML unpacks to over mib MiB: rows of
// one 32,000-character cell (excelize's limit is 32,767). It compresses to
// a few hundred KiB.
func bigSheetWorkbook(t testing.TB, mib int) []byte {
	t.Helper()
	const cell = 32000
	n := mib<<20/cell + 100
	return streamWorkbook(t, func(sw *excelize.StreamWriter) error {
		for r := 1; r <= n; r++ {
			v := fmt.Sprintf("row %d ", r) + strings.Repeat("x", cell-20)
			if err := sw.SetRow(fmt.Sprintf("A%d", r), []any{v}); err != nil {
				return err
			}
		}
		return nil
	})
}

// bigStringsWorkbook has a shared-strings table that unpacks to over mib
// MiB: distinct 32,000-character strings in column A.
func bigStringsWorkbook(t testing.TB, mib int) []byte {
	t.Helper()
	const cell = 32000
	f := excelize.NewFile()
	defer f.Close()
	for r := 1; r <= mib<<20/cell+100; r++ {
		v := fmt.Sprintf("string %d ", r) + strings.Repeat("y", cell-20)
		if err := f.SetCellValue("Sheet1", fmt.Sprintf("A%d", r), v); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// claimedSizeWorkbook is a real workbook plus one part whose zip directory
// entry claims to unpack to claimed bytes (its data is a few bytes).
func claimedSizeWorkbook(t testing.TB, part string, claimed uint64) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetCellValue("Sheet1", "A1", "hello"); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if err := zw.Copy(zf); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: part, Method: zip.Store, CompressedSize64: 4, UncompressedSize64: claimed})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<x/>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withSheetXML is a workbook made by excelize whose first sheet's part is
// replaced by sheetData (the content of <sheetData>).
func withSheetXML(t testing.TB, sheetData string) []byte {
	t.Helper()
	return withSheetParts(t, "", sheetData, "")
}

// withSheetParts is withSheetXML with the elements before <sheetData>
// (<cols>, <sheetViews>) and after it (<mergeCells>) given too.
func withSheetParts(t testing.TB, before, sheetData, after string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s<sheetData>%s</sheetData>%s</worksheet>`, before, sheetData, after)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
