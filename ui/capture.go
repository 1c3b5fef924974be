package ui

import "time"

// protect turns the operating system's screen-capture exclusion for the
// window on or off, and reports whether the window is now shielded. It is
// on while a confidential or restricted page is on screen. Where there is
// no such mechanism (Linux: X11 and Wayland let any client with the
// display read the window) it returns false and the window shows a banner
// instead; the watermark and its trace code name the viewer on every
// capture either way.
func (u *UI) protect(on bool) bool {
	if u.shield == nil {
		return false
	}
	return u.shield(on)
}

// unprotectDelay lets the frame that no longer shows a no-export page
// reach the screen before the shield goes off.
const unprotectDelay = 150 * time.Millisecond

// unprotectLater switches the shield off once the window has been redrawn
// without a no-export page, unless one is on screen again by then.
func (u *UI) unprotectLater() {
	time.AfterFunc(unprotectDelay, func() {
		u.do(func() {
			if m := u.main; m == nil || !m.noExportShown {
				u.protect(false)
			}
		})
	})
}
