package preview

import "context"

// Test-only hooks.

// XLSXText is the text a workbook's preview sets in pages.
func XLSXText(ctx context.Context, data []byte) (string, error) { return xlsxText(ctx, data) }

// Workbook preview budgets.
const (
	XLSXMaxRows  = xlsxMaxRows
	XLSXMaxCols  = xlsxMaxCols
	XLSXMaxCells = xlsxMaxCells
)

// Piece is a piece of text a laid-out page draws.
type Piece struct {
	Text  string
	Mono  bool    // set in Go Mono
	Bold  bool    // set in a bold style
	Size  float64 // points
	X, Y  float64 // pen start and baseline, points
	Color [3]uint8
}

// Pieces returns the text a Markdown or spreadsheet document draws on
// page (from 0), and how many rectangles it fills there.
func Pieces(d Document, page int) (pieces []Piece, fills int) {
	ld, ok := d.(*laidDoc)
	if !ok || page >= len(ld.pages) {
		return nil, 0
	}
	for _, op := range ld.pages[page] {
		if op.text == "" {
			fills++
			continue
		}
		pieces = append(pieces, Piece{Text: op.text, Mono: op.style == styleMono,
			Bold: op.style == styleBold || op.style == styleBoldItalic, Size: op.size, X: op.x, Y: op.y,
			Color: [3]uint8{op.color.R, op.color.G, op.color.B}})
	}
	return pieces, fills
}
