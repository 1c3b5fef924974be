package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
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
	// checking shows while an enrolled vault asks its organisation
	// whether it was wiped, before the passphrase is asked.
	checking *fyne.Container
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
	progress := widget.NewProgressBarInfinite()
	v.checking = container.NewVBox(widget.NewLabel("Checking with your organisation…"), progress)
	v.checking.Hide()
	form := container.NewVBox(title, widget.NewLabel("Unlock "+u.dir), v.checking, v.pass, v.button, v.err, v.rebuild, other)
	v.content = container.NewCenter(fixedWidth(420, form))
	return v
}

// fixedWidth holds o at a fixed width, as tall as its wrapped text needs: a
// long message (a lease, a rebuild) pushes what follows down instead of
// running over it.
func fixedWidth(width float32, o fyne.CanvasObject) *fyne.Container {
	return container.New(widthLayout{width}, o)
}

type widthLayout struct{ width float32 }

func (l widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		// Wrapped text measures its height at the width it has.
		if o.Size().Width != l.width {
			o.Resize(fyne.NewSize(l.width, o.MinSize().Height))
		}
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(l.width, h)
}

func (l widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// check hides the prompt while the organisation is asked whether this
// device was wiped (a few seconds at most offline).
func (v *unlockView) check() {
	v.pass.Hide()
	v.button.Hide()
	v.pass.Disable()
	v.button.Disable()
	v.checking.Show()
}

// ready shows the prompt once the check found no wipe; err says why the
// check could not be made, if it could not.
func (v *unlockView) ready(u *UI, err error) {
	if !v.checking.Visible() {
		return
	}
	v.checking.Hide()
	v.pass.Enable()
	v.button.Enable()
	v.pass.Show()
	v.button.Show()
	if err != nil {
		msg := "Coffer could not check with your organisation: " + message(err)
		if v.err.Text != "" {
			msg = v.err.Text + "\n\n" + msg
		}
		v.err.SetText(msg)
	}
	u.win.Canvas().Focus(v.pass)
}

// submit unlocks off the UI goroutine (scrypt takes most of a second) and
// comes back through fyne.Do.
func (v *unlockView) submit(u *UI) {
	if v.button.Disabled() {
		return // an unlock is running (Enter pressed twice), or the check
	}
	pass := v.pass.Text
	v.button.Disable()
	v.err.SetText("Unlocking…")
	u.opening(func() (*app.App, error) { return u.open(u.ctx, u.dir, pass) }, func(a *app.App, err error) {
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
	u.opening(func() (*app.App, error) {
		a, _, err := u.rebuild(u.ctx, u.dir, pass)
		return a, err
	}, func(a *app.App, err error) {
		v.rebuild.Enable()
		v.button.Enable()
		if err != nil {
			v.err.SetText(message(err))
			return
		}
		v.tried = ""
		u.unlocked(a)
	})
}

// opening runs open off the UI goroutine with the locked-mode connection
// stopped (a wipe must not begin while the vault opens), then then on the
// UI goroutine if this screen still shows. A vault wiped meanwhile, or by
// the unlock itself (too many wrong passphrases, the lease's deadline),
// shows its notice instead; one that stays locked is watched again.
func (u *UI) opening(open func() (*app.App, error), then func(*app.App, error)) {
	v, g := u.unlock, u.takeGuard()
	go func() {
		if g != nil {
			g.stop()
		}
		var a *app.App
		err := vault.Wiped(u.dir)
		if err == nil {
			a, err = open()
		}
		u.do(func() {
			if u.unlock != v {
				if a != nil {
					_ = a.Close()
				}
				return
			}
			if errors.Is(err, vault.ErrWiped) {
				u.showWiped(err.Error())
				return
			}
			then(a, err)
			if u.a == nil && u.unlock == v && enrolledVault(u.dir) {
				u.startGuard(false, nil)
			}
		})
	}()
}
