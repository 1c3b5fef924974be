package ui_test

import (
	"context"
	"image/color"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/ui"
	"github.com/coffer-vault/coffer/vault/object"
)

// org is a real cofferd on loopback (embedded storage, TLS) with its
// admin signed in.
type org struct {
	t     *testing.T
	admin *client.Admin
	hs    *httptest.Server
}

// stop takes the server off the network.
func (o *org) stop() { o.hs.Close() }

func newOrg(t *testing.T) *org {
	t.Helper()
	o := orgtest.Start(t, "Acme")
	return &org{t: t, admin: o.Admin, hs: o.HTTP}
}

func (o *org) invite(email string, role policy.Role) string {
	o.t.Helper()
	code, _, err := o.admin.Invite(context.Background(), email, role, time.Hour)
	if err != nil {
		o.t.Fatal(err)
	}
	return code
}

// enroll makes the first device of a person from an invite code; the
// vault's passphrase is pass, so that unlock opens it in a window.
func enroll(t *testing.T, code, name, device string) (*app.App, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Enroll(context.Background(), client.Enrollment{Dir: dir, Invite: code, Name: name, DeviceName: device, Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// enrolled is enroll for a vault the test only opens in a window.
func enrolled(t *testing.T, o *org, email string, role policy.Role, name, device string) string {
	t.Helper()
	a, dir := enroll(t, o.invite(email, role), name, device)
	if _, err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	return dir
}

// falcon makes Ann the manager's laptop with a confidential folder
// "Project Falcon" holding terms.txt, registered with the server; the app
// stays open for the test.
func falcon(t *testing.T, o *org) *app.App {
	t.Helper()
	ctx := context.Background()
	ann, _ := enroll(t, o.invite("ann@acme.test", policy.Manager), "Ann Manager", "Ann's laptop")
	t.Cleanup(func() { ann.Close() })
	for _, name := range []string{"Project Falcon", "Project Hawk"} {
		if _, err := ann.CreateFolder(ctx, name, policy.Confidential); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ann.Import(ctx, "Project Falcon", "terms.txt", strings.NewReader("Falcon: price 42, closing 2027-01-15\n"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return ann
}

// top returns the window's topmost dialog, once one is up.
func top(t *testing.T, w fyne.Window, what string) fyne.CanvasObject {
	t.Helper()
	var o fyne.CanvasObject
	eventually(t, what, func() bool { o = w.Canvas().Overlays().Top(); return o != nil })
	return o
}

func button(t *testing.T, root fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var b *widget.Button
	eventually(t, "a button "+text, func() bool {
		b, _ = find(t, root, func(b *widget.Button) bool { return b.Text == text && !b.Hidden })
		return b != nil
	})
	return b
}

func shortcut(w fyne.Window, k fyne.KeyName) {
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrlShift(k)) })
}

// hasLabel reports whether a label on screen under root holds part.
func hasLabel(t *testing.T, root fyne.CanvasObject, part string) bool {
	_, ok := findShown(t, root, func(l *widget.Label) bool { return strings.Contains(l.Text, part) })
	return ok
}

// findShown is find among the objects on screen: neither they nor a
// container of theirs hidden.
func findShown[T fyne.CanvasObject](t *testing.T, root fyne.CanvasObject, match func(T) bool) (T, bool) {
	var zero T
	if !root.Visible() {
		return zero, false
	}
	if o, ok := root.(T); ok && match(o) {
		return o, true
	}
	var kids []fyne.CanvasObject
	switch c := root.(type) {
	case *fyne.Container:
		kids = c.Objects
	case fyne.Widget:
		kids = test.TempWidgetRenderer(t, c).Objects()
	}
	for _, k := range kids {
		if o, ok := findShown(t, k, match); ok {
			return o, true
		}
	}
	return zero, false
}

// open unlocks a vault in a window that closes before the server stops.
func open(t *testing.T, dir string) (*ui.UI, fyne.Window) {
	t.Helper()
	u, w, _ := unlock(t, dir, ui.Options{})
	t.Cleanup(func() { onUI(w.Close) })
	return u, w
}

// TestShareFromTheWindow: a manager shares a folder with a member from the
// share dialog (the directory searched, the viewer role); the member's
// window lists the folder at its next sync, and may not share it. The
// manager's members view lists the member as viewer; removing him warns
// that the key rotates, and his window loses the folder and says why.
func TestShareFromTheWindow(t *testing.T) {
	o := newOrg(t)
	ann := falcon(t, o)
	bobDir := enrolled(t, o, "bob@acme.test", policy.Member, "Bob Analyst", "Bob's desktop")
	annDir := ann.Vault().Dir()
	ann.Close()
	au, aw := open(t, annDir)
	bu, bw := open(t, bobDir)
	folders, _ := lists(t, aw)
	onUI(func() { folders.Select(0) }) // Project Falcon
	eventually(t, "Share offered for Ann's folder", func() bool { return !menuItem(t, aw, "Share folder…").Disabled })
	onUI(func() {
		menu := offered(aw)
		// A manager reads neither the organisation's trail nor her own
		// device's (compliance does): nothing offers what is refused.
		for _, label := range []string{"Organisation audit trail…", "Audit trail…", "Trace code…"} {
			if menu[label] {
				t.Errorf("a manager's menu offers %s", label)
			}
		}
		for _, text := range []string{"Audit trail…", "Trace code…", "Organisation audit…"} {
			if _, ok := findShown(t, aw.Content(), func(b *widget.Button) bool { return b.Text == text }); ok {
				t.Errorf("a manager's window shows %s", text)
			}
		}
	})

	shortcut(aw, fyne.KeyS)
	d := top(t, aw, "the share dialog")
	search, ok := find(t, d, func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Search people") })
	if !ok {
		t.Fatal("no search box in the share dialog")
	}
	people, _ := find(t, d, func(l *widget.List) bool { return true })
	onUI(func() { test.Type(search, "bob") })
	eventually(t, "Bob alone in the directory", func() bool { return people.Length() == 1 })
	onUI(func() { people.Select(0) })
	share := button(t, d, "Share")
	eventually(t, "Share enabled", func() bool { return !share.Disabled() })
	onUI(func() { test.Tap(share) })
	eventually(t, "the share confirmed", func() bool {
		if l, ok := find(t, d, func(l *widget.Label) bool { return l.Importance == widget.DangerImportance && l.Text != "" }); ok {
			t.Fatalf("the share failed: %s", l.Text)
		}
		return strings.HasPrefix(au.Status(), "Shared Project Falcon with Bob Analyst <bob@acme.test> as viewer")
	})

	bobFolders, _ := lists(t, bw)
	eventually(t, "Project Falcon in Bob's window", func() bool { return bobFolders.Length() == 1 })
	onUI(func() { bobFolders.Select(0) })
	eventually(t, "Bob's file list", func() bool { return hasLabel(t, bw.Content(), "terms.txt") })
	onUI(func() {
		if !menuItem(t, bw, "Share folder…").Disabled {
			t.Error("a viewer is offered to share the folder")
		}
	})

	shortcut(aw, fyne.KeyM)
	md := top(t, aw, "the members view")
	eventually(t, "Bob listed as viewer", func() bool { return hasLabel(t, md, "bob@acme.test") && hasLabel(t, md, "Viewers") })
	remove := button(t, md, "Remove…")
	onUI(func() { test.Tap(remove) })
	cd := top(t, aw, "the confirmation")
	onUI(func() {
		if !hasLabel(t, cd, "The folder's key rotates") {
			t.Error("the confirmation does not say that the key rotates")
		}
	})
	confirm := button(t, cd, "Remove and rotate the key")
	onUI(func() { test.Tap(confirm) })
	eventually(t, "Bob taken off", func() bool { return strings.Contains(au.Status(), "taken off Project Falcon") })
	eventually(t, "the folder gone from Bob's window, with why", func() bool {
		return bobFolders.Length() == 0 && strings.Contains(bu.Status(), "no longer shares it with you")
	})
}

// TestGuestWindow: a guest's window holds the granted folder only, under a
// banner with the end of the access, and offers no share, members,
// import, export, print or copy; when the admin ends the grant, the window
// says so and what was removed instead of an empty vault.
func TestGuestWindow(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	ann := falcon(t, o)
	f, err := ann.Folder(ctx, "Project Falcon")
	if err != nil {
		t.Fatal(err)
	}
	code, expires, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{f.ID}, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gail, gailDir := enroll(t, code, "Gail Consultant", "Gail's laptop")
	if _, err := ann.Sync(ctx); err != nil { // wraps the folder's key to Gail
		t.Fatal(err)
	}
	if _, err := gail.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	gail.Close()

	gu, gw := open(t, gailDir)
	folders, _ := lists(t, gw)
	banner := "Guest access until " + expires.UTC().Format("2006-01-02 15:04") + " UTC"
	onUI(func() {
		if folders.Length() != 1 || !hasLabel(t, gw.Content(), "Project Falcon") || hasLabel(t, gw.Content(), "Hawk") {
			t.Errorf("the guest's window lists %d folders, want Project Falcon alone", folders.Length())
		}
		if !hasLabel(t, gw.Content(), banner) {
			t.Errorf("no banner %q", banner)
		}
		menu := offered(gw)
		for _, label := range []string{"Share folder…", "Folder members…", "Save a copy…", "Print…", "Open in default app…",
			"Import…", "New folder…", "Organisation audit trail…", "Audit trail…", "Trace code…"} {
			if menu[label] {
				t.Errorf("the guest's menu offers %s", label)
			}
		}
		for _, text := range []string{"Share…", "Members…", "Import…", "New folder…", "Organisation audit…"} {
			if _, ok := findShown(t, gw.Content(), func(b *widget.Button) bool { return b.Text == text }); ok {
				t.Errorf("the guest's window shows %s", text)
			}
		}
	})
	shortcut(gw, fyne.KeyM)
	onUI(func() {
		if s := gu.Status(); s != "Guests do not see the organisation's directory." {
			t.Errorf("members asked by a guest: %q", s)
		}
	})

	// The admin ends the grant: the window says so, not an empty vault.
	if _, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{f.ID}, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ended view", func() bool {
		return hasLabel(t, gw.Content(), "Your guest access has ended") &&
			hasLabel(t, gw.Content(), `Folder "Project Falcon" was removed from this device`)
	})
	onUI(func() {
		if len(gw.MainMenu().Items) != 1 || len(gw.MainMenu().Items[0].Items) != 1 {
			t.Error("the ended view's menu offers more than Lock")
		}
	})

	// A new grant: the folder comes back, and the window with it.
	if _, _, err := o.admin.Guest(ctx, "gail@consult.test", []object.ID{f.ID}, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the folder back in the guest's window", func() bool {
		l, ok := find(t, gw.Content(), func(*widget.List) bool { return true })
		return ok && l.Length() == 1 && hasLabel(t, gw.Content(), "Guest access until")
	})
}

// TestComplianceWindowFollowsTheOrgAudit: a compliance officer's window
// offers the organisation's audit trail; opened, it shows a blocked export
// on another person's laptop as it arrives (tinted), and resolves a trace
// code off a page that person viewed.
func TestComplianceWindowFollowsTheOrgAudit(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t)
	carolDir := enrolled(t, o, "carol@acme.test", policy.Compliance, "Carol Compliance", "Carol's desk")
	ann := falcon(t, o) // knows Carol: the details of its entries go to her
	cu, cw := open(t, carolDir)
	// An officer makes no folders: none is offered, and her empty window
	// does not tell her to make one.
	onUI(func() {
		if offered(cw)["New folder…"] {
			t.Error("the compliance officer's menu offers New folder…")
		}
		if _, ok := findShown(t, cw.Content(), func(b *widget.Button) bool { return b.Text == "New folder…" }); ok {
			t.Error("the compliance officer's window shows New folder…")
		}
		if s := cu.Status(); strings.Contains(s, "New folder") {
			t.Errorf("the officer's empty window says %q", s)
		}
	})
	onUI(func() { menuItem(t, cw, "Organisation audit trail…") })
	shortcut(cw, fyne.KeyO)
	d := top(t, cw, "the organisation's audit view")
	table, _ := find(t, d, func(*widget.Table) bool { return true })
	eventually(t, "Ann's entries", func() bool { return findRow(t, table, "ann@acme.test", "import", "ok") >= 0 })
	onUI(func() {
		if findRow(t, table, "ann@acme.test", "export", "blocked") >= 0 {
			t.Error("a blocked export before any was tried")
		}
	})

	// Ann tries to save a copy of the confidential document: blocked; her
	// device sends the entry; Carol's open view shows it.
	f, _ := ann.Folder(ctx, "Project Falcon")
	ver, err := ann.Vault().Stat(ctx, f, "terms.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := ann.Gate(ctx, f, ver, policy.Export); err == nil {
		t.Fatal("a confidential export was allowed")
	}
	page, err := ann.Preview(ctx, "Project Falcon", "terms.txt", app.PreviewOptions{Page: 1, DPI: 40})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var row int
	eventually(t, "the blocked export, live", func() bool {
		row = findRow(t, table, "ann@acme.test", "export", "blocked")
		return row >= 0
	})
	onUI(func() {
		for col, want := range map[int]string{2: "Ann's laptop", 6: "Project Falcon", 7: "terms.txt"} {
			if got, _ := orgCell(t, table, row, col); got != want {
				t.Errorf("column %d of the blocked row: %q, want %q", col, got, want)
			}
		}
		if _, tint := orgCell(t, table, row, 0); tint == nil || tint == color.Transparent {
			t.Error("the blocked row is not highlighted")
		}
		if _, tint := orgCell(t, table, findRow(t, table, "ann@acme.test", "import", "ok"), 0); tint != color.Transparent {
			t.Error("an allowed entry is highlighted")
		}
	})

	code, _ := find(t, d, func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Trace code") })
	onUI(func() {
		test.Type(code, page.TraceCode)
		code.OnSubmitted(code.Text)
	})
	eventually(t, "the trace code resolved", func() bool {
		return hasLabel(t, d, "ann@acme.test") && hasLabel(t, d, "on Ann's laptop from 127.0.0.1")
	})
}

// findRow returns the first row of the organisation's audit table with
// this user, action and outcome, or -1.
func findRow(t *testing.T, tab *widget.Table, user, action, outcome string) int {
	rows, _ := tab.Length()
	for r := range rows {
		u, _ := orgCell(t, tab, r, 1)
		a, _ := orgCell(t, tab, r, 4)
		o, _ := orgCell(t, tab, r, 5)
		if u == user && a == action && o == outcome {
			return r
		}
	}
	return -1
}

// orgCell returns a cell's text and background.
func orgCell(t *testing.T, tab *widget.Table, row, col int) (string, color.Color) {
	t.Helper()
	cell := tab.CreateCell().(*fyne.Container)
	tab.UpdateCell(widget.TableCellID{Row: row, Col: col}, cell)
	return cell.Objects[1].(*widget.Label).Text, cell.Objects[0].(*canvas.Rectangle).FillColor
}

// offered is the labels of a window's menu entries.
func offered(w fyne.Window) map[string]bool {
	out := map[string]bool{}
	for _, m := range w.MainMenu().Items {
		for _, it := range m.Items {
			out[it.Label] = true
		}
	}
	return out
}

func ctrlShift(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
}
