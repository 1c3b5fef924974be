//go:build windows

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"golang.org/x/sys/windows"
)

// Display affinities for SetWindowDisplayAffinity (winuser.h).
const (
	wdaNone               = 0x00
	wdaMonitor            = 0x01 // captures show the window black (Windows 7+)
	wdaExcludeFromCapture = 0x11 // captures leave the window out (Windows 10 2004+)
)

// captureShield keeps w out of screenshots, screen recordings and screen
// sharing with SetWindowDisplayAffinity, falling back to WDA_MONITOR on
// Windows releases before 10 2004.
func captureShield(w fyne.Window) func(on bool) bool {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return nil
	}
	proc := windows.NewLazySystemDLL("user32.dll").NewProc("SetWindowDisplayAffinity")
	return func(on bool) bool {
		shielded := false
		nw.RunNative(func(ctx any) {
			wc, ok := ctx.(driver.WindowsWindowContext)
			if !ok || wc.HWND == 0 || proc.Find() != nil {
				return
			}
			if !on {
				_, _, _ = proc.Call(wc.HWND, wdaNone)
				return
			}
			if r, _, _ := proc.Call(wc.HWND, wdaExcludeFromCapture); r != 0 {
				shielded = true
				return
			}
			r, _, _ := proc.Call(wc.HWND, wdaMonitor)
			shielded = r != 0
		})
		return shielded
	}
}
