package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
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
	table    *widget.Table
	files    []vault.FileInfo // the folder's files
	shown    []vault.FileInfo // sorted and filtered
	sortBy   int
	desc     bool
	query    string
	onSelect func(vault.FileInfo)
}

func newFileTable(onSelect func(vault.FileInfo)) *fileTable {
	t := &fileTable{onSelect: onSelect}
	t.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(t.shown), len(columns) },
		newCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(t.shown) {
				return
			}
			f := t.shown[id.Row]
			badge, fam := "", famOther
			if columns[id.Col].title == "Type" {
				badge, fam, _ = fileKind(f.Type, f.Name)
			}
			setCell(o, columns[id.Col].text(f), badge, fam.color)
		})
	t.table.ShowHeaderColumn = false
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
			t.onSelect(t.shown[id.Row])
		}
	}
	return t
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
