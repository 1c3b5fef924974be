package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/dustin/go-humanize"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/vault"
)

// column is one column of the file table: its title, width and how it
// shows and orders files.
type column struct {
	title string
	width float32
	text  func(vault.FileInfo) string
	cmp   func(a, b vault.FileInfo) int
}

var columns = []column{
	{"Name", 300, func(f vault.FileInfo) string { return display.Name(f.Name) },
		func(a, b vault.FileInfo) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) }},
	{"Type", 150, func(f vault.FileInfo) string { return typeLabel(f.Type, f.Name) },
		func(a, b vault.FileInfo) int {
			return cmp.Compare(typeLabel(a.Type, a.Name), typeLabel(b.Type, b.Name))
		}},
	{"Size", 90, func(f vault.FileInfo) string { return humanize.IBytes(uint64(f.Size)) },
		func(a, b vault.FileInfo) int { return cmp.Compare(a.Size, b.Size) }},
	{"Modified", 140, func(f vault.FileInfo) string { return f.Modified.Local().Format("2006-01-02 15:04") },
		func(a, b vault.FileInfo) int { return a.Modified.Compare(b.Modified) }},
	{"Author", 180, func(f vault.FileInfo) string { return display.Name(f.Author) },
		func(a, b vault.FileInfo) int { return cmp.Compare(a.Author, b.Author) }},
	{"Versions", 80, func(f vault.FileInfo) string { return fmt.Sprint(f.Versions) },
		func(a, b vault.FileInfo) int { return cmp.Compare(a.Versions, b.Versions) }},
}

// fileTable is the file list: sortable by any column (tap its header;
// again to reverse) and filtered by the search box.
type fileTable struct {
	table    *pagedTable
	files    []vault.FileInfo // the folder's files
	shown    []vault.FileInfo // sorted and filtered
	sortBy   int
	desc     bool
	query    string
	selected int // row of the selected file, -1 for none
	onSelect func(vault.FileInfo)
}

// pagedTable is the file table with the keys of the document it opened:
// a click on a file gives the table the focus, and Fyne then hands it
// every key, so it offers them to pageKey first (which turns pages while
// a document is shown) and keeps the rest for itself.
type pagedTable struct {
	widget.Table
	pageKey func(fyne.KeyName) bool // reports whether it took the key
}

func (t *pagedTable) TypedKey(e *fyne.KeyEvent) {
	if t.pageKey != nil && t.pageKey(e.Name) {
		return
	}
	t.Table.TypedKey(e)
}

// visibleRows is how many files the table shows at its least height.
const visibleRows = 5

// minHeight is the table's height with its header and visibleRows rows,
// as the cells are drawn in the current theme.
func (t *fileTable) minHeight() float32 {
	row := newCell().MinSize().Height + theme.Padding()
	header := t.table.CreateHeader().MinSize().Height + theme.Padding()
	return header + visibleRows*row
}

func newFileTable(onSelect func(vault.FileInfo)) *fileTable {
	t := &fileTable{onSelect: onSelect, table: &pagedTable{}}
	t.table.Length = func() (int, int) { return len(t.shown), len(columns) }
	t.table.CreateCell = newCell
	t.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row >= len(t.shown) {
			return
		}
		f := t.shown[id.Row]
		badge, fam := "", famOther
		if columns[id.Col].title == "Type" {
			badge, fam, _ = fileKind(f.Type, f.Name)
		}
		setCell(o, columns[id.Col].text(f), badge, fam.color)
	}
	t.table.ShowHeaderRow = true
	t.table.ExtendBaseWidget(t.table)
	t.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		return b
	}
	t.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 {
			return
		}
		title := columns[id.Col].title
		if id.Col == t.sortBy {
			title += map[bool]string{false: " ▲", true: " ▼"}[t.desc]
		}
		b.SetText(title)
		col := id.Col
		b.OnTapped = func() { t.SortBy(col) }
	}
	for i, c := range columns {
		t.table.SetColumnWidth(i, c.width)
	}
	t.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(t.shown) {
			t.selected = id.Row
			t.onSelect(t.shown[id.Row])
		}
	}
	t.table.OnUnselected = func(widget.TableCellID) { t.selected = -1 }
	t.selected = -1
	return t
}

// step selects the file delta rows below the one selected (above for a
// negative delta), as the Down and Up keys do in a file browser with a
// preview; with none selected, the first.
func (t *fileTable) step(delta int) {
	row := t.selected + delta
	if t.selected < 0 {
		row = 0
	}
	if row < 0 || row >= len(t.shown) {
		return
	}
	t.table.Select(widget.TableCellID{Row: row, Col: 0})
}

// SetFiles replaces the listed files, keeping the sort and filter.
func (t *fileTable) SetFiles(files []vault.FileInfo) {
	t.files = files
	t.apply()
}

// Filter shows the files whose names contain q, case-insensitively.
func (t *fileTable) Filter(q string) {
	t.query = strings.ToLower(strings.TrimSpace(q))
	t.apply()
}

// SortBy orders by column col; the same column again reverses the order.
func (t *fileTable) SortBy(col int) {
	if col == t.sortBy {
		t.desc = !t.desc
	} else {
		t.sortBy, t.desc = col, false
	}
	t.apply()
}

// Shown returns the files as listed, top to bottom.
func (t *fileTable) Shown() []vault.FileInfo { return t.shown }

func (t *fileTable) apply() {
	t.shown = t.shown[:0]
	for _, f := range t.files {
		if t.query == "" || strings.Contains(strings.ToLower(f.Name), t.query) {
			t.shown = append(t.shown, f)
		}
	}
	c := columns[t.sortBy].cmp
	slices.SortStableFunc(t.shown, func(a, b vault.FileInfo) int {
		r := cmp.Or(c(a, b), columns[0].cmp(a, b))
		if t.desc {
			return -r
		}
		return r
	})
	t.table.UnselectAll()
	t.table.Refresh()
}
