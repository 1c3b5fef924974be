package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/vault"
)

// unlockView asks for the passphrase.
type unlockView struct {
	content fyne.CanvasObject
	pass    *widget.Entry
	button  *widget.Button
	err     *widget.Label
	// rebuild is shown when unlock found the index removed or rolled back.
	rebuild *widget.Button
	tried   string // the passphrase that unlock accepted, for the rebuild
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
	v.rebuild = widget.NewButton("Rebuild the index from the signed objects", func() { v.rebuildIndex(u) })
	v.rebuild.Hide()
	form := container.NewVBox(title, widget.NewLabel("Unlock "+u.dir), v.pass, v.button, v.err, v.rebuild, other)
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
			if errors.Is(err, vault.ErrNeedsRebuild) {
				v.tried = pass
				v.err.SetText(message(err) + "\n\nYour documents are still in the signed objects. Rebuilding makes a new index from them, keeps the old one beside it, and records the rebuild in the audit trail.")
				v.rebuild.Show()
				return
			}
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

// rebuildIndex rebuilds the index with the passphrase unlock accepted, off
// the UI goroutine, and opens the vault.
func (v *unlockView) rebuildIndex(u *UI) {
	if v.rebuild.Disabled() {
		return
	}
	pass := v.tried
	v.rebuild.Disable()
	v.button.Disable()
	v.err.SetText("Rebuilding the index from the signed objects…")
	go func() {
		a, _, err := u.rebuild(u.ctx, u.dir, pass)
		u.do(func() {
			v.rebuild.Enable()
			v.button.Enable()
			if err != nil {
				v.err.SetText(message(err))
				return
			}
			v.tried = ""
			u.unlocked(a)
		})
	}()
}
