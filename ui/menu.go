package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
)

// command is one action of the main window: in the menu, on a shortcut,
// or both. Every command runs only while the vault is unlocked.
type command struct {
	menu     string // "File", "Folder", "View", "Tools", "Help"; "" for shortcut-only
	label    string
	shortcut fyne.Shortcut // nil: menu only
	run      func(m *mainView)
	who      audience // who the menu offers it to
}

// audience is who the menu offers a command to. It only spares people
// entries their role never allows: the shortcuts stay, and app refuses
// (and records) whatever policy does not allow, whoever asks.
type audience int

const (
	anyone       audience = iota
	people                // the vault's owner, or the organisation's own people: not guests
	sharers               // the organisation's own people (a standalone vault shares with nobody)
	auditors              // compliance and risk officers
	trailReaders          // who may read this device's audit trail (and trace codes in it)
	creators              // who may make folders: the owner of a standalone vault, managers
)

// offers reports whether the menu offers a command for audience to the
// user of a.
func offers(a *app.App, who audience) bool {
	switch who {
	case people:
		_, guest := a.GuestExpiry()
		return !guest
	case sharers:
		_, guest := a.GuestExpiry()
		return a.Enrolled() && !guest
	case auditors:
		return a.MayReadOrgAudit()
	case trailReaders:
		return a.MayReadAudit()
	case creators:
		return a.MayCreateFolder()
	}
	return true
}

func ctrl(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

func ctrlShift(k fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
}

// commands lists the main window's actions. Copy, Print and Save go to
// app's gate; the window never decides what may leave.
func commands() []command {
	return []command{
		{"File", "New folder…", ctrl(fyne.KeyN), (*mainView).askNewFolder, creators},
		{"File", "Import…", ctrl(fyne.KeyO), (*mainView).askImport, people},
		{"File", "Save a copy…", ctrl(fyne.KeyS), func(m *mainView) { m.outward(policy.Export) }, people},
		{"File", "Open in default app…", ctrl(fyne.KeyE), func(m *mainView) { m.outward(policy.OpenExternal) }, people},
		{"File", "Print…", ctrl(fyne.KeyP), func(m *mainView) { m.outward(policy.Print) }, people},
		{"File", "Lock", ctrl(fyne.KeyL), func(m *mainView) { m.u.lock("locked by the user") }, anyone},
		{"", "Copy", &fyne.ShortcutCopy{}, func(m *mainView) { m.outward(policy.Copy) }, anyone},
		{"", "Cut", &fyne.ShortcutCut{}, func(m *mainView) { m.outward(policy.Copy) }, anyone},
		{"Folder", "Share folder…", ctrlShift(fyne.KeyS), (*mainView).askShare, sharers},
		{"Folder", "Folder members…", ctrlShift(fyne.KeyM), (*mainView).showMembers, sharers},
		{"View", "Find file", ctrl(fyne.KeyF), func(m *mainView) { m.u.win.Canvas().Focus(m.search) }, anyone},
		{"View", "Next page", ctrl(fyne.KeyPageDown), func(m *mainView) { m.turn(+1) }, anyone},
		{"View", "Previous page", ctrl(fyne.KeyPageUp), func(m *mainView) { m.turn(-1) }, anyone},
		{"View", "Zoom in", ctrl(fyne.KeyEqual), func(m *mainView) { m.zoom(+1) }, anyone},
		{"", "Zoom in", ctrlShift(fyne.KeyEqual), func(m *mainView) { m.zoom(+1) }, anyone},
		{"View", "Zoom out", ctrl(fyne.KeyMinus), func(m *mainView) { m.zoom(-1) }, anyone},
		{"View", "Fit page", ctrl(fyne.Key0), func(m *mainView) { m.setZoom(fitPage) }, anyone},
		{"View", "Actual size", ctrl(fyne.Key1), func(m *mainView) { m.setZoom(1) }, anyone},
		{"View", "Fit width", ctrl(fyne.Key2), func(m *mainView) { m.setZoom(fitWidth) }, anyone},
		{"Tools", "Versions…", ctrl(fyne.KeyH), (*mainView).showVersions, anyone},
		{"Tools", "Audit trail…", ctrlShift(fyne.KeyA), (*mainView).showAudit, trailReaders},
		{"Tools", "Trace code…", ctrl(fyne.KeyT), (*mainView).askTrace, trailReaders},
		{"Tools", "Approve a new device…", ctrlShift(fyne.KeyD), (*mainView).askApprove, anyone},
		{"Tools", "Organisation audit trail…", ctrlShift(fyne.KeyO), (*mainView).showOrgAudit, auditors},
		{"Tools", "Organisation devices (admin key)…", nil, (*mainView).showDevices, people},
		{"Help", "About Coffer…", nil, (*mainView).showAbout, anyone},
	}
}

// installCommands puts the commands on the window's shortcuts, and those
// offered to the user of a in its menu.
func (u *UI) installCommands(a *app.App) {
	menus := map[string]*fyne.Menu{}
	var order []*fyne.Menu
	u.menuItems = map[string]*fyne.MenuItem{}
	u.offered = audiences(a)
	for _, c := range commands() {
		run := func() {
			if u.main != nil {
				u.main.run(c.run)
			}
		}
		if c.shortcut != nil {
			u.win.Canvas().AddShortcut(c.shortcut, func(fyne.Shortcut) { run() })
		}
		if c.menu == "" || !offers(a, c.who) {
			continue
		}
		m := menus[c.menu]
		if m == nil {
			m = fyne.NewMenu(c.menu)
			menus[c.menu] = m
			order = append(order, m)
		}
		item := fyne.NewMenuItem(c.label, run)
		item.Shortcut = c.shortcut
		m.Items = append(m.Items, item)
		u.menuItems[c.label] = item
	}
	view := menus["View"]
	view.Items = append(view.Items, fyne.NewMenuItemSeparator())
	for _, t := range []struct{ label, pref string }{{"Light theme", "light"}, {"Dark theme", "dark"}, {"System theme", "system"}} {
		view.Items = append(view.Items, fyne.NewMenuItem(t.label, func() { u.setTheme(t.pref) }))
	}
	// Page keys work wherever the focus is not a text field: the file
	// table, which keeps the focus after a click, passes them on too.
	u.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if u.main != nil {
			u.main.pageKey(e.Name)
		}
	})
	u.win.SetMainMenu(fyne.NewMainMenu(order...))
}

// audiences is which audiences the menu serves for the user of a; a
// change (a role entry, a grant) asks for the menu again.
func audiences(a *app.App) [5]bool {
	return [5]bool{offers(a, anyone), offers(a, people), offers(a, sharers), offers(a, auditors), offers(a, trailReaders)}
}

// reviewCommands rebuilds the menu if the user's role changed what it
// offers (after a sync brought a role or grant entry).
func (u *UI) reviewCommands(a *app.App) {
	if u.main != nil && u.main.a == a && audiences(a) != u.offered {
		u.installCommands(a)
	}
}

// run runs a command as a user action (it resets the idle timer).
func (m *mainView) run(f func(*mainView)) {
	if !m.u.touch() {
		return
	}
	f(m)
}

// themePref is the preference key for the chosen theme.
const themePref = "theme"

// setTheme applies and remembers "light", "dark" or "system".
func (u *UI) setTheme(name string) {
	u.fapp.Preferences().SetString(themePref, name)
	u.applyTheme()
}

// applyTheme sets the remembered theme; "system" follows the desktop.
func (u *UI) applyTheme() {
	t := variantTheme{Theme: theme.DefaultTheme(), auto: true}
	switch u.fapp.Preferences().StringWithFallback(themePref, "system") {
	case "light":
		t.variant, t.auto = theme.VariantLight, false
	case "dark":
		t.variant, t.auto = theme.VariantDark, false
	}
	u.fapp.Settings().SetTheme(t)
}

// variantTheme is Fyne's theme with the light or dark variant forced.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
	auto    bool
}

func (t variantTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if !t.auto {
		v = t.variant
	}
	return t.Theme.Color(n, v)
}
