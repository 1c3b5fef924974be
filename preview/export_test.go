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
