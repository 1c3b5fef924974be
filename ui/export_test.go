package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Drop hands uris to the window as if dragged onto it: Fyne's test window
// drops the drop callback, so tests call this instead.
func (u *UI) Drop(uris []fyne.URI) {
	if u.main != nil {
		u.main.dropped(fyne.NewPos(10, 10), uris)
	}
}

// FileTable returns the table inside o if o is the main view's file
// table, else nil.
func FileTable(o fyne.CanvasObject) *widget.Table {
	if t, ok := o.(*pagedTable); ok {
		return &t.Table
	}
	return nil
}

// SetStatus puts msg in the status bar, as any message of the window.
func (u *UI) SetStatus(msg string) { u.status.SetText(msg) }
