package preview_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/preview"
)

// sheetPages returns, for each page of d, its pieces of text, and the
// page numbers whose title is sheet.
func sheetPages(d preview.Document, sheet string) (all [][]preview.Piece, pages []int) {
	for p := range d.Pages() {
		pieces, _ := preview.Pieces(d, p)
		all = append(all, pieces)
		if len(pieces) > 0 && pieces[0].Text == sheet {
			pages = append(pages, p)
		}
	}
	return all, pages
}

// has returns the first piece whose text is exactly s.
func has(pieces []preview.Piece, s string) (preview.Piece, bool) {
	for _, p := range pieces {
		if p.Text == s {
			return p, true
		}
	}
	return preview.Piece{}, false
}

// TestStyledWorkbook opens an analyst's workbook (styledWorkbook) and
// checks what each page sets, and where: number formats as Excel shows
// them, cached formula results and the text of a formula without one,
// merged cells, frozen rows and columns repeated on every page, a hidden
// sheet marked, fills and borders drawn. COFFER_TEST_PNG=DIR writes the
// pages there to look at.
func TestStyledWorkbook(t *testing.T) {
	d := open(t, styledWorkbook(t), "", "model.xlsx")
	all, summary := sheetPages(d, "Summary")
	_, notes := sheetPages(d, "Notes")
	_, wide := sheetPages(d, "Wide")
	if len(summary) < 2 || len(notes) != 1 || len(wide) < 4 {
		t.Fatalf("pages: Summary %v, Notes %v, Wide %v", summary, notes, wide)
	}
	first := all[summary[0]]
	for _, want := range []string{"1,234,567.89", "-85.2%", "12.0%", "-250,000.00", "6/28/1963", "28 Jun 2013", "Revenue line 1"} {
		if _, ok := has(first, want); !ok {
			t.Errorf("Summary page 1 lacks %q", want)
		}
	}
	if p, ok := has(first, "=C4/B4-1"); !ok || !p.Italic {
		t.Errorf("the formula without a cached result: %+v %v", p, ok)
	}
	if p, ok := has(first, "-85.2%"); !ok || p.Color != [3]uint8{0x37, 0x56, 0x23} || !p.Italic {
		t.Errorf("the percentage's font: %+v", p)
	}
	hashes := 0
	for _, p := range first {
		if strings.Trim(p.Text, "#") == "" {
			hashes++
		}
	}
	if hashes < 20 {
		t.Errorf("%d numbers too wide for column E shown as ####, want every one", hashes)
	}
	title, ok := has(first, "Project Falcon — model summary")
	if !ok || !title.Bold || title.Size != 16 || title.Color != [3]uint8{255, 255, 255} {
		t.Fatalf("title %+v", title)
	}
	// Merged across A1:G1 and centred: its clip is the merged cell, its
	// text in the middle of it.
	if title.Clip[2]-title.Clip[0] < 400 || title.X-title.Clip[0] < 100 || title.Clip[2]-title.X < 200 {
		t.Errorf("the merged title's box %v, text at %.0f", title.Clip, title.X)
	}
	merged, ok := has(first, "Merged B10:B12")
	if !ok || merged.Clip[3]-merged.Clip[1] < 40 {
		t.Errorf("the cell merged down three rows: %+v", merged)
	}
	// The frozen header rows head every page of the sheet.
	for _, p := range summary {
		if _, ok := has(all[p], "Metric"); !ok {
			t.Errorf("Summary page %d lacks the frozen header", p+1)
		}
	}
	last := all[summary[len(summary)-1]]
	if p, ok := has(last, "An overflowing note that runs on across the empty cells beside it"); !ok || p.Clip[2]-p.Clip[0] < 200 {
		t.Errorf("the overflowing note's box: %+v %v", p.Clip, ok)
	}
	lines := 0
	for _, p := range last {
		if strings.Contains("Wrapped: the Issuer shall pay interest on each Interest Payment Date at the Rate of Interest.", p.Text) && len(p.Text) > 5 {
			lines++
		}
	}
	if lines < 2 {
		t.Errorf("the wrapped cell is set on %d lines", lines)
	}
	if _, ok := has(all[notes[0]], "hidden sheet"); !ok {
		t.Error("the hidden sheet is not marked")
	}
	for _, p := range wide {
		if _, ok := has(all[p], "Ticker"); !ok {
			t.Errorf("Wide page %d lacks the frozen corner", p+1)
		}
	}
	if _, ok := has(all[wide[len(wide)-1]], "Q1 2027"); !ok {
		t.Error("Wide's last page lacks its last column")
	}

	img, err := d.Render(context.Background(), summary[0], 72)
	if err != nil {
		t.Fatal(err)
	}
	colours := map[[3]uint8]int{}
	for i := 0; i < len(img.Pix); i += 4 {
		colours[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}]++
	}
	for name, c := range map[string][3]uint8{"title fill": {0x1F, 0x4E, 0x79}, "header fill": {0xD9, 0xE1, 0xF2}, "merged fill": {0xFF, 0xF2, 0xCC}} {
		if colours[c] < 200 {
			t.Errorf("%s %v: %d pixels", name, c, colours[c])
		}
	}
	if dir := os.Getenv("COFFER_TEST_PNG"); dir != "" {
		for p := range d.Pages() {
			img, err := d.Render(context.Background(), p, 96)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			png.Encode(&b, img)
			os.WriteFile(filepath.Join(dir, "workbook-"+string(rune('a'+p))+".png"), b.Bytes(), 0o644)
		}
	}
}
