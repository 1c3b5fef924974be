package ui

// protect turns the operating system's screen-capture exclusion for the
// window on or off, and reports whether the window is now shielded. It is
// on exactly while a confidential or restricted page is on screen. Where
// there is no such mechanism (Linux: X11 and Wayland let any client with
// the display read the window) it returns false and the window shows a
// banner instead; the watermark and its trace code name the viewer on
// every capture either way.
func (u *UI) protect(on bool) bool {
	if u.shield == nil {
		return false
	}
	shielded := u.shield(on)
	u.shielded = shielded
	return shielded
}
