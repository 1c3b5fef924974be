package ui_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/suspend"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/ui"
	"github.com/coffer-vault/coffer/vault"
)

const pass = "ui test passphrase"

// demoVault makes a vault with a confidential folder holding a corpus PDF
// and an internal one holding a CSV.
func demoVault(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vault")
	a, err := app.Init(ctx, dir, vault.Identity{Email: "ann@example.com", Name: "Ann Trader"}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for name, class := range map[string]policy.Class{"Deals": policy.Confidential, "Research": policy.Internal} {
		if _, err := a.CreateFolder(ctx, name, class); err != nil {
			t.Fatal(err)
		}
	}
	corpus := testenv.Corpus(t)
	if _, err := a.ImportFile(ctx, "Deals", filepath.Join(corpus, "text", "Apache-2.0.txt"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ImportFile(ctx, "Research", filepath.Join(corpus, "text", "debian-releases.csv"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Deals", "Apache-2.0.txt", strings.NewReader("amended licence text\n"), nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// uiLock serialises the UI's background updates (Options.Do) with the
// test's own reading and driving of widgets: Fyne's test driver runs
// fyne.Do on whichever goroutine calls it.
var uiLock sync.Mutex

func serialDo(f func()) {
	uiLock.Lock()
	defer uiLock.Unlock()
	f()
}

// onUI runs a test action under the UI lock.
func onUI(f func()) { serialDo(f) }

// eventually polls cond under the UI lock, for up to 15 seconds: the UI
// works off its goroutine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 15*time.Second, what, cond)
}

// eventuallyWithin is eventually with a bound of its own, for work that
// starts another program (LibreOffice), whose time depends on the load of
// the machine more than on Coffer.
func eventuallyWithin(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var ok bool
		serialDo(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// find returns the first object of type T in the window's content for
// which match holds.
func find[T fyne.CanvasObject](t *testing.T, root fyne.CanvasObject, match func(T) bool) (T, bool) {
	var zero T
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
		if o, ok := find(t, k, match); ok {
			return o, true
		}
	}
	return zero, false
}

// lists finds the folder list and the file table of the main view.
func lists(t *testing.T, w fyne.Window) (*widget.List, *widget.Table) {
	t.Helper()
	folders, _ := find(t, w.Content(), func(l *widget.List) bool { return true })
	var files *widget.Table
	if o, ok := find(t, w.Content(), func(o fyne.CanvasObject) bool { return ui.FileTable(o) != nil }); ok {
		files = ui.FileTable(o)
	}
	if folders == nil || files == nil {
		t.Fatal("no folder list and file table")
	}
	return folders, files
}

// fakeShield stands in for Windows' and macOS's capture exclusion, which
// Linux lacks: it records what the window asked for.
type fakeShield struct{ on bool }

func (f *fakeShield) set(on bool) bool {
	f.on = on
	return on
}

func TestUnlockBrowsePreviewAndBlockedCopy(t *testing.T) {
	dir := demoVault(t)
	inboxDir := filepath.Join(t.TempDir(), "inbox")
	fapp := test.NewTempApp(t)
	shield := &fakeShield{}
	u := ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Inbox: inboxDir, Do: serialDo, Shield: shield.set})
	w := u.Window()
	w.Resize(fyne.NewSize(1200, 800))
	if !strings.Contains(w.Title(), "Coffer") {
		t.Errorf("title %q", w.Title())
	}
	entry, ok := find(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
	if !ok {
		t.Fatal("no passphrase entry on the unlock screen")
	}
	onUI(func() {
		test.Type(entry, "wrong")
		entry.OnSubmitted(entry.Text)
	})
	eventually(t, "the wrong-passphrase message", func() bool {
		_, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, "Wrong passphrase") })
		return ok
	})
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	// The wrong passphrase before is the first thing the status bar says.
	eventually(t, "unlock", func() bool {
		return u.App() != nil && strings.HasPrefix(u.Status(), "Warning: 1 wrong passphrase was tried since the last unlock")
	})

	folders, files := lists(t, w)
	onUI(func() { folders.Select(0) }) // Deals, sorted by name
	eventually(t, "the folder's files", func() bool { r, _ := files.Length(); return r == 1 })
	onUI(func() { files.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the watermarked page", func() bool { return strings.Contains(u.Status(), "trace code") })
	var shielded bool
	onUI(func() { shielded = shield.on })
	if !shielded {
		t.Error("a confidential page is on screen and capture protection is off")
	}

	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{}) })
	eventually(t, "the blocked copy", func() bool { return strings.Contains(u.Notice(), "(copy is blocked). The attempt is recorded") })
	if !strings.Contains(u.Status(), "trace code") {
		t.Errorf("the refusal took the page's trace code off the status bar: %q", u.Status())
	}

	// Versions: restore version 1 from the dialog.
	versions, ok := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == "Versions…" })
	if !ok {
		t.Fatal("no Versions button")
	}
	onUI(func() { test.Tap(versions) })
	eventually(t, "the versions dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
	restore, ok := find(t, w.Canvas().Overlays().Top(), func(b *widget.Button) bool { return b.Text == "Restore v1" })
	if !ok {
		t.Fatal("no Restore v1 button in the dialog")
	}
	onUI(func() { test.Tap(restore) })
	eventually(t, "the restore", func() bool { return strings.Contains(u.Status(), "Restored Apache-2.0.txt version 1 as version 3") })

	// The inbox: a file dropped into inbox/Research is imported and leaves.
	dropped := filepath.Join(inboxDir, "Research", "memo.md")
	eventually(t, "the inbox folder", func() bool { return os.MkdirAll(filepath.Dir(dropped), 0o700) == nil })
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(dropped, []byte("# memo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the inbox import", func() bool { return strings.Contains(u.Status(), "Inbox: imported memo.md into Research") })
	if _, err := os.Stat(dropped); !os.IsNotExist(err) {
		t.Errorf("imported file still in the inbox: %v", err)
	}

	// The audit viewer lists the trail, filters it, and shows no break.
	auditButton, ok := find(t, w.Content(), func(b *widget.Button) bool { return strings.HasPrefix(b.Text, "Audit trail") })
	if !ok {
		t.Fatal("no audit trail button")
	}
	onUI(func() { test.Tap(auditButton) })
	eventually(t, "the audit viewer", func() bool {
		top := w.Canvas().Overlays().Top()
		if top == nil {
			return false
		}
		_, ok := find(t, top, func(l *widget.Label) bool { return strings.Contains(l.Text, "chain intact") })
		return ok
	})
	filter, ok := find(t, w.Canvas().Overlays().Top(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Filter") })
	if !ok {
		t.Fatal("no filter in the audit viewer")
	}
	onUI(func() { test.Type(filter, "copy blocked") })
	table, _ := find(t, w.Canvas().Overlays().Top(), func(*widget.Table) bool { return true })
	if table == nil {
		t.Fatal("no table in the audit viewer")
	}
	rows := func() int { r, _ := table.Length(); return r }
	if n := rows(); n != 1 {
		t.Errorf("filter 'copy blocked' shows %v entries, want 1", n)
	}
	// The outcome menu narrows by field: no copy was allowed.
	outcome, ok := find(t, w.Canvas().Overlays().Top(), func(s *widget.Select) bool { return slices.Contains(s.Options, "blocked") })
	if !ok {
		t.Fatal("no outcome menu in the audit viewer")
	}
	onUI(func() { outcome.SetSelected("ok") })
	if n := rows(); n != 0 {
		t.Errorf("'copy blocked' with outcome ok shows %d entries, want 0", n)
	}
	onUI(func() { outcome.SetSelected("blocked") })
	if n := rows(); n != 1 {
		t.Errorf("'copy blocked' with outcome blocked shows %d entries, want 1", n)
	}
	// A selected entry is shown whole under the table, reason and all.
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	// (Cells hold one field each: only the detail has the file and the reason.)
	if _, ok := findShown(t, w.Canvas().Overlays().Top(), func(l *widget.Label) bool {
		return strings.Contains(l.Text, "Apache-2.0.txt") && strings.Contains(l.Text, "copy is blocked")
	}); !ok {
		t.Error("the selected entry is not shown in full under the table")
	}

	log, err := u.App().AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var previewed, blocked bool
	for _, e := range log.Events {
		previewed = previewed || (e.Action == audit.Preview && e.Outcome == audit.OK && e.Trace != "")
		blocked = blocked || (e.Action == audit.Action(policy.Copy) && e.Outcome == audit.Blocked && e.FileName == "Apache-2.0.txt")
	}
	if !previewed || !blocked {
		t.Errorf("audit trail: preview recorded %v, blocked copy recorded %v", previewed, blocked)
	}
}

// TestIdleLock unlocks, leaves the window alone past the idle time, and
// expects the unlock screen back and the lock in the audit trail.
// TestUnlockCountsFolders: the status bar after the unlock counts the
// folders in words that agree with the number ("1 folder", not "1
// folders").
func TestUnlockCountsFolders(t *testing.T) {
	for _, names := range [][]string{{"Deals"}, {"Deals", "Research"}} {
		dir := filepath.Join(t.TempDir(), "vault")
		a, err := app.Init(context.Background(), dir, vault.Identity{Email: "ann@example.com", Name: "Ann Trader"}, pass)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if _, err := a.CreateFolder(context.Background(), name, policy.Internal); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		u := ui.New(context.Background(), test.NewTempApp(t), dir, app.Open, ui.Options{Do: serialDo})
		entry, ok := find(t, u.Window().Content(), func(e *widget.Entry) bool { return e.Password })
		if !ok {
			t.Fatal("no passphrase entry")
		}
		onUI(func() {
			test.Type(entry, pass)
			entry.OnSubmitted(entry.Text)
		})
		want := fmt.Sprintf("Unlocked. %d folders.", len(names))
		if len(names) == 1 {
			want = "Unlocked. 1 folder."
		}
		eventually(t, fmt.Sprintf("the status %q", want), func() bool { return u.App() != nil && u.Status() == want })
		onUI(func() { u.Window().Close() })
	}
}

func TestIdleLock(t *testing.T) {
	dir := demoVault(t)
	fapp := test.NewTempApp(t)
	u := ui.New(context.Background(), fapp, dir, app.Open, ui.Options{IdleLock: 500 * time.Millisecond, Do: serialDo})
	w := u.Window()
	entry, ok := find(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
	if !ok {
		t.Fatal("no passphrase entry")
	}
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	eventually(t, "unlock", func() bool { return u.App() != nil })
	eventually(t, "the idle lock", func() bool {
		_, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.HasPrefix(l.Text, "Locked: idle") })
		return ok && u.App() == nil
	})
	locked := false
	for _, e := range auditEvents(t, dir) {
		locked = locked || (e.Action == audit.Lock && strings.Contains(e.Reason, "idle"))
	}
	if !locked {
		t.Error("the idle lock is not in the audit trail")
	}
}

// sleepClocks are the system's clocks with a sleep the test adds.
type sleepClocks struct{ slept atomic.Int64 }

func (c *sleepClocks) clocks() suspend.Clocks {
	sys := suspend.SystemClocks()
	return suspend.Clocks{Awake: sys.Awake, Total: func() time.Duration { return sys.Total() + time.Duration(c.slept.Load()) }}
}

func (c *sleepClocks) sleep(d time.Duration) { c.slept.Add(int64(d)) }

// TestLockWhenTheComputerSlept: a laptop put to sleep with the vault open
// locks when it wakes, whatever the idle time — and the first key pressed
// by whoever opened the lid locks rather than turns the page. Go's timers
// stop during sleep: the idle lock of a 15-minute policy fired 15 awake
// minutes after the last action, and any action before it counted as the
// user's, so a thief who touched a key kept the vault open. A session
// unlocked after the sleep goes on as usual.
func TestLockWhenTheComputerSlept(t *testing.T) {
	home := t.TempDir() // where Save a copy proposes to write
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Clause. The parties agree to what the term sheet says.\n", 400)
	if _, err := a.Import(context.Background(), "Deals", "0-terms.txt", strings.NewReader(long), nil); err != nil {
		t.Fatal(err)
	}
	a.Close()
	var clk sleepClocks
	u, w, _ := unlock(t, dir, ui.Options{IdleLock: time.Hour, Clocks: clk.clocks()})
	folders, _ := lists(t, w)
	table, _ := fileTable(t, w)
	onUI(func() { folders.Select(0) })
	eventually(t, "the files", func() bool { r, _ := table.Length(); return r > 0 })
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "a page", func() bool { f, p, _ := shown(u); return f == "0-terms.txt" && p == 1 })
	file, _, pages := shown(u)
	if pages < 2 {
		t.Fatalf("%s has %d pages; the test needs 2", file, pages)
	}
	locked := func() bool {
		_, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.HasPrefix(l.Text, "Locked: the computer slept") })
		return ok && u.App() == nil
	}
	// Under the UI lock, so that the window's own look (every second)
	// cannot come first: the key press is what finds the sleep.
	onUI(func() {
		clk.sleep(20 * time.Minute)
		press(w, fyne.KeyPageDown)
		if !locked() {
			t.Errorf("the first key after a sleep did not lock the vault (status %q)", u.Status())
		}
	})
	// The lock is recorded as the vault closes, in the background.
	var events []audit.Event
	eventually(t, "the lock in the audit trail", func() bool {
		events = auditEvents(t, dir)
		return slices.ContainsFunc(events, func(e audit.Event) bool { return e.Action == audit.Lock && e.Reason == "the computer slept" })
	})
	for _, e := range events {
		if e.Action == audit.Preview && e.Page == 2 {
			t.Errorf("page 2 was shown after the sleep: %+v", e)
		}
	}

	// Unlocked again, the sleep before counts no more; a sleep with no
	// key pressed locks within a few seconds of waking.
	enterPassphrase(t, u, w)
	time.Sleep(1500 * time.Millisecond) // a look of the window's at least
	onUI(func() {
		if u.App() == nil {
			t.Fatal("a session begun after a sleep locked for it")
		}
	})
	clk.sleep(3 * time.Second)
	eventually(t, "the lock after a sleep, untouched", locked)

	// A dialog open when the lid closed: its button, pressed before the
	// window's own look, locks rather than saves.
	enterPassphrase(t, u, w)
	folders, files := lists(t, w)
	eventually(t, "the folders", func() bool { return folders.Length() == 2 })
	onUI(func() { folders.Select(1) }) // Research: internal, a copy may be saved
	eventually(t, "Research's file", func() bool { r, _ := files.Length(); return r == 1 })
	onUI(func() { files.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the CSV page", func() bool { return strings.Contains(u.Status(), "debian-releases.csv — internal") })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyS)) })
	eventually(t, "the save dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
	save, ok := find(t, w.Canvas().Overlays().Top(), func(b *widget.Button) bool { return b.Text == "Save" })
	if !ok {
		t.Fatal("no Save button in the save dialog")
	}
	onUI(func() {
		clk.sleep(20 * time.Minute)
		test.Tap(save)
		if !locked() {
			t.Errorf("Save after a sleep did not lock the vault (status %q)", u.Status())
		}
	})
	time.Sleep(500 * time.Millisecond) // an export would have begun by now
	if _, err := os.Stat(filepath.Join(home, "debian-releases.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a copy was saved after the sleep: %v", err)
	}
}

// TestUnlockOffersRebuild: a vault whose index.db was removed is not shown
// as empty; the unlock screen says why and offers the rebuild, which opens
// the vault with every folder back.
func TestUnlockOffersRebuild(t *testing.T) {
	dir := demoVault(t)
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	fapp := test.NewTempApp(t)
	u := ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
	w := u.Window()
	entry, ok := find(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
	if !ok {
		t.Fatal("no passphrase entry")
	}
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	var rebuild *widget.Button
	eventually(t, "the offer to rebuild", func() bool {
		b, ok := find(t, w.Content(), func(b *widget.Button) bool { return strings.HasPrefix(b.Text, "Rebuild the index") })
		rebuild = b
		return ok && b.Visible()
	})
	if _, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, "index was removed") }); !ok {
		t.Error("the unlock screen does not say the index was removed")
	}
	if u.App() != nil {
		t.Fatal("the vault opened with its index gone")
	}
	onUI(func() { test.Tap(rebuild) })
	eventually(t, "the rebuilt vault", func() bool {
		return u.App() != nil && strings.Contains(u.Status(), "the index was rebuilt from the signed objects (2 folders")
	})
	folders, _ := lists(t, w)
	if n := folders.Length(); n != 2 {
		t.Errorf("%d folders after the rebuild, want 2", n)
	}
}
