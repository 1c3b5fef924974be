package ui

import (
	"context"
	"fmt"
	"image/color"
	"net/mail"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/vault"
)

// Creator makes a new vault: app.Init in production.
type Creator func(ctx context.Context, dir string, who vault.Identity, passphrase string) (*app.App, error)

// welcomeView is the first run: no vault in the folder yet. It creates
// one, or opens an existing vault elsewhere.
type welcomeView struct {
	content           fyne.CanvasObject
	name, email       *widget.Entry
	pass, again       *widget.Entry
	strength          *strengthMeter
	verdict           *widget.Label
	create, openOther *widget.Button
	err               *widget.Label
	busy              bool // a vault is being created
}

func newWelcomeView(u *UI) *welcomeView {
	v := &welcomeView{name: widget.NewEntry(), email: widget.NewEntry(), pass: widget.NewPasswordEntry(),
		again: widget.NewPasswordEntry(), strength: newStrengthMeter(), verdict: widget.NewLabel(""), err: widget.NewLabel("")}
	v.name.SetPlaceHolder("Ann Trader")
	v.email.SetPlaceHolder("ann@example.com")
	v.pass.SetPlaceHolder("Four or more unrelated words")
	v.again.SetPlaceHolder("The same passphrase again")
	v.verdict.Wrapping = fyne.TextWrapWord
	v.err.Wrapping = fyne.TextWrapWord
	v.err.Importance = widget.DangerImportance
	for _, e := range []*widget.Entry{v.name, v.email, v.pass, v.again} {
		e.OnChanged = func(string) { v.check() }
	}
	v.again.OnSubmitted = func(string) {
		if !v.create.Disabled() {
			v.submit(u)
		}
	}
	v.create = widget.NewButton("Create vault", func() { v.submit(u) })
	v.create.Importance = widget.HighImportance
	v.openOther = widget.NewButton("Open an existing vault…", func() { u.chooseVault() })
	join := widget.NewButton("Join your organisation…", func() { u.showJoin() })
	form := widget.NewForm(
		widget.NewFormItem("Your name", v.name),
		widget.NewFormItem("E-mail", v.email),
		widget.NewFormItem("Passphrase", v.pass),
		widget.NewFormItem("Again", v.again),
	)
	title := widget.NewLabelWithStyle("Welcome to Coffer", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel("There is no vault in " + u.dir + " yet. Create one: your documents are encrypted " +
		"with a key only this passphrase unlocks. Nobody, including IT, can recover a lost passphrase.")
	intro.Wrapping = fyne.TextWrapWord
	devices := widget.NewButton("IT: manage the organisation's devices with its admin key…", func() { u.showDevices(u.ctx) })
	devices.Importance = widget.LowImportance
	box := container.NewVBox(title, intro, form, v.strength.content, v.verdict,
		container.NewGridWithColumns(2, v.openOther, v.create), v.err,
		widget.NewSeparator(), widget.NewLabel("Has your organisation sent you an invite code?"), join, devices)
	v.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(560, 560), box))
	v.check()
	return v
}

// check updates the strength meter and enables Create once the form is
// complete; app.Init checks again, this only guides.
func (v *welcomeView) check() {
	s := passphrase.Measure(v.pass.Text, v.name.Text, v.email.Text)
	v.strength.set(s.Score, v.pass.Text != "")
	text := "Strength: " + s.Label
	if s.Hint != "" {
		text += ". " + s.Hint
	}
	var missing string
	switch {
	case strings.TrimSpace(v.name.Text) == "":
		missing = "Enter your name."
	case !validEmail(v.email.Text):
		missing = "Enter your e-mail address."
	case !s.OK():
	case v.again.Text != v.pass.Text:
		missing = "The two passphrases differ."
	}
	if v.pass.Text == "" {
		text = "Strength: —"
	}
	if missing != "" {
		text += "\n" + missing
	}
	v.verdict.SetText(text)
	if missing == "" && s.OK() && !v.busy {
		v.create.Enable()
	} else {
		v.create.Disable()
	}
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == strings.TrimSpace(s)
}

// submit creates the vault off the UI goroutine (key generation and scrypt
// take about a second) and opens the main view.
func (v *welcomeView) submit(u *UI) {
	who := vault.Identity{Name: strings.TrimSpace(v.name.Text), Email: strings.TrimSpace(v.email.Text)}
	pass := v.pass.Text
	v.busy = true
	v.create.Disable()
	v.openOther.Disable()
	v.err.SetText("Creating the vault…")
	go func() {
		a, err := u.create(u.ctx, u.dir, who, pass)
		u.do(func() {
			v.busy = false
			v.openOther.Enable()
			if err != nil {
				v.err.SetText(message(err))
				v.check()
				return
			}
			v.pass.SetText("")
			v.again.SetText("")
			u.unlocked(a)
		})
	}()
}

// chooseVault lets the user pick another vault folder.
func (u *UI) chooseVault() {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			return
		}
		u.useVault(l.Path())
	}, u.win)
	d.Show()
}

// useVault switches the window to the vault in dir: its unlock screen, or
// an error if dir holds none.
func (u *UI) useVault(dir string) {
	if !vault.Exists(dir) {
		dialog.ShowError(fmt.Errorf("%s holds no Coffer vault: choose the folder that contains coffer.json", dir), u.win)
		return
	}
	u.dir = dir
	u.win.SetTitle("Coffer — " + dir)
	u.showUnlock("")
}

// strengthMeter is five segments that fill and change colour with the
// zxcvbn score: red, orange, amber, green, deep green.
type strengthMeter struct {
	content  *fyne.Container
	segments []*canvas.Rectangle
}

var scoreColors = [...]color.NRGBA{
	{R: 198, G: 40, B: 40, A: 255}, {R: 230, G: 120, B: 0, A: 255}, {R: 240, G: 180, B: 0, A: 255},
	{R: 67, G: 160, B: 71, A: 255}, {R: 27, G: 110, B: 50, A: 255},
}

func newStrengthMeter() *strengthMeter {
	m := &strengthMeter{content: container.NewGridWithColumns(5)}
	for range 5 {
		r := canvas.NewRectangle(color.Gray{Y: 90})
		r.SetMinSize(fyne.NewSize(10, 8))
		r.CornerRadius = 3
		m.segments = append(m.segments, r)
		m.content.Add(r)
	}
	return m
}

// set fills score+1 segments; none while nothing is typed.
func (m *strengthMeter) set(score int, typed bool) {
	for i, r := range m.segments {
		r.FillColor = color.Gray{Y: 90}
		if typed && i <= score {
			r.FillColor = scoreColors[score]
		}
		r.Refresh()
	}
}
