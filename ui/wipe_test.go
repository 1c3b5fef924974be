package ui_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/ui"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// locked opens a window on an enrolled vault and leaves it at its unlock
// screen, once the check with the organisation let it ask the passphrase.
func locked(t *testing.T, dir string) (*ui.UI, fyne.Window) {
	t.Helper()
	fapp := test.NewTempApp(t)
	var u *ui.UI
	onUI(func() {
		u = ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
		u.Window().Resize(fyne.NewSize(1200, 800))
	})
	w := u.Window()
	t.Cleanup(func() { onUI(w.Close) })
	prompt(t, w)
	return u, w
}

func deviceOf(t *testing.T, dir string) object.ID {
	t.Helper()
	id, _, err := vault.ReadTransportKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// noticeShown reports whether the window shows the notice of a wipe
// ordered by the admin, and no passphrase field.
func noticeShown(t *testing.T, w fyne.Window, reason string) bool {
	_, prompt := findShown(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
	return !prompt && hasLabel(t, w.Content(), "This vault was wiped") &&
		hasLabel(t, w.Content(), "wiped by order of Acme's administrator") && hasLabel(t, w.Content(), "("+reason+")") &&
		hasLabel(t, w.Content(), "nothing in this folder can be decrypted")
}

// verifiedReceipt waits for the device's receipt as the admin verifies it.
func verifiedReceipt(t *testing.T, o *org, device object.ID) *client.VerifiedReceipt {
	t.Helper()
	r, err := o.admin.WaitReceipt(context.Background(), device, 15*time.Second)
	if err != nil || r == nil {
		t.Fatalf("the wipe receipt: %v, %v", r, err)
	}
	if r.Cause != "admin" || r.Files == 0 {
		t.Errorf("receipt: cause %q, %d files", r.Cause, r.Files)
	}
	return r
}

// TestLockedWindowIsWipedByTheAdmin: a window showing an enrolled vault's
// unlock screen stays connected; the admin wipes the device; the window
// replaces the prompt with what happened, by whose order and when, and
// the device's signed receipt reaches the admin. A window opened on the
// folder afterwards shows the notice at once.
func TestLockedWindowIsWipedByTheAdmin(t *testing.T) {
	o := newOrg(t)
	dir := enrolled(t, o, "ann@acme.test", policy.Member, "Ann Trader", "Ann's laptop")
	_, w := locked(t, dir)
	device := deviceOf(t, dir)
	if err := o.admin.Wipe(context.Background(), device, "laptop left in a taxi"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the notice instead of the prompt", func() bool { return noticeShown(t, w, "laptop left in a taxi") })
	verifiedReceipt(t, o, device)
	eventually(t, "the receipt said to be with the organisation", func() bool {
		return hasLabel(t, w.Content(), "The organisation has this device's signed receipt")
	})

	_, again := locked2(t, dir)
	onUI(func() {
		if !noticeShown(t, again, "laptop left in a taxi") {
			t.Error("a window opened on the wiped folder does not show the notice at once")
		}
	})
}

// TestPendingWipeRunsBeforeThePrompt: the admin orders the wipe while no
// window is open on the device; the next window on the folder carries it
// out before it ever offers the passphrase field, then shows the notice,
// and the admin gets the device's verified receipt.
func TestPendingWipeRunsBeforeThePrompt(t *testing.T) {
	o := newOrg(t)
	dir := enrolled(t, o, "ann@acme.test", policy.Member, "Ann Trader", "Ann's laptop")
	device := deviceOf(t, dir)
	if err := o.admin.Wipe(context.Background(), device, "laptop not returned"); err != nil {
		t.Fatal(err)
	}
	if err := vault.Wiped(dir); err != nil {
		t.Fatalf("the vault was wiped before any window opened on it: %v", err)
	}
	// The check's outcome comes back under the UI lock: what New shows
	// first is read before it can.
	fapp := test.NewTempApp(t)
	var w fyne.Window
	onUI(func() {
		w = ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo}).Window()
		if !hasLabel(t, w.Content(), "Checking with your organisation") {
			t.Error("the window does not say it is checking with the organisation")
		}
	})
	t.Cleanup(func() { onUI(w.Close) })
	eventually(t, "the notice, with no prompt before it", func() bool {
		if _, ok := findShown(t, w.Content(), func(e *widget.Entry) bool { return e.Password }); ok {
			t.Fatal("the passphrase field shows before the wipe")
		}
		return noticeShown(t, w, "laptop not returned")
	})
	verifiedReceipt(t, o, device)
	if _, err := app.Open(context.Background(), dir, pass); !errors.Is(err, vault.ErrWiped) {
		t.Errorf("the wiped vault opens: %v", err)
	}
}

// locked2 opens a window on a folder without waiting for a prompt.
func locked2(t *testing.T, dir string) (*ui.UI, fyne.Window) {
	t.Helper()
	fapp := test.NewTempApp(t)
	var u *ui.UI
	onUI(func() {
		u = ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
		u.Window().Resize(fyne.NewSize(1200, 800))
	})
	t.Cleanup(func() { onUI(u.Window().Close) })
	return u, u.Window()
}

// TestUnlockPromptWhenOffline: with the organisation's server gone, the
// check before the passphrase gives up at once and the prompt shows.
func TestUnlockPromptWhenOffline(t *testing.T) {
	o := newOrg(t)
	dir := enrolled(t, o, "ann@acme.test", policy.Member, "Ann Trader", "Ann's laptop")
	o.stop()
	start := time.Now()
	u, w := locked(t, dir)
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("the prompt took %s offline", d)
	}
	entry := prompt(t, w)
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	eventually(t, "unlocked offline", func() bool { return u.App() != nil })
}

// TestWipeWhilePreviewIsOpen: a confidential page is on screen, with the
// versions dialog over it, when the admin wipes the device; the window
// drops the page and the dialog at once and shows the notice.
func TestWipeWhilePreviewIsOpen(t *testing.T) {
	o := newOrg(t)
	ann := falcon(t, o)
	dir := ann.Vault().Dir()
	ann.Close()
	u, w := open(t, dir)
	folders, files := lists(t, w)
	onUI(func() { folders.Select(0) }) // Project Falcon
	eventually(t, "terms.txt listed", func() bool { r, _ := files.Length(); return r == 1 })
	onUI(func() { files.Select(widget.TableCellID{Row: 0, Col: 0}) })
	var page *canvas.Image
	eventually(t, "the page on screen", func() bool {
		page, _ = find(t, w.Content(), func(i *canvas.Image) bool { return i.Image != nil && i.Resource == nil })
		return page != nil && strings.Contains(u.Status(), "trace code")
	})
	eventually(t, "synced", func() bool { return strings.HasPrefix(u.SyncStatus(), "Synced at") })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyH)) })
	top(t, w, "the versions dialog")

	device := deviceOf(t, dir)
	if err := o.admin.Wipe(context.Background(), device, "stolen from a car"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the notice", func() bool { return noticeShown(t, w, "stolen from a car") })
	onUI(func() {
		if u.App() != nil {
			t.Error("the window still holds the app")
		}
		if page.Image != nil {
			t.Errorf("the page's pixels are still held: %v %v", page.Image.Bounds(), page.Resource)
		}
		if i, ok := find(t, w.Content(), func(i *canvas.Image) bool { return i.Image != nil && i.Resource == nil }); ok {
			t.Errorf("a page is still on screen %v %v", i.Image.Bounds(), i.Resource)
		}
		if w.Canvas().Overlays().Top() != nil {
			t.Error("a dialog is still on screen")
		}
		if _, ok := find(t, w.Content(), func(o fyne.CanvasObject) bool { return ui.FileTable(o) != nil }); ok {
			t.Error("the file list is still on screen")
		}
		if w.MainMenu() != nil {
			t.Error("the menu still offers the vault's commands")
		}
	})
	verifiedReceipt(t, o, device)
	if _, err := app.Open(context.Background(), dir, pass); !errors.Is(err, vault.ErrWiped) {
		t.Errorf("the wiped vault opens: %v", err)
	}
}

// TestLeaseLockSaysWhatToDo: a vault past its lease does not unlock; the
// unlock screen says since when it has not reached its server, what the
// policy allows, and what to do, and keeps the prompt for the next try.
func TestLeaseLockSaysWhatToDo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Init(context.Background(), dir, vault.Identity{Email: "ann@example.com", Name: "Ann Trader"}, pass)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	last := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	leased := func(context.Context, string, string) (*app.App, error) {
		return nil, fmt.Errorf("unlock: %w", &app.LeaseError{LastRenewal: last, Lease: 12 * time.Hour, Server: "https://coffer.acme.test"})
	}
	fapp := test.NewTempApp(t)
	var u *ui.UI
	onUI(func() { u = ui.New(context.Background(), fapp, dir, leased, ui.Options{Do: serialDo}) })
	w := u.Window()
	t.Cleanup(func() { onUI(w.Close) })
	entry := prompt(t, w)
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	eventually(t, "the lease message", func() bool {
		return hasLabel(t, w.Content(), "Locked by your organisation's policy: this device has not reached its server "+
			"(https://coffer.acme.test) since 2026-03-02 08:30 UTC, and the policy allows 12 hours offline. "+
			"Connect it to the organisation's network")
	})
	onUI(func() {
		if _, ok := findShown(t, w.Content(), func(e *widget.Entry) bool { return e.Password && !e.Disabled() }); !ok {
			t.Error("no prompt for the next try")
		}
	})
}

// TestLeaseEndsOfflineInTheWindow: a real organisation's policy allows 2
// hours offline and 3 days before the vault destroys itself. With the
// server gone and the device's clock 3 hours on, unlock is refused with
// the lease's message and the prompt stays; 4 days on, the same unlock
// wipes the vault and the window shows that it wiped itself.
func TestLeaseEndsOfflineInTheWindow(t *testing.T) {
	o := newOrg(t)
	if _, err := o.admin.SetPolicy(context.Background(), &policy.Document{V: 1, MaxUnlockFailures: 10, IdleLockMinutes: 15,
		LeaseHours: 2, WipeAfterDays: 3}); err != nil {
		t.Fatal(err)
	}
	dir := enrolled(t, o, "ann@acme.test", policy.Member, "Ann Trader", "Ann's laptop")
	o.stop()
	var ahead atomic.Int64
	ahead.Store(int64(3 * time.Hour))
	at := func(ctx context.Context, dir, pass string) (*app.App, error) {
		now := time.Now().Add(time.Duration(ahead.Load()))
		return app.OpenWith(ctx, dir, pass, vault.Options{Now: func() time.Time { return now }})
	}
	fapp := test.NewTempApp(t)
	var w fyne.Window
	onUI(func() { w = ui.New(context.Background(), fapp, dir, at, ui.Options{Do: serialDo}).Window() })
	t.Cleanup(func() { onUI(w.Close) })
	try := func() {
		entry := prompt(t, w)
		onUI(func() {
			entry.SetText("")
			test.Type(entry, pass)
			entry.OnSubmitted(entry.Text)
		})
	}
	try()
	eventually(t, "the lease message", func() bool {
		return hasLabel(t, w.Content(), "Locked by your organisation's policy: this device has not reached its server ("+o.hs.URL+") since ") &&
			hasLabel(t, w.Content(), "and the policy allows 2 hours offline. Connect it to the organisation's network")
	})
	if err := vault.Wiped(dir); err != nil {
		t.Fatalf("wiped within the deadline: %v", err)
	}
	ahead.Store(int64(4 * 24 * time.Hour))
	try()
	eventually(t, "the notice of the self-wipe", func() bool {
		_, prompt := findShown(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
		return !prompt && hasLabel(t, w.Content(), "This vault was wiped") &&
			hasLabel(t, w.Content(), "It wiped itself: it had not reached "+o.hs.URL) &&
			hasLabel(t, w.Content(), "sending its signed receipt")
	})
}
