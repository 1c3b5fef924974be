package ui_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/ui"
)

// orgInvite runs a real cofferd on loopback and returns an invite code.
func orgInvite(t *testing.T, email string) string {
	t.Helper()
	return newOrg(t).invite(email, policy.Manager)
}

// join fills the first-run screen's Join form of a new window and taps Join.
func join(t *testing.T, code, device string) (*ui.UI, fyne.Window) {
	t.Helper()
	fapp := test.NewTempApp(t)
	dir := filepath.Join(t.TempDir(), "vault")
	// Made under the UI lock: other windows of the test update theirs
	// meanwhile, and Fyne's text measuring is not safe to share.
	var u *ui.UI
	onUI(func() {
		u = ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
		u.Window().Resize(fyne.NewSize(1200, 800))
	})
	w := u.Window()
	t.Cleanup(func() { onUI(w.Close) })
	b, ok := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == "Join your organisation…" })
	if !ok {
		t.Fatal("no Join your organisation… on the first-run screen")
	}
	onUI(func() { test.Tap(b) })
	entries := map[string]*widget.Entry{}
	for _, ph := range []string{"COFFER1-", "Ann Trader", "Four or more", "The same passphrase"} {
		e, ok := find(t, w.Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, ph) })
		if !ok {
			t.Fatalf("no entry %q on the join screen", ph)
		}
		entries[ph] = e
	}
	onUI(func() {
		entries["COFFER1-"].SetText(code)
		entries["Ann Trader"].SetText("Ann Trader")
		entries["Four or more"].SetText(pass + " for " + device)
		entries["The same passphrase"].SetText(pass + " for " + device)
		dev, _ := find(t, w.Content(), func(e *widget.Entry) bool { return !e.Password && e.PlaceHolder == "" })
		dev.SetText(device)
	})
	jb, _ := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == "Join" })
	if jb.Disabled() {
		lbl, _ := find(t, w.Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, "Strength") })
		t.Fatalf("Join is disabled: %q", lbl.Text)
	}
	onUI(func() { test.Tap(jb) })
	return u, w
}

// TestJoinPairAndSyncInTheWindow: a laptop joins from the first-run screen;
// a desktop joins with the same invite and shows a pairing code; the
// laptop's Approve dialog shows the same code and approves it; a document
// imported on the laptop appears in the desktop's file list, and the status
// bar says the vault is synced.
func TestJoinPairAndSyncInTheWindow(t *testing.T) {
	code := orgInvite(t, "ann@acme.test")
	laptop, lw := join(t, code, "laptop")
	eventually(t, "the laptop's vault", func() bool { return laptop.App() != nil })
	eventually(t, "the laptop synced", func() bool { return strings.HasPrefix(laptop.SyncStatus(), "Synced at") })

	desktop, dw := join(t, code, "desktop")
	var shown string
	eventually(t, "the pairing code on the desktop", func() bool {
		l, ok := find(t, dw.Content(), func(l *widget.Label) bool { return codeRE.MatchString(l.Text) })
		if ok {
			shown = codeRE.FindString(l.Text)
		}
		return ok
	})
	onUI(func() { lw.Canvas().(fyne.Shortcutable).TypedShortcut(&desktopShortcut) })
	var approve *widget.Button
	eventually(t, "the approve dialog with the same code", func() bool {
		top := lw.Canvas().Overlays().Top()
		if top == nil {
			return false
		}
		if _, ok := find(t, top, func(l *widget.Label) bool { return l.Text == shown }); !ok {
			return false
		}
		// Where the request came from, beside its code.
		if _, ok := find(t, top, func(l *widget.Label) bool { return strings.HasPrefix(l.Text, "asked from 127.0.0.1 (") }); !ok {
			return false
		}
		approve, _ = find(t, top, func(b *widget.Button) bool { return b.Text == "Approve desktop" })
		return approve != nil
	})
	onUI(func() { test.Tap(approve) })
	eventually(t, "the desktop's vault", func() bool { return desktop.App() != nil })

	ctx := context.Background()
	if _, err := laptop.App().CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.App().Import(ctx, "Deals", "terms.txt", strings.NewReader("price 42"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the laptop's document in the desktop's folder list", func() bool {
		l, ok := find(t, dw.Content(), func(l *widget.List) bool { return true })
		return ok && l.Length() == 1
	})
	eventually(t, "the desktop synced", func() bool { return strings.HasPrefix(desktop.SyncStatus(), "Synced at") })
}

var codeRE = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// desktopShortcut is Tools → Approve a new device… (Ctrl+Shift+D).
var desktopShortcut = desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
