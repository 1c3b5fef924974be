package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/ui"
	"github.com/coffer-vault/coffer/vault"
)

// TestFirstRunCreatesVault goes through the first-run screen: the strength
// hint, the mismatch check, the vault created, and a first folder.
func TestFirstRunCreatesVault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new-vault")
	fapp := test.NewTempApp(t)
	u := ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
	w := u.Window()
	w.Resize(fyne.NewSize(1200, 800))
	entry := func(placeholder string) *widget.Entry {
		e, ok := find(t, w.Content(), func(e *widget.Entry) bool { return e.PlaceHolder == placeholder })
		if !ok {
			t.Fatalf("no %q field on the first-run screen", placeholder)
		}
		return e
	}
	name, email := entry("Ann Trader"), entry("ann@example.com")
	pass, again := entry("Four or more unrelated words"), entry("The same passphrase again")
	create, ok := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == "Create vault" })
	if !ok {
		t.Fatal("no Create vault button")
	}
	verdict := func(sub string) bool {
		_, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, sub) })
		return ok
	}
	onUI(func() {
		test.Type(name, "Ann Trader")
		test.Type(email, "ann@example.com")
		test.Type(pass, "Password1")
		test.Type(again, "Password1")
	})
	onUI(func() {
		if !create.Disabled() || !verdict("Strength: very weak") {
			t.Errorf("a guessable passphrase: create enabled %v, hint shown %v", !create.Disabled(), verdict("very weak"))
		}
	})
	const strong = "gravel tulip anchor noodle"
	onUI(func() {
		pass.SetText(strong)
		again.SetText(strong + " x")
	})
	onUI(func() {
		if !create.Disabled() || !verdict("The two passphrases differ") {
			t.Error("differing passphrases are not pointed out")
		}
		again.SetText(strong)
	})
	onUI(func() {
		if create.Disabled() {
			t.Fatal("Create vault stays disabled for a complete form")
		}
		test.Tap(create)
	})
	eventually(t, "the new vault", func() bool { return u.App() != nil })
	if !vault.Exists(dir) {
		t.Fatal("no vault on disk after Create")
	}

	// New folder: the dialog proposes confidential, the safer class.
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyN)) })
	eventually(t, "the new-folder dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
	top := w.Canvas().Overlays().Top()
	fname, ok := find(t, top, func(e *widget.Entry) bool { return e.PlaceHolder == "Deals 2026" })
	if !ok {
		t.Fatal("no name field in the new-folder dialog")
	}
	onUI(func() { test.Type(fname, "Deals") })
	createFolder, ok := find(t, top, func(b *widget.Button) bool { return b.Text == "Create" })
	if !ok {
		t.Fatal("no Create button in the new-folder dialog")
	}
	onUI(func() { test.Tap(createFolder) })
	folders, _ := lists(t, w)
	eventually(t, "the new folder listed", func() bool { return folders.Length() == 1 })
	f, err := u.App().Folder(context.Background(), "Deals")
	if err != nil || f.Class != policy.Confidential {
		t.Fatalf("folder Deals: %+v, %v; want a confidential folder", f, err)
	}
}

func ctrl(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

// unlock opens the demo vault in a new window.
func unlock(t *testing.T, dir string, opts ui.Options) (*ui.UI, fyne.Window, fyne.App) {
	t.Helper()
	fapp := test.NewTempApp(t)
	opts.Do = serialDo
	// Made under the UI lock: other windows of the test update theirs
	// meanwhile, and Fyne's text measuring is not safe to share.
	var u *ui.UI
	onUI(func() {
		u = ui.New(context.Background(), fapp, dir, app.Open, opts)
		u.Window().Resize(fyne.NewSize(1400, 900))
	})
	w := u.Window()
	// Closing the window waits for the vault to close: a lock closes it in
	// the background, and the test's directory goes only after that.
	t.Cleanup(func() {
		onUI(func() {
			if slices.Contains(fapp.Driver().AllWindows(), w) { // not closed by the test
				w.Close()
			}
		})
	})
	enterPassphrase(t, u, w)
	return u, w, fapp
}

// enterPassphrase types the passphrase at the unlock screen and waits for
// the vault to open.
func enterPassphrase(t *testing.T, u *ui.UI, w fyne.Window) {
	t.Helper()
	entry := prompt(t, w)
	onUI(func() {
		test.Type(entry, pass)
		entry.OnSubmitted(entry.Text)
	})
	eventually(t, "unlock", func() bool { return u.App() != nil && strings.HasPrefix(u.Status(), "Unlocked") })
}

// auditEvents opens the vault in dir and returns its audit trail (this
// open's unlock last).
func auditEvents(t *testing.T, dir string) []audit.Event {
	t.Helper()
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	log, err := a.AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return log.Events
}

// prompt returns the passphrase entry once the unlock screen asks for it:
// an enrolled vault checks with its organisation first.
func prompt(t *testing.T, w fyne.Window) *widget.Entry {
	t.Helper()
	var entry *widget.Entry
	eventually(t, "the passphrase prompt", func() bool {
		entry, _ = findShown(t, w.Content(), func(e *widget.Entry) bool { return e.Password && !e.Disabled() })
		return entry != nil
	})
	return entry
}

// TestSortSearchZoomTraceAndLock drives the file table's sorting and
// search, the zoom, a trace-code lookup, the theme and the lock shortcut.
func TestSortSearchZoomTraceAndLock(t *testing.T) {
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	corpus := testenv.Corpus(t)
	for _, f := range []string{"text/Apache-2.0.txt", "xlsx/" + firstXLSX(t, corpus)} {
		if _, err := a.ImportFile(context.Background(), "Research", filepath.Join(corpus, f), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	u, w, fapp := unlock(t, dir, ui.Options{})
	folders, files := lists(t, w)
	onUI(func() { folders.Select(1) }) // Research
	eventually(t, "three files", func() bool { r, _ := files.Length(); return r == 3 })
	names := func() (out []string) {
		r, _ := files.Length()
		for i := range r {
			out = append(out, cellText(t, files, i, 0))
		}
		return out
	}
	header := func(title string) *widget.Button {
		b, ok := find(t, files, func(b *widget.Button) bool { return strings.HasPrefix(b.Text, title) })
		if !ok {
			t.Fatalf("no %q column header", title)
		}
		return b
	}
	var byName, bySize, bySizeDown []string
	onUI(func() { byName = names() })
	onUI(func() { test.Tap(header("Size")) })
	onUI(func() { bySize = names() })
	onUI(func() { test.Tap(header("Size")) })
	onUI(func() { bySizeDown = names() })
	info, err := u.App().Files(context.Background(), "Research")
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int64{}
	for _, f := range info {
		size[f.Name] = f.Size
	}
	alpha := func(n string) int64 { return int64(strings.ToLower(n)[0]) }
	if !sortedBy(byName, alpha, false) || !sortedBy(bySize, func(n string) int64 { return size[n] }, false) ||
		!sortedBy(bySizeDown, func(n string) int64 { return size[n] }, true) || len(bySize) != 3 {
		t.Errorf("sorting: by name %v, by size %v, by size descending %v (sizes %v)", byName, bySize, bySizeDown, size)
	}
	search, _ := find(t, w.Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Search") })
	onUI(func() { test.Type(search, "APACHE") })
	onUI(func() {
		if got := names(); len(got) != 1 || got[0] != "Apache-2.0.txt" {
			t.Errorf("search APACHE shows %v", got)
		}
		files.Select(widget.TableCellID{Row: 0, Col: 0})
	})
	eventually(t, "the page", func() bool { return strings.Contains(u.Status(), "trace code") })
	zoomLabel := func(sub string) bool {
		_, ok := find(t, w.Content(), func(l *widget.Label) bool { return l.Text == sub })
		return ok
	}
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.Key2)) })
	eventually(t, "fit width", func() bool {
		b, _ := find(t, w.Content(), func(b *widget.Button) bool { return b.Text == "Fit width" })
		return b != nil && b.Importance == widget.HighImportance
	})
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.Key1)) })
	eventually(t, "100 %", func() bool { return zoomLabel("100 %") })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyEqual)) })
	eventually(t, "110 %", func() bool { return zoomLabel("110 %") && strings.Contains(u.Status(), "trace code") })

	// The trace code on the page leads back to this view.
	code := regexp.MustCompile(`[0-9A-Z]{5}-[0-9A-Z]{5}`).FindString(u.Status())
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyT)) })
	eventually(t, "the trace dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
	field, ok := find(t, w.Canvas().Overlays().Top(), func(e *widget.Entry) bool { return e.PlaceHolder == "K7Q4M-ZP2XA" })
	if !ok {
		t.Fatal("no code field in the trace dialog")
	}
	onUI(func() {
		test.Type(field, strings.ToLower(code))
		field.OnSubmitted(field.Text)
	})
	eventually(t, "the trace result", func() bool {
		_, ok := find(t, w.Canvas().Overlays().Top(), func(l *widget.Label) bool {
			return strings.Contains(l.Text, code) && strings.Contains(l.Text, string(audit.Preview)) && strings.Contains(l.Text, "Apache-2.0.txt")
		})
		return ok
	})
	onUI(func() { w.Canvas().Overlays().Top().Hide() })

	// The theme: light and dark from the View menu, remembered.
	for _, tc := range []struct{ item, pref string }{{"Light theme", "light"}, {"Dark theme", "dark"}} {
		item := menuItem(t, w, tc.item)
		onUI(item.Action)
		bg := fapp.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantDark)
		want := theme.DefaultTheme().Color(theme.ColorNameBackground, map[string]fyne.ThemeVariant{"light": theme.VariantLight, "dark": theme.VariantDark}[tc.pref])
		if bg != want || fapp.Preferences().String("theme") != tc.pref {
			t.Errorf("%s: background %v, want %v; preference %q", tc.item, bg, want, fapp.Preferences().String("theme"))
		}
	}

	// Ctrl+L locks, closing any dialog (here the trace dialog, left
	// open); the shortcuts do nothing while locked.
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyT)) })
	eventually(t, "the trace dialog again", func() bool { return w.Canvas().Overlays().Top() != nil })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyL)) })
	eventually(t, "the lock", func() bool { return u.App() == nil })
	onUI(func() {
		w.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{})
		if w.MainMenu() != nil {
			t.Error("the menu stays while locked")
		}
		if top := w.Canvas().Overlays().Top(); top != nil {
			t.Error("a dialog stays open over the unlock screen")
		}
	})
}

// menuItem finds a main-menu item by its label.
func menuItem(t *testing.T, w fyne.Window, label string) *fyne.MenuItem {
	t.Helper()
	if w.MainMenu() != nil {
		for _, m := range w.MainMenu().Items {
			for _, it := range m.Items {
				if it.Label == label {
					return it
				}
			}
		}
	}
	t.Fatalf("no menu item %q", label)
	return nil
}

func cellText(t *testing.T, tab *widget.Table, row, col int) string {
	t.Helper()
	cell := tab.CreateCell()
	tab.UpdateCell(widget.TableCellID{Row: row, Col: col}, cell)
	l, ok := find(t, cell, func(*widget.Label) bool { return true })
	if !ok {
		t.Fatal("a table cell without a label")
	}
	return l.Text
}

// sortedBy reports whether names are in order of key.
func sortedBy(names []string, key func(string) int64, desc bool) bool {
	for i := 1; i < len(names); i++ {
		a, b := key(names[i-1]), key(names[i])
		if (!desc && a > b) || (desc && a < b) {
			return false
		}
	}
	return true
}

func firstXLSX(t *testing.T, corpus string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(corpus, "xlsx", "*.xlsx"))
	if len(m) == 0 {
		t.Fatalf("no xlsx in the corpus %s: the test fixtures are missing", corpus)
	}
	return filepath.Base(m[0])
}

// TestDropImportsAndSaveIsGated drops files onto the window, then asks to
// save a copy of a confidential document: refused, with the reason shown
// and the attempt in the audit trail.
func TestDropImportsAndSaveIsGated(t *testing.T) {
	home := t.TempDir() // where Save a copy proposes to write
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache")) // copies for other apps
	dir := demoVault(t)
	u, w, fapp := unlock(t, dir, ui.Options{})
	corpus := testenv.Corpus(t)
	drop := []fyne.URI{storage.NewFileURI(filepath.Join(corpus, "img", "debian-logo-256.png")),
		storage.NewFileURI(filepath.Join(corpus, "xlsx", firstXLSX(t, corpus)))}
	onUI(func() { u.Drop(drop) })
	eventually(t, "the hint to pick a folder", func() bool { return strings.Contains(u.Status(), "Select the folder") })

	folders, files := lists(t, w)
	onUI(func() { folders.Select(1) }) // Research
	eventually(t, "Research's file", func() bool { r, _ := files.Length(); return r == 1 })
	onUI(func() { u.Drop(drop) })
	eventually(t, "the dropped files", func() bool {
		r, _ := files.Length()
		return r == 3 && strings.Contains(u.Status(), "Imported 2 files into Research.")
	})

	// Copy from an internal CSV puts its text on the clipboard.
	onUI(func() {
		r, _ := files.Length()
		for i := range r {
			if cellText(t, files, i, 0) == "debian-releases.csv" {
				files.Select(widget.TableCellID{Row: i, Col: 0})
			}
		}
	})
	eventually(t, "the CSV page", func() bool { return strings.Contains(u.Status(), "debian-releases.csv — internal") })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{}) })
	eventually(t, "the copy", func() bool { return strings.HasPrefix(u.Status(), "Copied the text of debian-releases.csv") })
	want0, err := os.ReadFile(filepath.Join(corpus, "text", "debian-releases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fapp.Clipboard().Content(); got != string(want0) {
		t.Errorf("clipboard holds %d bytes, want the CSV's %d", len(got), len(want0))
	}

	// Save a copy from internal: the dialog picks a path, app writes it;
	// a second save asks before replacing.
	before := u.Status()
	for round, want := range []string{"Save", "Yes"} {
		onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyS)) })
		eventually(t, "the save dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
		save, ok := find(t, w.Canvas().Overlays().Top(), func(b *widget.Button) bool { return b.Text == "Save" })
		if !ok {
			t.Fatal("no Save button in the save dialog")
		}
		onUI(func() { test.Tap(save) })
		if want == "Yes" {
			eventually(t, "the replace question", func() bool {
				top := w.Canvas().Overlays().Top()
				if top == nil {
					return false
				}
				_, ok := find(t, top, func(b *widget.Button) bool { return b.Text == "Yes" })
				return ok
			})
			yes, _ := find(t, w.Canvas().Overlays().Top(), func(b *widget.Button) bool { return b.Text == "Yes" })
			onUI(func() { test.Tap(yes) })
		}
		saved := filepath.Join(home, "debian-releases.csv")
		eventually(t, fmt.Sprintf("save %d", round+1), func() bool {
			s := u.Status()
			return s != before && strings.HasPrefix(s, "Saved debian-releases.csv version 1 to "+saved)
		})
		before = u.Status() // each save has its own trace code
		if got, err := os.ReadFile(saved); err != nil || string(got) != string(want0) {
			t.Fatalf("the saved copy: %d bytes, %v", len(got), err)
		}
	}

	// Print hands a copy to the default application (a no-op in Fyne's
	// test app) and says so.
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyP)) })
	eventually(t, "the print copy", func() bool {
		return strings.HasPrefix(u.Status(), "Opened a copy of debian-releases.csv in your default app to print from there")
	})
	if copies, _ := filepath.Glob(filepath.Join(home, ".cache", "coffer", "open", "copies-*", "*", "debian-releases.csv")); len(copies) != 1 {
		t.Errorf("copies for printing: %v", copies)
	}

	onUI(func() { folders.Select(0) }) // Deals: confidential
	eventually(t, "Deals' file", func() bool { r, _ := files.Length(); return r == 1 && strings.HasPrefix(u.Status(), "Deals") })
	onUI(func() { files.Select(widget.TableCellID{Row: 0, Col: 0}) })
	eventually(t, "the page", func() bool { return strings.Contains(u.Status(), "trace code") })
	onUI(func() { w.Canvas().(fyne.Shortcutable).TypedShortcut(ctrl(fyne.KeyS)) })
	eventually(t, "the refused save", func() bool { return strings.Contains(u.Notice(), "(export is blocked). The attempt is recorded") })
	if top := w.Canvas().Overlays().Top(); top != nil {
		t.Error("a save dialog opened for a confidential document")
	}
	log, err := u.App().AuditLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var refused int
	for _, e := range log.Events {
		if e.Action == audit.Export && e.Outcome == audit.Blocked && e.FileName == "Apache-2.0.txt" {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused exports in the audit trail, want 1", refused)
	}
}

// TestLockoutShowsNextTry: after the policy's number of wrong passphrases
// the unlock screen says when the next try is allowed, and the right
// passphrase is refused until then.
func TestLockoutShowsNextTry(t *testing.T) {
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	doc := a.Policy()
	doc.MaxUnlockFailures = 2
	if _, err := a.SetPolicy(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	a.Close()
	fapp := test.NewTempApp(t)
	u := ui.New(context.Background(), fapp, dir, app.Open, ui.Options{Do: serialDo})
	w := u.Window()
	entry, ok := find(t, w.Content(), func(e *widget.Entry) bool { return e.Password })
	if !ok {
		t.Fatal("no passphrase entry")
	}
	try := func(p, want string) {
		t.Helper()
		onUI(func() {
			entry.SetText(p)
			entry.OnSubmitted(p)
		})
		eventually(t, want, func() bool {
			_, ok := find(t, w.Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, want) })
			return ok
		})
	}
	try("wrong once", "Wrong passphrase")
	try("wrong twice", "Wrong passphrase")
	try(pass, "Too many wrong passphrases. Try again after")
	if u.App() != nil {
		t.Fatal("unlocked during the lock-out")
	}
}

// TestHostileNamesShowEscaped: a name with a right-to-left override or a
// newline is shown quoted with escapes in the file table, never raw, so
// "invoice<RLO>fdp.exe" cannot pass for a PDF.
func TestHostileNamesShowEscaped(t *testing.T) {
	dir := demoVault(t)
	a, err := app.Open(context.Background(), dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invoice\u202efdp.exe", "two\nlines.txt"} {
		if _, err := a.Import(context.Background(), "Research", name, strings.NewReader("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	_, w, _ := unlock(t, dir, ui.Options{})
	folders, files := lists(t, w)
	onUI(func() { folders.Select(1) }) // Research
	eventually(t, "three files", func() bool { r, _ := files.Length(); return r == 3 })
	var names []string
	onUI(func() {
		for i := range 3 {
			names = append(names, cellText(t, files, i, 0))
		}
	})
	for _, want := range []string{`"invoice\u202efdp.exe"`, `"two\nlines.txt"`} {
		if !slices.Contains(names, want) {
			t.Errorf("table shows %q; want %s among them", names, want)
		}
	}
	for _, n := range names {
		if strings.ContainsAny(n, "\u202e\n") {
			t.Errorf("a raw control character reached the table: %q", n)
		}
	}
}
