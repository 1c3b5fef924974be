package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// wipeDialog is the wipe of one device, from the question to the receipt.
type wipeDialog struct {
	w       *devicesWindow
	d       wire.DeviceInfo
	name    string // as the window shows it: what must be typed
	dlg     *dialog.CustomDialog
	body    *fyne.Container // the stage shown
	reason  *widget.Entry
	typed   *widget.Entry
	confirm *widget.Button
	stop    context.CancelFunc // stops waiting for the receipt
}

// askWipe asks why, and for the device's name typed out exactly: only
// then is Wipe enabled.
func (w *devicesWindow) askWipe(d wire.DeviceInfo) {
	v := &wipeDialog{w: w, d: d, name: deviceName(d.Name, d.ID), body: container.NewStack()}
	title := widget.NewLabelWithStyle("Wipe "+v.name+"?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	what := widget.NewLabel(fmt.Sprintf("%s of %s (ID %s). Every key that could decrypt its vault is destroyed as soon as it "+
		"reaches the server: within seconds if it is online, even locked; otherwise at its next start, before anyone is asked "+
		"for a passphrase. The server refuses it from now on. Nothing on it can be recovered afterwards.",
		v.name, display.Name(d.Email), object.ID(d.ID).String()[:12]))
	what.Wrapping = fyne.TextWrapWord
	v.reason = widget.NewEntry()
	v.reason.SetPlaceHolder("e.g. laptop left in a taxi")
	v.typed = widget.NewEntry()
	v.typed.SetPlaceHolder("The device's name, exactly as shown")
	which := "name"
	if d.Name == "" {
		which = "ID's first 12 characters"
	}
	ask := widget.NewRichText(
		&widget.TextSegment{Text: "To confirm, type the device's " + which + ": ", Style: widget.RichTextStyleInline},
		&widget.TextSegment{Text: v.name, Style: widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Bold: true, Monospace: true}}})
	ask.Wrapping = fyne.TextWrapWord
	v.confirm = widget.NewButtonWithIcon("Wipe "+v.name, theme.DeleteIcon(), v.order)
	v.confirm.Importance = widget.DangerImportance
	v.confirm.Disable()
	v.typed.OnChanged = func(s string) {
		if !w.u.touch() {
			return
		}
		setDisabled(v.confirm, s != v.name)
	}
	v.typed.OnSubmitted = func(string) {
		if !v.confirm.Disabled() {
			v.order()
		}
	}
	v.reason.OnChanged = func(string) { w.u.touch() }
	form := widget.NewForm(widget.NewFormItem("Reason", v.reason))
	v.body.Objects = []fyne.CanvasObject{container.NewVBox(
		container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, title), what, form, ask, v.typed)}
	cancel := widget.NewButton("Cancel", func() { v.dlg.Hide() })
	v.dlg = dialog.NewCustomWithoutButtons("Wipe a device", v.body, w.win)
	v.dlg.SetButtons([]fyne.CanvasObject{cancel, v.confirm})
	v.dlg.SetOnClosed(func() {
		if v.stop != nil {
			v.stop()
		}
	})
	v.dlg.Resize(fyne.NewSize(760, 420))
	v.dlg.Show()
	w.win.Canvas().Focus(v.reason)
}

// setStage replaces the dialog's body and buttons.
func (v *wipeDialog) setStage(body fyne.CanvasObject, buttons ...fyne.CanvasObject) {
	v.body.Objects = []fyne.CanvasObject{body}
	v.body.Refresh()
	v.dlg.SetButtons(buttons)
}

// order signs and publishes the wipe, then waits for the device's
// receipt with a progress state, off the UI goroutine.
func (v *wipeDialog) order() {
	w := v.w
	if v.typed.Text != v.name || v.stop != nil {
		return
	}
	if !w.u.touch() {
		return
	}
	reason := v.reason.Text
	ctx, stop := context.WithCancel(w.ctx)
	v.stop = stop
	status := widget.NewLabel("Signing the order to wipe " + v.name + " and publishing it in the organisation's log…")
	status.Wrapping = fyne.TextWrapWord
	elapsed := widget.NewLabel("")
	stopWaiting := widget.NewButton("Stop waiting", func() { v.dlg.Hide() })
	v.setStage(container.NewVBox(status, widget.NewProgressBarInfinite(), elapsed), stopWaiting)
	id := object.ID(v.d.ID)
	go func() {
		w.mu.Lock()
		err := w.admin.Wipe(ctx, id, reason)
		w.mu.Unlock()
		if err != nil {
			w.do(func() { v.failed("The wipe was not ordered: " + sentence(message(err))) })
			return
		}
		ordered := time.Now()
		w.do(func() {
			status.SetText(fmt.Sprintf("Ordered at %s UTC: the server refuses %s from now on. Waiting for the receipt it signs "+
				"once its keys are destroyed… You may stop waiting: the order stands, and the receipt appears under Receipts.",
				ordered.UTC().Format("15:04:05"), v.name))
		})
		done := make(chan struct{})
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					s := fmt.Sprintf("Waiting %.1f s", time.Since(ordered).Seconds())
					w.do(func() { elapsed.SetText(s) })
				}
			}
		}()
		// A connection of its own for the wait: the window's stays free for
		// Refresh meanwhile.
		waiter, err := client.DialAdmin(ctx, w.admin.Key)
		var r *client.VerifiedReceipt
		if err == nil {
			r, err = waiter.WaitReceipt(ctx, id, receiptWait)
			waiter.Close()
		}
		took := time.Since(ordered)
		close(done)
		if ctx.Err() != nil {
			w.do(w.refresh) // the admin stopped waiting
			return
		}
		w.do(func() {
			switch {
			case err != nil:
				v.failed("The wipe is ordered, but its receipt could not be read or verified: " + sentence(message(err)))
			case r == nil:
				v.failed(fmt.Sprintf("No receipt from %s within %s: it is offline, or switched off. The order stands: it wipes itself "+
					"when it next reaches the server or starts, and its receipt appears under Receipts then.", v.name, receiptWait))
			default:
				v.received(r, took)
			}
			w.refresh()
		})
	}()
}

// received shows the verified receipt.
func (v *wipeDialog) received(r *client.VerifiedReceipt, took time.Duration) {
	head := widget.NewLabelWithStyle(v.name+" was wiped.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	closeButton := widget.NewButton("Close", func() { v.dlg.Hide() })
	closeButton.Importance = widget.HighImportance
	v.setStage(container.NewVScroll(container.NewVBox(head, receiptView(r, took))), closeButton)
	v.dlg.Resize(fyne.NewSize(760, 600))
}

// failed says what went wrong, or that no receipt came.
func (v *wipeDialog) failed(text string) {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	v.setStage(container.NewVBox(l), widget.NewButton("Close", func() { v.dlg.Hide() }))
}
