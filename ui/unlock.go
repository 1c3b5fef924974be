package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// unlockView asks for the passphrase.
type unlockView struct {
	content fyne.CanvasObject
	pass    *widget.Entry
	button  *widget.Button
	err     *widget.Label
}

func newUnlockView(u *UI) *unlockView {
	v := &unlockView{pass: widget.NewPasswordEntry(), err: widget.NewLabel("")}
	v.pass.SetPlaceHolder("Passphrase")
	v.err.Wrapping = fyne.TextWrapWord
	v.button = widget.NewButton("Unlock", func() { v.submit(u) })
	v.button.Importance = widget.HighImportance
	v.pass.OnSubmitted = func(string) { v.submit(u) }
	title := widget.NewLabelWithStyle("Coffer", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	other := widget.NewButton("Open another vault…", u.chooseVault)
	other.Importance = widget.LowImportance
	form := container.NewVBox(title, widget.NewLabel("Unlock "+u.dir), v.pass, v.button, v.err, other)
	v.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(420, 260), form))
	return v
}

// submit unlocks off the UI goroutine (scrypt takes most of a second) and
// comes back through fyne.Do.
func (v *unlockView) submit(u *UI) {
	if v.button.Disabled() {
		return // an unlock is running (Enter pressed twice)
	}
	pass := v.pass.Text
	v.button.Disable()
	v.err.SetText("Unlocking…")
	go func() {
		a, err := u.open(u.ctx, u.dir, pass)
		u.do(func() {
			v.button.Enable()
			if err != nil {
				v.err.SetText(message(err))
				v.pass.SetText("")
				return
			}
			v.err.SetText("")
			u.unlocked(a)
		})
	}()
}
