package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/vault"
)

// Remote wipe and the lease as the window shows them (docs/sync-protocol.md,
// "Remote wipe, receipts and the lease"). An enrolled vault's window stays
// connected in locked mode while its unlock screen shows: it asks the
// organisation first ("Checking with your organisation…", a few seconds at
// most offline), then follows the log, and a wipe ordered meanwhile
// replaces the screen with what happened. A wipe that arrives while the
// vault is unlocked closes the document on screen and shows the same
// notice; a wiped vault never shows a passphrase field again.

// checkTimeout bounds the check before the passphrase is asked: offline,
// the prompt shows after this long and the watch goes on behind it.
const checkTimeout = 4 * time.Second

// lockedGuard is the locked-mode connection of the window's vault: the
// check before the prompt, then app.WatchLocked, until stopped.
type lockedGuard struct {
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the guard and waits until it has: a wipe it began is finished
// first. Never on the UI goroutine: the guard reports through u.do.
func (g *lockedGuard) stop() {
	g.cancel()
	<-g.done
}

// enrolledVault reports whether dir holds a vault of an organisation
// (whose pins are kept in clear for locked mode).
func enrolledVault(dir string) bool {
	_, err := vault.ReadOrgCopy(dir)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// startGuard keeps the vault in dir connected in locked mode while the
// unlock or notice screen shows. With check, it first runs the check
// before the passphrase (app.BeforeUnlock) and calls ready on the UI
// goroutine when it found no wipe, with what stopped it from asking (nil
// if nothing did). A wipe, found at once or ordered later, puts the
// notice up. Called on the UI goroutine.
func (u *UI) startGuard(check bool, ready func(error)) {
	u.cancelGuard()
	if u.closed {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	g := &lockedGuard{dir: u.dir, cancel: cancel, done: make(chan struct{})}
	u.guard = g
	current := func(f func()) {
		u.do(func() {
			if u.guard == g {
				f()
			}
		})
	}
	go func() {
		defer close(g.done)
		// A lock closes the vault in the background: a wipe must not
		// begin while it is still open.
		u.closing.Wait()
		if check {
			err := app.BeforeUnlock(ctx, g.dir, checkTimeout)
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, vault.ErrWiped) {
				current(func() { u.showWiped(err.Error()) })
			} else {
				current(func() { ready(err) })
			}
		}
		err := app.WatchLocked(ctx, g.dir, func(notice string) {
			current(func() { u.showWiped(notice) })
		}, nil)
		if errors.Is(err, vault.ErrWiped) {
			// The wipe is finished and its receipt sent.
			current(func() {
				u.showWiped(err.Error())
				if u.wiped != nil {
					u.wiped.settled(vault.PendingReceipt(g.dir) == nil)
				}
			})
		}
	}()
}

// cancelGuard stops the locked-mode connection without waiting for it
// (on the UI goroutine).
func (u *UI) cancelGuard() {
	if u.guard != nil {
		u.guard.cancel()
		u.guard = nil
	}
}

// takeGuard hands the running guard to the caller, who stops it off the
// UI goroutine before the vault opens.
func (u *UI) takeGuard() *lockedGuard {
	g := u.guard
	u.guard = nil
	return g
}

// wipedView is what a wiped vault's window shows instead of a prompt.
type wipedView struct {
	content fyne.CanvasObject
	notice  *widget.Label
	receipt *widget.Label
}

// showWiped puts the notice of a wiped vault up (or updates the one
// shown): what happened, by whose order and when, that nothing decrypts;
// and whether the organisation has the device's receipt yet. The guard
// keeps sending it while the notice shows.
func (u *UI) showWiped(notice string) {
	if u.a != nil {
		return // an unlocked window closes its session first: wipedWhileUnlocked
	}
	u.unlock = nil
	if u.wiped == nil {
		u.wiped = newWipedView(u)
		u.win.SetContent(u.wiped.content)
		u.win.SetMainMenu(nil)
		u.win.SetOnDropped(nil)
	}
	u.wiped.set(notice, vault.PendingReceipt(u.dir) != nil)
	if u.guard == nil {
		u.startGuard(false, nil) // finishes an interrupted wipe, sends the receipt
	}
}

func newWipedView(u *UI) *wipedView {
	v := &wipedView{notice: widget.NewLabel(""), receipt: widget.NewLabel("")}
	title := widget.NewLabelWithStyle("This vault was wiped", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	v.notice.Wrapping = fyne.TextWrapWord
	v.receipt.Wrapping = fyne.TextWrapWord
	where := widget.NewLabel(u.dir)
	where.Truncation = fyne.TextTruncateEllipsis
	next := widget.NewLabel("There is nothing to unlock here. If this is a mistake, or you need your documents again, " +
		"ask your organisation's IT: they can enrol a device for you.")
	next.Wrapping = fyne.TextWrapWord
	other := widget.NewButton("Open another vault…", u.chooseVault)
	box := container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, title), where,
		widget.NewSeparator(), v.notice, widget.NewSeparator(), next, v.receipt, container.NewHBox(other))
	v.content = container.NewCenter(fixedWidth(640, box))
	return v
}

// set shows the notice and the receipt's state.
func (v *wipedView) set(notice string, pending bool) {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(notice), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, display.Text(l))
		}
	}
	v.notice.SetText(strings.Join(lines, "\n"))
	if pending {
		v.receipt.SetText("This device is sending its signed receipt of the wipe to the organisation: " +
			"keep Coffer open while it is online.")
	}
}

// settled says the wipe is over: sent, the organisation has the receipt.
func (v *wipedView) settled(sent bool) {
	if sent {
		v.receipt.SetText("The organisation has this device's signed receipt of the wipe.")
	}
}

// wipedWhileUnlocked ends the session of a whose vault the organisation
// wiped while it was unlocked (app closed it itself): the document on
// screen and every dialog go at once, and the notice replaces the window.
func (u *UI) wipedWhileUnlocked(a *app.App, notice string) {
	if u.a != a || a == nil {
		return
	}
	if m := u.main; m != nil {
		m.seq++ // a page still rendering is not shown
		m.hidePage()
	}
	u.endSess()
	u.a, u.main = nil, nil
	overlays := u.win.Canvas().Overlays()
	for top := overlays.Top(); top != nil; top = overlays.Top() {
		overlays.Remove(top)
	}
	u.menuItems = nil
	u.showWiped(notice)
	u.unprotectLater()
}

// leaseMessage says why an enrolled vault does not unlock past its lease,
// and what to do.
func leaseMessage(le *app.LeaseError) string {
	return fmt.Sprintf("Locked by your organisation's policy: this device has not reached its server (%s) since %s, "+
		"and the policy allows %s offline. Connect it to the organisation's network (or its VPN) and unlock again: "+
		"the lease renews as soon as the server answers. Your documents are still here.",
		display.Text(le.Server), utcTime(le.LastRenewal), hours(le.Lease))
}

// hours writes a lease in words: "12 hours", "3 days".
func hours(d time.Duration) string {
	switch h := int(d.Round(time.Hour) / time.Hour); {
	case d < time.Hour:
		return d.Round(time.Minute).String()
	case h == 1:
		return "1 hour"
	case h%24 == 0 && h > 24:
		return fmt.Sprintf("%d days", h/24)
	default:
		return fmt.Sprintf("%d hours", h)
	}
}
