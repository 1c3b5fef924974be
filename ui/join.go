package ui

import (
	"errors"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
)

// joinView is the first run of a device that joins an organisation with
// the invite code its admin sent: the first device of a person becomes
// their vault; a further one shows a pairing code to approve from an
// enrolled device.
type joinView struct {
	content       fyne.CanvasObject
	invite        *widget.Entry
	name, device  *widget.Entry
	pass, again   *widget.Entry
	strength      *strengthMeter
	verdict, code *widget.Label
	join, back    *widget.Button
	err           *widget.Label
	busy          bool
}

func newJoinView(u *UI) *joinView {
	v := &joinView{invite: widget.NewEntry(), name: widget.NewEntry(), device: widget.NewEntry(),
		pass: widget.NewPasswordEntry(), again: widget.NewPasswordEntry(), strength: newStrengthMeter(),
		verdict: widget.NewLabel(""), code: widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true, Monospace: true}),
		err: widget.NewLabel("")}
	v.invite.SetPlaceHolder("COFFER1-… (the code your admin sent)")
	v.name.SetPlaceHolder("Ann Trader")
	host, _ := os.Hostname()
	v.device.SetText(host)
	v.pass.SetPlaceHolder("Four or more unrelated words")
	v.again.SetPlaceHolder("The same passphrase again")
	for _, l := range []*widget.Label{v.verdict, v.err} {
		l.Wrapping = fyne.TextWrapWord
	}
	v.err.Importance = widget.DangerImportance
	for _, e := range []*widget.Entry{v.invite, v.name, v.device, v.pass, v.again} {
		e.OnChanged = func(string) { v.check() }
	}
	v.join = widget.NewButton("Join", func() { v.submit(u) })
	v.again.OnSubmitted = func(string) {
		if !v.join.Disabled() {
			v.submit(u)
		}
	}
	v.join.Importance = widget.HighImportance
	v.back = widget.NewButton("Back", func() { u.showWelcome() })
	form := widget.NewForm(
		widget.NewFormItem("Invite code", v.invite),
		widget.NewFormItem("Your name", v.name),
		widget.NewFormItem("This device", v.device),
		widget.NewFormItem("Passphrase", v.pass),
		widget.NewFormItem("Again", v.again),
	)
	title := widget.NewLabelWithStyle("Join your organisation", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel("Paste the invite code. Your documents stay encrypted with keys only your passphrase unlocks; " +
		"the organisation's server holds ciphertext only.")
	intro.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(title, intro, form, v.strength.content, v.verdict, v.code,
		container.NewGridWithColumns(2, v.back, v.join), v.err)
	v.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(600, 560), box))
	v.check()
	return v
}

func (v *joinView) check() {
	s := passphrase.Measure(v.pass.Text, v.name.Text, "")
	v.strength.set(s.Score, v.pass.Text != "")
	text := "Strength: " + s.Label
	if s.Hint != "" {
		text += ". " + s.Hint
	}
	var missing string
	_, codeErr := wire.ParseInvite(v.invite.Text)
	switch {
	case strings.TrimSpace(v.invite.Text) == "":
		missing = "Paste your invite code."
	case codeErr != nil:
		missing = codeErr.Error() + "."
	case strings.TrimSpace(v.device.Text) == "":
		missing = "Name this device."
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
		v.join.Enable()
	} else {
		v.join.Disable()
	}
}

// submit enrols off the UI goroutine; a person enrolled already gets the
// pairing code to approve from one of their devices, and the window waits.
func (v *joinView) submit(u *UI) {
	en := client.Enrollment{Dir: u.dir, Invite: v.invite.Text, Name: strings.TrimSpace(v.name.Text),
		DeviceName: strings.TrimSpace(v.device.Text), Passphrase: v.pass.Text}
	v.busy = true
	v.join.Disable()
	v.back.Disable()
	v.err.SetText("")
	v.code.SetText("Joining…")
	go func() {
		a, err := app.Enroll(u.ctx, en)
		if errors.Is(err, client.ErrPairingNeeded) {
			a, err = v.pair(u, en)
		}
		u.do(func() {
			v.busy = false
			v.back.Enable()
			if err != nil {
				v.code.SetText("")
				v.err.SetText(message(err))
				v.check()
				return
			}
			u.unlocked(a)
		})
	}()
}

// pair asks to join as a further device and waits for the approval,
// showing the code.
func (v *joinView) pair(u *UI, en client.Enrollment) (*app.App, error) {
	p, err := app.RequestPairing(u.ctx, en.Invite, en.DeviceName)
	if err != nil {
		return nil, err
	}
	u.do(func() {
		v.code.SetText("This e-mail has an enrolled device. On it, choose Tools → Approve a new device… and approve the one showing\n\n" +
			p.Code() + "\n\n(or run: coffer device approve --vault DIR " + p.Code() + "). Waiting…")
	})
	return p.Wait(u.ctx, en.Dir, en.Passphrase)
}

// showJoin puts the join screen up.
func (u *UI) showJoin() {
	j := newJoinView(u)
	u.win.SetContent(j.content)
	u.win.Canvas().Focus(j.invite)
}

// showWelcome puts the first-run screen up.
func (u *UI) showWelcome() {
	w := newWelcomeView(u)
	u.win.SetContent(w.content)
	u.win.Canvas().Focus(w.name)
}
