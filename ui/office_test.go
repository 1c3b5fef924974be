package ui_test

import (
	"bytes"
	"context"
	"image/color"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/testdocs"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/ui"
)

// badgeOf returns the text and colour of the badge a table cell shows,
// and its label; "" when it shows none.
func badgeOf(t *testing.T, tab *widget.Table, row, col int) (badge string, c color.Color, label string) {
	t.Helper()
	cell := tab.CreateCell()
	tab.UpdateCell(widget.TableCellID{Row: row, Col: col}, cell)
	l, _ := find(t, cell, func(*widget.Label) bool { return true })
	txt, ok := find(t, cell, func(c *canvas.Text) bool { return c.TextSize == 9 && c.TextStyle.Bold })
	rect, _ := find(t, cell, func(r *canvas.Rectangle) bool { return r.CornerRadius == 3 })
	if !ok || rect == nil || txt.Text == "" {
		return "", nil, l.Text
	}
	return txt.Text, rect.FillColor, l.Text
}

// TestOfficeDocumentsInTheWindow: the file table shows each kind's badge
// (Word, PowerPoint, workbook, Markdown), a Word document opens on screen
// as its pages (converted by LibreOffice), and About names the
// LibreOffice that converts and its sandbox.
func TestOfficeDocumentsInTheWindow(t *testing.T) {
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	corpus := testenv.Corpus(t)
	for name, data := range map[string][]byte{
		"Term sheet.docx": testdocs.Text(t, ".docx", 2, "UIDOCX"),
		"Pitch.pptx":      testdocs.Slides(t, ".pptx", 2, "UIPPTX"),
	} {
		if _, err := a.Import(ctx, "Research", name, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"xlsx/deaths.xlsx", "text/glib-README.md"} {
		if _, err := a.ImportFile(ctx, "Research", filepath.Join(corpus, f), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	u, w, _ := unlock(t, dir, ui.Options{})
	folders, files := lists(t, w)
	onUI(func() { folders.Select(1) }) // Research
	eventually(t, "five files", func() bool { r, _ := files.Length(); return r == 5 })
	want := map[string][2]string{
		"Term sheet.docx":     {"DOCX", "Word document"},
		"Pitch.pptx":          {"PPTX", "PowerPoint"},
		"deaths.xlsx":         {"XLSX", "Excel workbook"},
		"glib-README.md":      {"MD", "Markdown"},
		"debian-releases.csv": {"CSV", "CSV"},
	}
	colours := map[color.Color]string{}
	docx := -1
	onUI(func() {
		for i := range 5 {
			name := cellText(t, files, i, 0)
			badge, c, label := badgeOf(t, files, i, 1)
			if w, ok := want[name]; !ok || badge != w[0] || label != w[1] {
				t.Errorf("%s: badge %q, label %q, want %q", name, badge, label, w)
			}
			if b, _, _ := badgeOf(t, files, i, 0); b != "" {
				t.Errorf("%s: the Name column shows a badge %q", name, b)
			}
			colours[c] = name
			if name == "Term sheet.docx" {
				docx = i
			}
		}
	})
	if len(colours) < 4 { // the workbook and the CSV share the spreadsheets' green
		t.Errorf("badge colours %v: kinds are not told apart", colours)
	}
	onUI(func() { files.Select(widget.TableCellID{Row: docx, Col: 0}) })
	eventuallyWithin(t, 2*time.Minute, "the Word document's first page", func() bool {
		return strings.Contains(u.Status(), "trace code") && strings.Contains(u.Status(), "Term sheet.docx")
	})
	if s := u.Status(); !strings.Contains(s, "page 1 of 2") {
		t.Errorf("status %q, want page 1 of 2", s)
	}

	about := menuItem(t, w, "About Coffer…")
	onUI(about.Action)
	eventually(t, "About naming LibreOffice", func() bool {
		top := w.Canvas().Overlays().Top()
		if top == nil {
			return false
		}
		_, ok := find(t, top, func(l *widget.Label) bool {
			return strings.Contains(l.Text, "LibreOffice "+testdocs.Soffice(t).Version) && strings.Contains(l.Text, testdocs.Soffice(t).Program)
		})
		return ok
	})
}
