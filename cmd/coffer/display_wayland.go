//go:build (linux || freebsd || openbsd || netbsd) && wayland

package main

// displayVars names the display Fyne's Wayland driver opens its window on.
var displayVars = []string{"WAYLAND_DISPLAY"}
