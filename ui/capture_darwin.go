//go:build darwin && cgo

package ui

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework AppKit
#import <AppKit/AppKit.h>

// setSharing sets the window's sharingType: NSWindowSharingNone keeps it
// out of screenshots and of other apps' window capture. It reports the
// window shielded only before macOS 15, whose ScreenCaptureKit is reported
// to ignore sharingType (tauri#14200, electron#48258): there the banner
// stays.
static int setSharing(uintptr_t w, int none) {
	NSWindow *win = (NSWindow *)(void *)w;
	if (win == nil) {
		return 0;
	}
	[win setSharingType:(none ? NSWindowSharingNone : NSWindowSharingReadOnly)];
	if ([[NSProcessInfo processInfo] operatingSystemVersion].majorVersion >= 15) {
		return 0;
	}
	return [win sharingType] == NSWindowSharingNone;
}
*/
import "C"

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// captureShield sets the NSWindow's sharingType to none while on.
func captureShield(w fyne.Window) func(on bool) bool {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return nil
	}
	return func(on bool) bool {
		shielded := false
		nw.RunNative(func(ctx any) {
			mc, ok := ctx.(driver.MacWindowContext)
			if !ok || mc.NSWindow == 0 {
				return
			}
			none := C.int(0)
			if on {
				none = 1
			}
			shielded = C.setSharing(C.uintptr_t(mc.NSWindow), none) == 1
		})
		return shielded
	}
}
