package preview_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/preview"
)

const report = "# Quarterly review\n\n" +
	"Prepared for the **committee**; see `model.xlsx` and [the room](https://example.com).\n\n" +
	"## Highlights\n\n1. Revenue grew 12%\n2. Margin 23.4%\n   - Costs down\n\n" +
	"> A quoted remark.\n\n" +
	"| Metric | FY2024 |\n|:--|--:|\n| Revenue | 1,349.0 |\n\n" +
	"```\nfunc irr() float64\n```\n"

// find returns the piece whose text contains s.
func find(t *testing.T, pieces []preview.Piece, s string) preview.Piece {
	t.Helper()
	for _, p := range pieces {
		if strings.Contains(p.Text, s) {
			return p
		}
	}
	t.Fatalf("no piece holds %q in %v", s, pieces)
	return preview.Piece{}
}

// TestMarkdownFormatted: Markdown is set as formatted text, not as its
// source: headings large and bold, emphasis bold, code and code blocks in
// a monospaced font, links coloured, list numbers and table cells in
// their places, and none of the markup characters shown.
func TestMarkdownFormatted(t *testing.T) {
	d := open(t, []byte(report), "", "report.md")
	pieces, fills := preview.Pieces(d, 0)
	var all strings.Builder
	for _, p := range pieces {
		all.WriteString(p.Text + "\n")
	}
	for _, markup := range []string{"#", "**", "`", "](", "|", "```", "> "} {
		if strings.Contains(all.String(), markup) {
			t.Errorf("the page shows the markup %q:\n%s", markup, all.String())
		}
	}
	h1, h2, body := find(t, pieces, "Quarterly review"), find(t, pieces, "Highlights"), find(t, pieces, "Prepared for the")
	if !h1.Bold || !h2.Bold || body.Bold || h1.Size <= h2.Size || h2.Size <= body.Size || body.Mono {
		t.Errorf("headings and body: %+v %+v %+v", h1, h2, body)
	}
	if p := find(t, pieces, "committee"); !p.Bold {
		t.Errorf("strong emphasis: %+v", p)
	}
	if p := find(t, pieces, "model.xlsx"); !p.Mono {
		t.Errorf("code span: %+v", p)
	}
	if p := find(t, pieces, "the room"); p.Color == body.Color {
		t.Errorf("link in the body's colour: %+v", p)
	}
	if p := find(t, pieces, "func irr() float64"); !p.Mono {
		t.Errorf("code block: %+v", p)
	}
	num, item := find(t, pieces, "1."), find(t, pieces, "Revenue grew")
	if num.X >= item.X || num.Y != item.Y {
		t.Errorf("list number %+v beside its item %+v", num, item)
	}
	metric, value := find(t, pieces, "Metric"), find(t, pieces, "1,349.0")
	if !metric.Bold || value.X <= metric.X || value.Y <= metric.Y {
		t.Errorf("table header %+v and cell %+v", metric, value)
	}
	if fills < 8 { // rules under headings, code grounds, the quote's bar, table rules
		t.Errorf("%d rectangles filled", fills)
	}
	img, err := d.Render(context.Background(), 0, 96)
	if err != nil {
		t.Fatal(err)
	}
	if nonWhite(img) < 3000 {
		t.Errorf("%d pixels drawn", nonWhite(img))
	}
}

// TestMarkdownBounded: hostile Markdown — quotes and lists nested
// thousands deep, a table of a thousand columns, a word longer than a
// line, a file over the formatting limit — is laid out within the page,
// without failing, and what is too large says so.
func TestMarkdownBounded(t *testing.T) {
	ctx := context.Background()
	cases := map[string]string{
		"quotes.md": strings.Repeat(">", 20000) + " deep\n",
		"lists.md":  strings.Repeat("- ", 5000) + "deep\n",
		"table.md":  "|" + strings.Repeat(" c |", 1000) + "\n|" + strings.Repeat("---|", 1000) + "\n|" + strings.Repeat(" v |", 1000) + "\n",
		"word.md":   strings.Repeat("x", 5000) + "\n",
		"big.md":    strings.Repeat("Paragraph of a long report.\n\n", 40000),
	}
	for name, src := range cases {
		d := open(t, []byte(src), "", name)
		for _, page := range []int{0, d.Pages() - 1} {
			if _, err := d.Render(ctx, page, 36); err != nil {
				t.Errorf("%s page %d: %v", name, page+1, err)
			}
			pieces, _ := preview.Pieces(d, page)
			for _, p := range pieces {
				if p.X < 0 || p.X > 595 || p.Y < 0 || p.Y > 842 {
					t.Errorf("%s: %q set outside the page at %.0f, %.0f", name, p.Text, p.X, p.Y)
					break
				}
			}
		}
		t.Logf("%s: %d pages", name, d.Pages())
	}
	d := open(t, []byte(cases["big.md"]), "", "big.md")
	if pieces, _ := preview.Pieces(d, 0); pieces != nil {
		t.Errorf("%d KiB of Markdown was formatted, not shown as plain text", len(cases["big.md"])>>10)
	}
	// goldmark rescans a line for each link it opens: 256 KiB of "[a]("
	// on one line took some 10 s to parse (1 MiB, 200 s). A line over
	// 8 KiB is shown as plain text.
	d = open(t, []byte(strings.Repeat("[a](", 64<<10)), "", "links.md")
	if pieces, _ := preview.Pieces(d, 0); pieces != nil {
		t.Error("a 256 KiB line of Markdown was formatted, not shown as plain text")
	}
	many := strings.Repeat("A.\n\n", 40000)
	d = open(t, []byte(many), "", "many.md")
	if d.Pages() != 1000 {
		t.Errorf("%d pages, want the limit of 1000", d.Pages())
	}
	last, _ := preview.Pieces(d, d.Pages()-1)
	if p := find(t, last, "the rest not shown"); !strings.Contains(p.Text, fmt.Sprint(1000)) {
		t.Errorf("last line: %q", p.Text)
	}
}

// TestMarkdownEncodings: Markdown in UTF-16 or Windows-1252 is decoded as
// text previews decode it before it is parsed.
func TestMarkdownEncodings(t *testing.T) {
	for name, data := range map[string][]byte{
		"utf16.md": append([]byte{0xFF, 0xFE}, []byte("#\x00 \x00T\x00\xed\x00t\x00u\x00l\x00o\x00\n\x00")...),
		"1252.md":  []byte("# T\xedtulo\n"),
	} {
		pieces, _ := preview.Pieces(open(t, data, "", name), 0)
		if p := find(t, pieces, "Título"); !p.Bold {
			t.Errorf("%s: %+v", name, p)
		}
	}
}
