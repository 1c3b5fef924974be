//go:build !linux && !freebsd && !openbsd && !netbsd

package main

// displayVars is empty: Windows and macOS always have a display.
var displayVars []string
