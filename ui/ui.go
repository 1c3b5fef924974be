// Package ui is Coffer's desktop face, built with Fyne: the unlock screen,
// the folder list with class badges, the file list, the watermarked preview
// and the shortcuts that policy blocks. It decides nothing: every question
// goes to package app, whose gate the command line shares. It never
// imports fyne/v2/app, so its tests run headless; cmd/coffer passes in the
// real application.
package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/internal/suspend"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// Opener unlocks a vault: app.Open in production.
type Opener func(ctx context.Context, dir, passphrase string) (*app.App, error)

// Rebuilder makes a new index for a vault from its signed objects and
// unlocks it: app.Rebuild in production.
type Rebuilder func(ctx context.Context, dir, passphrase string) (*app.App, *vault.RebuildReport, error)

// UI is one Coffer window on one vault.
type UI struct {
	fapp     fyne.App
	win      fyne.Window
	dir      string
	open     Opener
	create   Creator
	rebuild  Rebuilder
	ctx      context.Context
	a        *app.App
	status   *widget.Label
	progress *widget.ProgressBar
	// syncStatus says how an enrolled vault's sync stands.
	syncStatus *widget.Label
	inbox      string
	idle       time.Duration // 0: the policy's idle lock time
	do         func(func())
	shield     func(on bool) bool // nil where the OS has no capture exclusion
	launcher   func(path string) error

	closing  sync.WaitGroup  // vaults being closed after a lock
	session  context.Context // lives from unlock to lock
	endSess  context.CancelFunc
	lastUsed atomic.Int64      // unix nanoseconds of the last user action
	clocks   suspend.Clocks    // zero: the system's
	asleep   *suspend.Detector // whether the computer slept during the session
	idleNow  time.Duration     // the session's idle lock time

	unlock *unlockView
	main   *mainView
	wiped  *wipedView   // the notice of a wiped vault, once shown
	guard  *lockedGuard // the locked-mode connection while no session runs
	closed bool         // the window closed: no guard starts again

	devices *devicesWindow // the organisation's devices, for the admin key's holder

	menuItems map[string]*fyne.MenuItem // the menu's entries by label
	offered   [5]bool                   // the audiences the menu serves
	bg        background                // the background sync of the session
}

// Options tune the window.
type Options struct {
	// Inbox, if set, is watched after unlock: files dropped into
	// Inbox/<Folder>/ are imported into that folder and then removed.
	Inbox string
	// IdleLock overrides the policy's idle lock time (tests).
	IdleLock time.Duration
	// Clocks, if set, replace the system's clocks by which a session
	// sees that the computer slept (tests).
	Clocks suspend.Clocks
	// Create makes a new vault on the first run: app.Init unless set.
	Create Creator
	// Rebuild makes a new index from the signed objects when unlock says
	// it must: app.Rebuild unless set.
	Rebuild Rebuilder
	// Shield, if set, replaces the operating system's screen-capture
	// exclusion (tests on Linux, which has none).
	Shield func(on bool) bool
	// Do runs a function on the UI goroutine: fyne.Do unless set. Tests
	// set it to serialise background updates with their own inspection,
	// since Fyne's test driver runs fyne.Do on the calling goroutine.
	Do func(func())
	// Launch, if set, opens a file in the default application instead of
	// Fyne's OpenURL (tests: Fyne's test app opens nothing and never fails).
	Launch func(path string) error
}

// New makes the window for the vault in dir, showing the unlock screen, or
// the first-run screen if dir holds no vault yet.
func New(ctx context.Context, fapp fyne.App, dir string, open Opener, opts Options) *UI {
	u := &UI{fapp: fapp, dir: dir, open: open, create: opts.Create, ctx: ctx, status: widget.NewLabel(""),
		progress: widget.NewProgressBar(), syncStatus: widget.NewLabel(""), inbox: opts.Inbox, idle: opts.IdleLock, do: opts.Do, clocks: opts.Clocks}
	if u.do == nil {
		u.do = fyne.Do
	}
	if u.create == nil {
		u.create = app.Init
	}
	u.launcher = opts.Launch
	u.rebuild = opts.Rebuild
	if u.rebuild == nil {
		u.rebuild = app.Rebuild
	}
	u.progress.Hide()
	u.applyTheme()
	u.win = fapp.NewWindow("Coffer — " + dir)
	u.win.Resize(fyne.NewSize(1200, 800))
	u.shield = opts.Shield
	if u.shield == nil {
		u.shield = captureShield(u.win)
	}
	switch {
	case vault.Wiped(dir) != nil, vault.Exists(dir):
		u.showUnlock("")
	default:
		u.showWelcome()
	}
	u.win.SetOnClosed(func() {
		if u.closed {
			return
		}
		u.closed = true
		u.cancelGuard()
		if u.endSess != nil {
			u.endSess()
		}
		if u.a != nil {
			// Closing the window ends the session as a lock does, and the
			// trail says so: an unlock is never left without its end.
			_ = u.a.Lock(context.WithoutCancel(u.ctx), "the window was closed")
			u.a = nil
		}
		u.closing.Wait()
	})
	return u
}

// Window returns the window, for tests and for ShowAndRun.
func (u *UI) Window() fyne.Window { return u.win }

// App returns the unlocked app, or nil while locked.
func (u *UI) App() *app.App { return u.a }

// Status returns the status bar's text.
func (u *UI) Status() string { return u.status.Text }

// setStatus shows a message; safe from any goroutine.
func (u *UI) setStatus(msg string) {
	u.do(func() { u.status.SetText(msg) })
}

// unlocked switches to the main view.
func (u *UI) unlocked(a *app.App) {
	u.a = a
	u.session, u.endSess = context.WithCancel(u.ctx)
	if u.clocks.Awake != nil {
		u.asleep = suspend.NewWithClocks(u.clocks)
	} else {
		u.asleep = suspend.New()
	}
	u.idleNow = u.idle
	if u.idleNow <= 0 {
		u.idleNow = a.IdleLock()
	}
	u.lastUsed.Store(time.Now().UnixNano())
	u.showMain(a)
	u.win.SetOnDropped(func(p fyne.Position, uris []fyne.URI) {
		if u.main != nil {
			u.main.dropped(p, uris)
		}
	})
	if u.inbox != "" {
		u.watchInbox(u.session, a, u.inbox)
	}
	u.syncStatus.SetText("")
	if a.Enrolled() {
		u.startSync(u.session, a)
	}
	go u.lockWhenIdle(u.session, u.asleep, u.idleNow)
}

// SyncStatus returns what the status bar says of sync (tests).
func (u *UI) SyncStatus() string { return u.syncStatus.Text }

// touch records a user action, for the idle lock, and reports whether
// the session goes on. An action once the computer has slept, or past the
// idle time, locks instead and is not done: whoever opens a stolen
// laptop's lid must not keep the vault open by being quick to click.
// Callers return when it reports false.
func (u *UI) touch() bool {
	if u.a != nil {
		if why := u.expired(); why != "" {
			u.lock(why)
			return false
		}
	}
	u.lastUsed.Store(time.Now().UnixNano())
	return true
}

// expired says why the session must lock now, or "". The idle time is
// measured on the wall clock, which runs on while the computer sleeps
// (Go's timers do not).
func (u *UI) expired() string {
	switch {
	case u.asleep.Slept():
		return "the computer slept"
	case time.Since(time.Unix(0, u.lastUsed.Load())) >= u.idleNow:
		return fmt.Sprintf("idle for %s", u.idleNow.Round(time.Second))
	}
	return ""
}

// lockWhenIdle locks the vault once no user action happened for idle, or
// once the computer slept (asleep): it looks every second at most (after a
// sleep, Go's ticker fires up to a tick's time after waking). The lock
// itself is decided again on the UI goroutine, where actions happen.
func (u *UI) lockWhenIdle(ctx context.Context, asleep *suspend.Detector, idle time.Duration) {
	tick := time.NewTicker(min(max(idle/8, 50*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if asleep.Slept() || time.Since(time.Unix(0, u.lastUsed.Load())) >= idle {
				u.do(func() {
					if u.session == ctx && ctx.Err() == nil { // not a session begun since
						if why := u.expired(); why != "" {
							u.lock(why)
						}
					}
				})
			}
		}
	}
}

// lock ends the session: the unlock screen replaces everything (open
// dialogs too), background work is cancelled, and the vault closes in the
// background (the lock is audited) so that a render or import in flight
// cannot hold the window.
func (u *UI) lock(reason string) {
	if u.a == nil {
		return
	}
	a := u.a
	u.endSess()
	u.a, u.main = nil, nil
	overlays := u.win.Canvas().Overlays()
	for top := overlays.Top(); top != nil; top = overlays.Top() {
		overlays.Remove(top)
	}
	u.win.SetMainMenu(nil)
	// Counted before the unlock screen's guard waits for it.
	u.closing.Add(1)
	go func() {
		defer u.closing.Done()
		_ = a.Lock(context.WithoutCancel(u.ctx), reason)
	}()
	u.showUnlock("Locked: " + reason + ". Enter the passphrase to continue.")
	u.unprotectLater()
}

// showUnlock puts the unlock screen up with msg under the entry. An
// enrolled vault first checks with its organisation, and stays connected
// while the screen shows; a wiped vault shows its notice instead.
func (u *UI) showUnlock(msg string) {
	u.wiped = nil
	if err := vault.Wiped(u.dir); err != nil {
		u.cancelGuard()
		u.unlock = nil
		u.showWiped(err.Error())
		return
	}
	v := newUnlockView(u)
	u.unlock = v
	v.err.SetText(msg)
	u.win.SetContent(v.content)
	if !enrolledVault(u.dir) {
		u.cancelGuard()
		u.win.Canvas().Focus(v.pass)
		return
	}
	v.check()
	u.startGuard(true, func(err error) {
		if u.unlock == v {
			v.ready(u, err)
		}
	})
}

// message turns an error into words for the status bar.
func message(err error) string {
	var le *vault.LockedError
	var be *app.BlockedError
	var lease *app.LeaseError
	switch {
	case errors.As(err, &lease):
		return leaseMessage(lease)
	case errors.Is(err, vault.ErrWrongPassphrase):
		return "Wrong passphrase. Try again — it is case-sensitive."
	case errors.As(err, &le):
		return fmt.Sprintf("Too many wrong passphrases. Try again after %s UTC.", le.Until.UTC().Format("15:04:05"))
	case errors.As(err, &be):
		return display.Text(fmt.Sprintf("Blocked: %s. The attempt is recorded in the audit trail.", be.Reason))
	case errors.Is(err, app.ErrBlocked):
		return display.Text("Blocked: " + err.Error())
	}
	// Errors can carry names from the vault or the disk.
	return display.Text(err.Error())
}

// classColor gives each class a distinct badge colour.
func classColor(c policy.Class) color.Color {
	switch c {
	case policy.Public:
		return color.NRGBA{R: 46, G: 125, B: 50, A: 255}
	case policy.Internal:
		return color.NRGBA{R: 21, G: 101, B: 192, A: 255}
	case policy.Confidential:
		return color.NRGBA{R: 230, G: 120, B: 0, A: 255}
	case policy.Restricted:
		return color.NRGBA{R: 198, G: 40, B: 40, A: 255}
	}
	return color.Gray{Y: 128}
}

// captureNote is shown while a no-export document is visible and the
// window could not be kept out of screenshots.
func captureNote() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux cannot keep this window out of screenshots: the watermark and its trace code name you on every capture."
	case "darwin":
		return "macOS 15 and later may let screen capture see this window: the watermark and its trace code name you on every capture."
	}
	return "This window could not be kept out of screenshots: the watermark and its trace code name you on every capture."
}

// statusBar is the bottom line of the window.
func (u *UI) statusBar() fyne.CanvasObject {
	u.syncStatus.Truncation = fyne.TextTruncateEllipsis
	// A long message wraps, and is cut at the bar's height, rather than
	// widening or lengthening the window (the window grows to the least
	// size of its content, and never shrinks back by itself).
	u.status.Wrapping = fyne.TextWrapWord
	u.status.Truncation = fyne.TextTruncateEllipsis
	right := container.NewHBox(container.NewGridWrap(fyne.NewSize(360, 30), u.syncStatus), container.NewGridWrap(fyne.NewSize(220, 30), u.progress))
	return container.NewBorder(nil, nil, nil, right, u.status)
}
