package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
)

// showAudit opens the audit viewer: the verified trail of this device,
// filtered by any words (user, file, folder, action, outcome), with breaks
// in the chain on top, trace-code lookup, and export as JSON lines or CEF.
func (m *mainView) showAudit() {
	m.u.touch()
	go func() {
		log, err := m.a.AuditLog(m.ctx)
		m.do(func() {
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			m.auditDialog(log.Events, log.Breaks)
		})
	}()
}

func (m *mainView) auditDialog(events []audit.Event, breaks []audit.Break) {
	shown := events
	list := widget.NewList(func() int { return len(shown) }, func() fyne.CanvasObject { return widget.NewLabel("event") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(auditLine(shown[len(shown)-1-i]))
		})
	filter := widget.NewEntry()
	filter.SetPlaceHolder("Filter: user, file, folder, action, outcome, trace code")
	const all = "All"
	actions, outcomes := []string{all}, []string{all}
	for _, e := range events {
		if !slices.Contains(actions, string(e.Action)) {
			actions = append(actions, string(e.Action))
		}
		if !slices.Contains(outcomes, string(e.Outcome)) {
			outcomes = append(outcomes, string(e.Outcome))
		}
	}
	action, outcome := widget.NewSelect(actions, nil), widget.NewSelect(outcomes, nil)
	apply := func() {
		shown = filterEvents(events, filter.Text)
		shown = slices.DeleteFunc(slices.Clone(shown), func(e audit.Event) bool {
			return (action.Selected != all && string(e.Action) != action.Selected) ||
				(outcome.Selected != all && string(e.Outcome) != outcome.Selected)
		})
		list.Refresh()
	}
	action.SetSelected(all)
	outcome.SetSelected(all)
	filter.OnChanged = func(string) { apply() }
	action.OnChanged = func(string) { apply() }
	outcome.OnChanged = func(string) { apply() }
	head := widget.NewLabel(fmt.Sprintf("%d entries, chain intact.", len(events)))
	if len(breaks) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "TAMPERED at %d places:", len(breaks))
		for _, br := range breaks {
			b.WriteString("\n" + br.String())
		}
		head.SetText(b.String())
		head.Importance = widget.DangerImportance
	}
	export := func(cef bool) {
		dialog.ShowFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			defer w.Close()
			for _, e := range shown {
				line := e.CEF("desktop")
				if !cef {
					b, _ := e.JSON()
					line = string(b)
				}
				fmt.Fprintln(w, line)
			}
			m.u.status.SetText(fmt.Sprintf("Exported %d audit entries to %s.", len(shown), w.URI().Path()))
		}, m.u.win)
	}
	buttons := container.NewHBox(widget.NewButton("Export JSON…", func() { export(false) }), widget.NewButton("Export CEF…", func() { export(true) }))
	selects := container.NewHBox(widget.NewLabel("Action"), action, widget.NewLabel("Outcome"), outcome)
	content := container.NewBorder(container.NewVBox(head, container.NewBorder(nil, nil, nil, selects, filter)), buttons, nil, nil, list)
	d := dialog.NewCustom("Audit trail", "Close", content, m.u.win)
	d.Resize(fyne.NewSize(1000, 600))
	d.Show()
}

// filterEvents keeps the events whose printed line contains every word of q.
func filterEvents(events []audit.Event, q string) []audit.Event {
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return events
	}
	var out []audit.Event
	for _, e := range events {
		line := strings.ToLower(auditLine(e) + " " + e.Device)
		keep := true
		for _, w := range words {
			keep = keep && strings.Contains(line, w)
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// auditLine is an entry's one-line form with its names made safe to show.
func auditLine(e audit.Event) string {
	e.FolderName, e.FileName, e.User = display.Name(e.FolderName), display.Name(e.FileName), display.Name(e.User)
	e.Reason = display.Text(e.Reason)
	return e.Line()
}
