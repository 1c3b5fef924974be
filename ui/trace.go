package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// askTrace looks up a trace code read off a watermark or a stamped page:
// who viewed or exported what, when, on which device (`coffer trace`).
func (m *mainView) askTrace() {
	if !m.u.touch() {
		return
	}
	code := widget.NewEntry()
	code.SetPlaceHolder("K7Q4M-ZP2XA")
	result := widget.NewLabel("Type the code printed in the watermark or the export stamp.")
	result.Wrapping = fyne.TextWrapWord
	lookup := func() {
		if !m.u.touch() {
			return
		}
		q := code.Text
		result.SetText("Looking up…")
		go func() {
			res, err := m.a.Trace(m.ctx, q)
			m.do(func() {
				switch {
				case err != nil:
					result.SetText(message(err))
				case len(res.Events) == 0:
					result.SetText("No view or export on this device carried " + strings.ToUpper(q) + ".")
				default:
					var lines []string
					for _, e := range res.Events {
						lines = append(lines, auditLine(e))
					}
					result.SetText(strings.Join(lines, "\n"))
				}
			})
		}()
	}
	code.OnSubmitted = func(string) { lookup() }
	content := container.NewVBox(container.NewBorder(nil, nil, nil, widget.NewButton("Look up", lookup), code), result)
	d := dialog.NewCustom("Trace code", "Close", content, m.u.win)
	d.Resize(fyne.NewSize(760, 280))
	d.Show()
	m.u.win.Canvas().Focus(code)
}
