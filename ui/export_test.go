package ui

import (
	"fyne.io/fyne/v2"
)

// Drop hands uris to the window as if dragged onto it: Fyne's test window
// drops the drop callback, so tests call this instead.
func (u *UI) Drop(uris []fyne.URI) {
	if u.main != nil {
		u.main.dropped(fyne.NewPos(10, 10), uris)
	}
}

// SetStatus puts msg in the status bar, as any message of the window.
func (u *UI) SetStatus(msg string) { u.status.SetText(msg) }
