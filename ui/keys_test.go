package ui_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/ui"
)

// press sends a key as the window does: to the focused widget if there is
// one, else to the canvas.
func press(w fyne.Window, k fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: k}
	if f := w.Canvas().Focused(); f != nil {
		f.TypedKey(ev)
		return
	}
	if h := w.Canvas().OnTypedKey(); h != nil {
		h(ev)
	}
}

// fileTable returns the main view's file table and the widget that takes
// the focus when it is clicked.
func fileTable(t *testing.T, w fyne.Window) (*widget.Table, fyne.CanvasObject) {
	t.Helper()
	o, ok := find(t, w.Content(), func(o fyne.CanvasObject) bool { return ui.FileTable(o) != nil })
	if !ok {
		t.Fatal("no file table")
	}
	return ui.FileTable(o), o
}

var pageOf = regexp.MustCompile(`^(.+) — \w+, page (\d+) of (\d+), trace code`)

// shown returns the file and page the status bar says are on screen.
func shown(u *ui.UI) (file string, page, pages int) {
	m := pageOf.FindStringSubmatch(u.Status())
	if m == nil {
		return "", 0, 0
	}
	page, _ = strconv.Atoi(m[2])
	pages, _ = strconv.Atoi(m[3])
	return m[1], page, pages
}

// TestPageKeysAfterAClick clicks a file in the table, which then has the
// focus, and turns pages with Page Down, Space, End, Home and Page Up;
// Down and Up open the next and the previous file.
func TestPageKeysAfterAClick(t *testing.T) {
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	var long strings.Builder
	for i := range 400 {
		fmt.Fprintf(&long, "Clause %d. The parties agree to what the term sheet says.\n", i+1)
	}
	for name, text := range map[string]string{"0-terms.txt": long.String(), "b-notes.txt": "short notes\n"} {
		if _, err := a.Import(context.Background(), "Deals", name, strings.NewReader(text), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	u, w, _ := unlock(t, dir, ui.Options{})
	folders, _ := lists(t, w)
	table, focusable := fileTable(t, w)
	onUI(func() { folders.Select(0) }) // Deals
	eventually(t, "three files", func() bool { r, _ := table.Length(); return r == 3 })
	// A click on the first row (0-terms.txt), as the mouse gives it: the
	// table selects the file and takes the focus.
	header, ok := find(t, table, func(b *widget.Button) bool { return strings.HasPrefix(b.Text, "Name") })
	if !ok {
		t.Fatal("no Name header")
	}
	onUI(func() { table.Tapped(&fyne.PointEvent{Position: fyne.NewPos(40, header.Size().Height+15)}) })
	eventually(t, "the first page", func() bool { f, p, _ := shown(u); return f == "0-terms.txt" && p == 1 })
	var pages int
	onUI(func() {
		_, _, pages = shown(u)
		if f, _ := w.Canvas().Focused().(fyne.CanvasObject); f == nil || f != focusable {
			t.Errorf("after the click the focus is on %T, not the file table", w.Canvas().Focused())
		}
	})
	if pages < 3 {
		t.Fatalf("the licence has %d pages; the test needs 3", pages)
	}
	for _, step := range []struct {
		key  fyne.KeyName
		page int
	}{{fyne.KeyPageDown, 2}, {fyne.KeySpace, 3}, {fyne.KeyPageUp, 2}, {fyne.KeyEnd, pages}, {fyne.KeyHome, 1}, {fyne.KeyPageUp, 1}, {fyne.KeyRight, 2}, {fyne.KeyLeft, 1}} {
		onUI(func() { press(w, step.key) })
		eventually(t, fmt.Sprintf("page %d after %s", step.page, step.key), func() bool { _, p, _ := shown(u); return p == step.page })
	}
	onUI(func() { press(w, fyne.KeyDown) })
	eventually(t, "the next file after Down", func() bool { f, p, _ := shown(u); return f == "Apache-2.0.txt" && p == 1 })
	onUI(func() { press(w, fyne.KeyUp) })
	eventually(t, "the file above again after Up", func() bool { f, _, _ := shown(u); return f == "0-terms.txt" })
}

// TestPreviewToolbar: without a file the toolbar's buttons are off; the
// zoom is said once (a percentage, the fit mode by its highlighted
// button); a zoom chosen for one document does not carry over to the next.
func TestPreviewToolbar(t *testing.T) {
	dir := demoVault(t)
	u, w, _ := unlock(t, dir, ui.Options{})
	button := func(text string) *widget.Button {
		b, ok := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == text })
		if !ok {
			t.Fatalf("no %q button", text)
		}
		return b
	}
	fitW, fitP, versions := button("Fit width"), button("Fit page"), button("Versions…")
	onUI(func() {
		for _, b := range []*widget.Button{fitW, fitP, versions} {
			if !b.Disabled() {
				t.Errorf("%q is live with no file shown", b.Text)
			}
		}
		if _, twice := find(t, w.Content(), func(l *widget.Label) bool { return l.Text == "Fit width" }); twice {
			t.Error(`"Fit width" is said by a label beside the button`)
		}
	})
	folders, table := lists(t, w)
	onUI(func() { folders.Select(1) }) // Research
	eventually(t, "the file", func() bool { r, _ := table.Length(); return r == 1 })
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the page", func() bool { _, p, _ := shown(u); return p == 1 })
	zoomLabel := func() string {
		l, _ := find(t, w.Content(), func(l *widget.Label) bool { return strings.HasSuffix(l.Text, " %") })
		if l == nil {
			return ""
		}
		return l.Text
	}
	var fitted string
	onUI(func() {
		fitted = zoomLabel()
		if fitW.Disabled() || fitW.Importance != widget.HighImportance || fitP.Importance == widget.HighImportance {
			t.Errorf("with a page at fit width: fit width live %v, highlighted %v; fit page highlighted %v",
				!fitW.Disabled(), fitW.Importance == widget.HighImportance, fitP.Importance == widget.HighImportance)
		}
	})
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.Key1)) }) // actual size
	eventually(t, "actual size", func() bool { return zoomLabel() == "100 %" && fitW.Importance != widget.HighImportance })
	onUI(func() { folders.Select(0) }) // Deals: another document
	eventually(t, "Deals' file", func() bool { return strings.HasPrefix(u.Status(), "Deals (") })
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the other document at fit width", func() bool {
		f, p, _ := shown(u)
		return f == "Apache-2.0.txt" && p == 1 && fitW.Importance == widget.HighImportance && zoomLabel() == fitted
	})
}

// TestRefusalBanner: a refused save shows a banner over the page with the
// reason and that the attempt is recorded, and the status bar keeps the
// page's trace code; an open with no xdg-open on the PATH is recorded as
// failed and says what to install; a very long message neither widens nor
// lengthens the window.
func TestRefusalBanner(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no xdg-open
	dir := demoVault(t)
	long := false
	launch := func(path string) error {
		if long {
			// A path is one long word: wrapping cannot break it.
			return errors.New("/home/ann/.cache/coffer/copies/" + strings.Repeat("a-long-file-name-", 8) + ".pdf: " +
				strings.Repeat("a reason that goes on and on ", 300))
		}
		// What Fyne's OpenURL does on Linux.
		return exec.Command("xdg-open", path).Start()
	}
	u, w, _ := unlock(t, dir, ui.Options{Launch: launch})
	folders, table := lists(t, w)
	onUI(func() { folders.Select(0) }) // Deals, confidential
	eventually(t, "the file", func() bool { r, _ := table.Length(); return r == 1 })
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the page", func() bool { _, p, _ := shown(u); return p == 1 })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyS)) })
	eventually(t, "the refusal's banner", func() bool {
		return strings.Contains(u.Notice(), "Blocked") && strings.Contains(u.Notice(), "recorded in the audit trail")
	})
	var short fyne.Size
	onUI(func() {
		if _, p, _ := shown(u); p != 1 {
			t.Errorf("the refusal took the trace code off the status bar: %q", u.Status())
		}
		short = w.Content().MinSize()
	})

	onUI(func() { folders.Select(1) }) // Research, internal: may open elsewhere
	eventually(t, "the banner gone with the folder", func() bool { return u.Notice() == "" })
	eventually(t, "Research's file", func() bool { return strings.HasPrefix(u.Status(), "Research (") })
	onUI(func() { table.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "Research's page", func() bool { _, p, _ := shown(u); return p == 1 })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyE)) })
	eventually(t, "the failed open", func() bool {
		return strings.Contains(u.Notice(), "install xdg-utils") && strings.Contains(u.Notice(), "recorded as failed")
	})
	log, err := u.App().AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range log.Events {
		if e.Action == audit.Action(policy.OpenExternal) {
			outcomes = append(outcomes, string(e.Outcome))
			if e.Outcome == audit.Failed && !strings.Contains(e.Reason, "xdg-open") {
				t.Errorf("the failure is recorded without its reason: %q", e.Reason)
			}
		}
	}
	if fmt.Sprint(outcomes) != "[failed]" {
		t.Errorf("open-external recorded as %v, want [failed]", outcomes)
	}

	onUI(func() { long = true })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyE)) })
	eventually(t, "the long failure", func() bool { return strings.Contains(u.Notice(), "a-long-file-name") })
	onUI(func() {
		after, size := w.Content().MinSize(), w.Canvas().Size()
		if len([]rune(u.Notice())) > 300 {
			t.Errorf("the banner shows %d characters", len([]rune(u.Notice())))
		}
		// The real window grows to its content's least size: that is how a
		// message could widen it for good.
		if after.Width > short.Width || after.Height > short.Height+4*theme.TextSize()*1.5 ||
			after.Height > size.Height {
			t.Errorf("the window's least size was %v with a short refusal, %v with a long message (window %v)", short, after, size)
		}
		u.SetStatus(strings.Repeat("a status that goes on and on ", 300))
		if long := w.Content().MinSize(); long.Height > after.Height+2*theme.TextSize()*1.5 || long.Width > after.Width {
			t.Errorf("a long status took the window's least size from %v to %v", after, long)
		}
	})
}

// TestClosingTheWindowLocks: the trail of a session closed with the
// window ends with a lock, as one closed by Ctrl+L or the idle timer does.
func TestClosingTheWindowLocks(t *testing.T) {
	dir := demoVault(t)
	_, w, _ := unlock(t, dir, ui.Options{})
	onUI(func() { w.Close() })
	var tail []string
	for _, e := range auditEvents(t, dir) {
		tail = append(tail, fmt.Sprintf("%s %s %s", e.Action, e.Outcome, e.Reason))
	}
	// The last entry is this Open's unlock; before it, the window's lock.
	if n := len(tail); n < 3 || tail[n-2] != "lock ok the window was closed" || !strings.HasPrefix(tail[n-3], "unlock ok") {
		t.Errorf("the trail ends %q; want the window's unlock, its lock, and this unlock", tail[max(0, len(tail)-3):])
	}
}
