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
	XLSXMaxSteps = xlsxMaxSteps
)

// Piece is a piece of text a laid-out page draws.
type Piece struct {
	Text   string
	Mono   bool // set in Go Mono
	Bold   bool // set in a bold style
	Italic bool
	Size   float64 // points
	X, Y   float64 // pen start and baseline, points
	Color  [3]uint8
	Clip   [4]float64 // x0, y0, x1, y1 in points; zero: the page
}

// Pieces returns the text a Markdown or spreadsheet document draws on
// page (from 0), and how many rectangles it fills there.
func Pieces(d Document, page int) (pieces []Piece, fills int) {
	var ops []drawOp
	switch d := d.(type) {
	case *laidDoc:
		if page < len(d.pages) {
			ops = d.pages[page]
		}
	case *gridDoc:
		if page < len(d.pages) {
			ops = d.ops(d.pages[page])
		}
	}
	for _, op := range ops {
		if op.text == "" {
			fills++
			continue
		}
		pieces = append(pieces, Piece{Text: op.text, Mono: op.style == styleMono,
			Bold: op.style == styleBold || op.style == styleBoldItalic, Italic: op.style == styleItalic || op.style == styleBoldItalic,
			Size: op.size, X: op.x, Y: op.y, Color: [3]uint8{op.color.R, op.color.G, op.color.B},
			Clip: [4]float64{op.rect.x0, op.rect.y0, op.rect.x1, op.rect.y1}})
	}
	return pieces, fills
}
