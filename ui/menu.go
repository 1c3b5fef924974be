package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"github.com/coffer-vault/coffer/policy"
)

// command is one action of the main window: in the menu, on a shortcut,
// or both. Every command runs only while the vault is unlocked.
type command struct {
	menu     string // "File", "View", "Tools", "Help"; "" for shortcut-only
	label    string
	shortcut fyne.Shortcut // nil: menu only
	run      func(m *mainView)
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
		{"File", "New folder…", ctrl(fyne.KeyN), (*mainView).askNewFolder},
		{"File", "Import…", ctrl(fyne.KeyO), (*mainView).askImport},
		{"File", "Save a copy…", ctrl(fyne.KeyS), func(m *mainView) { m.outward(policy.Export) }},
		{"File", "Open in default app…", ctrl(fyne.KeyE), func(m *mainView) { m.outward(policy.OpenExternal) }},
		{"File", "Print…", ctrl(fyne.KeyP), func(m *mainView) { m.outward(policy.Print) }},
		{"File", "Lock", ctrl(fyne.KeyL), func(m *mainView) { m.u.lock("locked by the user") }},
		{"", "Copy", &fyne.ShortcutCopy{}, func(m *mainView) { m.outward(policy.Copy) }},
		{"", "Cut", &fyne.ShortcutCut{}, func(m *mainView) { m.outward(policy.Copy) }},
		{"View", "Find file", ctrl(fyne.KeyF), func(m *mainView) { m.u.win.Canvas().Focus(m.search) }},
		{"View", "Next page", ctrl(fyne.KeyPageDown), func(m *mainView) { m.turn(+1) }},
		{"View", "Previous page", ctrl(fyne.KeyPageUp), func(m *mainView) { m.turn(-1) }},
		{"View", "Zoom in", ctrl(fyne.KeyEqual), func(m *mainView) { m.zoom(+1) }},
		{"", "Zoom in", ctrlShift(fyne.KeyEqual), func(m *mainView) { m.zoom(+1) }},
		{"View", "Zoom out", ctrl(fyne.KeyMinus), func(m *mainView) { m.zoom(-1) }},
		{"View", "Fit page", ctrl(fyne.Key0), func(m *mainView) { m.setZoom(fitPage) }},
		{"View", "Actual size", ctrl(fyne.Key1), func(m *mainView) { m.setZoom(1) }},
		{"View", "Fit width", ctrl(fyne.Key2), func(m *mainView) { m.setZoom(fitWidth) }},
		{"Tools", "Versions…", ctrl(fyne.KeyH), (*mainView).showVersions},
		{"Tools", "Audit trail…", ctrlShift(fyne.KeyA), (*mainView).showAudit},
		{"Tools", "Trace code…", ctrl(fyne.KeyT), (*mainView).askTrace},
		{"Tools", "Approve a new device…", ctrlShift(fyne.KeyD), (*mainView).askApprove},
		{"Help", "About Coffer…", nil, (*mainView).showAbout},
	}
}

// installCommands puts the commands on the window's shortcuts and menu.
func (u *UI) installCommands() {
	menus := map[string]*fyne.Menu{}
	var order []*fyne.Menu
	for _, c := range commands() {
		run := func() {
			if u.main != nil {
				u.main.run(c.run)
			}
		}
		if c.shortcut != nil {
			u.win.Canvas().AddShortcut(c.shortcut, func(fyne.Shortcut) { run() })
		}
		if c.menu == "" {
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
	}
	view := menus["View"]
	view.Items = append(view.Items, fyne.NewMenuItemSeparator())
	for _, t := range []struct{ label, pref string }{{"Light theme", "light"}, {"Dark theme", "dark"}, {"System theme", "system"}} {
		view.Items = append(view.Items, fyne.NewMenuItem(t.label, func() { u.setTheme(t.pref) }))
	}
	// Page keys work wherever the focus is not a text field or list.
	u.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if u.main == nil {
			return
		}
		switch e.Name {
		case fyne.KeyPageDown, fyne.KeyRight:
			u.main.turn(+1)
		case fyne.KeyPageUp, fyne.KeyLeft:
			u.main.turn(-1)
		}
	})
	u.win.SetMainMenu(fyne.NewMainMenu(order...))
}

// run runs a command as a user action (it resets the idle timer).
func (m *mainView) run(f func(*mainView)) {
	m.u.touch()
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
