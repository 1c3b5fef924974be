//go:build !windows && !(darwin && cgo)

package ui

import "fyne.io/fyne/v2"

// captureShield: X11 and Wayland have no way for a window to keep itself
// out of another client's capture.
func captureShield(fyne.Window) func(on bool) bool { return nil }
