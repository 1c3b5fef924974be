package ui_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/ui"
)

// TestAdminWindowWipesADevice: Bob holds the admin key file; from his
// window he opens the organisation's devices with it, selects Ann's
// laptop (at its unlock screen), and wipes it: Wipe stays disabled until
// the device's name is typed exactly. The verified receipt shows, Ann's
// window shows the notice, and the receipt is listed under Receipts.
func TestAdminWindowWipesADevice(t *testing.T) {
	o := newOrg(t)
	annDir := enrolled(t, o, "ann@acme.test", policy.Member, "Ann Trader", "Ann's laptop")
	bobDir := enrolled(t, o, "bob@acme.test", policy.Member, "Bob Admin", "Bob's desk")
	keyFile := filepath.Join(t.TempDir(), "admin.key")
	writeAdminKey(t, keyFile, o.admin.Key, "admin key passphrase")
	_, aw := locked(t, annDir)
	_, bw, bapp := unlock(t, bobDir, ui.Options{})
	t.Cleanup(func() { onUI(bw.Close) })

	onUI(func() { menuItem(t, bw, "Organisation devices (admin key)…").Action() })
	var dw fyne.Window
	eventually(t, "the devices window", func() bool {
		for _, w := range bapp.Driver().AllWindows() {
			if w.Title() == ui.DevicesTitle {
				dw = w
			}
		}
		return dw != nil
	})
	keyPath, _ := find(t, dw.Content(), func(e *widget.Entry) bool {
		return strings.HasPrefix(e.PlaceHolder, "The organisation's admin key file")
	})
	keyPass, _ := find(t, dw.Content(), func(e *widget.Entry) bool { return e.Password })
	onUI(func() {
		keyPath.SetText(keyFile)
		test.Type(keyPass, "wrong passphrase")
		keyPass.OnSubmitted(keyPass.Text)
	})
	eventually(t, "the wrong passphrase said", func() bool { return hasLabel(t, dw.Content(), "wrong passphrase") })
	onUI(func() {
		keyPass.SetText("")
		test.Type(keyPass, "admin key passphrase")
		keyPass.OnSubmitted(keyPass.Text)
	})
	var table *widget.Table
	row := -1
	eventually(t, "Ann's laptop listed", func() bool {
		table, _ = find(t, dw.Content(), func(*widget.Table) bool { return true })
		if table == nil {
			return false
		}
		row = findDevice(t, table, "Ann's laptop")
		return row >= 0
	})
	onUI(func() {
		for col, want := range map[int]string{0: "ann@acme.test", 4: "127.0.0.1", 6: "active"} {
			if got := cellText(t, table, row, col); got != want {
				t.Errorf("column %d of Ann's laptop: %q, want %q", col, got, want)
			}
		}
		if findDevice(t, table, "Bob's desk") < 0 {
			t.Error("Bob's desk is not listed")
		}
		table.Select(widget.TableCellID{Row: row, Col: 1})
	})
	wipeButton := button(t, dw.Content(), "Wipe…")
	onUI(func() { test.Tap(wipeButton) })
	d := top(t, dw, "the wipe dialog")
	wipe := button(t, d, "Wipe Ann's laptop")
	reason, _ := find(t, d, func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "e.g.") })
	typed, _ := find(t, d, func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "The device's name") })
	onUI(func() {
		test.Type(reason, "left in a taxi")
		for _, s := range []string{"", "ann's laptop", "Ann's laptop "} {
			typed.SetText(s)
			if !wipe.Disabled() {
				t.Errorf("Wipe is enabled with %q typed", s)
			}
		}
		typed.SetText("")
		test.Type(typed, "Ann's laptop")
		if wipe.Disabled() {
			t.Fatal("Wipe is disabled with the exact name typed")
		}
		test.Tap(wipe)
	})
	eventually(t, "the verified receipt", func() bool {
		d := dw.Canvas().Overlays().Top()
		if d != nil && hasLabel(t, d, "The wipe was not ordered") {
			t.Fatal("the wipe was not ordered")
		}
		return d != nil && hasLabel(t, d, "Receipt verified") && hasLabel(t, d, "by order of the admin") &&
			hasLabel(t, d, "from the order to the verified receipt")
	})
	eventually(t, "the notice in Ann's window", func() bool { return noticeShown(t, aw, "left in a taxi") })
	closeButton := button(t, dw.Canvas().Overlays().Top(), "Close")
	onUI(func() { test.Tap(closeButton) })
	eventually(t, "Ann's laptop wiped in the list", func() bool {
		r := findDevice(t, table, "Ann's laptop")
		return r >= 0 && cellText(t, table, r, 6) == "wiped"
	})
	onUI(func() {
		if !wipeButton.Disabled() {
			t.Error("Wipe… is offered for a wiped device")
		}
		tabs, _ := find(t, dw.Content(), func(*container.AppTabs) bool { return true })
		tabs.SelectIndex(1)
	})
	var rt *widget.Table
	eventually(t, "the receipt listed", func() bool {
		rt, _ = findShown(t, dw.Content(), func(tab *widget.Table) bool { return tab != table })
		return rt != nil && cellText(t, rt, 0, 0) == "Ann's laptop"
	})
	onUI(func() { rt.Select(widget.TableCellID{Row: 0, Col: 0}) })
	var signed *widget.Accordion
	eventually(t, "the receipt read under Receipts", func() bool {
		signed, _ = findShown(t, dw.Content(), func(*widget.Accordion) bool { return true })
		return signed != nil && hasLabel(t, dw.Content(), "Receipt verified")
	})
	onUI(func() {
		signed.Open(0)
		if !hasLabel(t, dw.Content(), "coffer wipe receipt v1\norg ") {
			t.Error("the signed receipt's text is not shown")
		}
	})

	// The vault's lock closes the window with the admin key.
	onUI(func() { bw.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyL)) })
	eventually(t, "the devices window closed with the lock", func() bool {
		for _, w := range bapp.Driver().AllWindows() {
			if w.Title() == ui.DevicesTitle {
				return false
			}
		}
		return true
	})
}

// findDevice returns the row of the devices table naming device, or -1.
func findDevice(t *testing.T, tab *widget.Table, device string) int {
	rows, _ := tab.Length()
	for r := range rows {
		if cellText(t, tab, r, 1) == device {
			return r
		}
	}
	return -1
}

// writeAdminKey writes the admin key file as client.SaveAdminKey does,
// with a cheap scrypt work factor: the test opens it twice.
func writeAdminKey(t *testing.T, path string, k *client.AdminKey, passphrase string) {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(w).Encode(k); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
