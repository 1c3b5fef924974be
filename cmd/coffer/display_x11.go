//go:build (linux || freebsd || openbsd || netbsd) && !wayland

package main

// displayVars names the display Fyne's X11 driver opens its window on.
var displayVars = []string{"DISPLAY"}
