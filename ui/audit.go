package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
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
	if !m.u.touch() {
		return
	}
	go func() {
		log, err := m.a.AuditLog(m.ctx)
		m.do(func() {
			if err != nil {
				m.notice.show(err) // a refusal (a role without audit) is read where the eye is
				return
			}
			m.auditDialog(log.Events, log.Breaks)
		})
	}()
}

// auditColumns are the columns of this device's audit table; a selected
// entry is shown whole, wrapped, under the table.
var auditColumns = []orgColumn{
	{"#", 50, func(e audit.Event) string { return fmt.Sprint(e.Seq) }},
	{"Time (UTC)", 150, func(e audit.Event) string { return e.Time.UTC().Format("2006-01-02 15:04:05") }},
	{"Action", 110, func(e audit.Event) string { return string(e.Action) }},
	{"Outcome", 75, func(e audit.Event) string { return string(e.Outcome) }},
	{"User", 160, func(e audit.Event) string { return display.Name(e.User) }},
	{"Folder", 110, func(e audit.Event) string { return display.Name(e.FolderName) }},
	{"File", 160, func(e audit.Event) string { return display.Name(e.FileName) }},
	{"Trace code", 115, func(e audit.Event) string { return e.Trace }},
	{"Reason", 240, func(e audit.Event) string { return display.Text(e.Reason) }},
}

// auditTable is a table of audit entries in columns, blocked attempts
// tinted; the label shows the one selected in full.
func auditTable(cols []orgColumn, rows func() []audit.Event, detail *widget.Label, line func(audit.Event) string) *widget.Table {
	t := widget.NewTableWithHeaders(func() (int, int) { return len(rows()), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(canvas.NewRectangle(color.Transparent), l)
		}, func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(rows()) {
				setAuditCell(o, rows()[id.Row], cols[id.Col])
			}
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(cols[id.Col].title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.width)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if r := rows(); id.Row >= 0 && id.Row < len(r) {
			detail.SetText(line(r[id.Row]))
		}
	}
	return t
}

// setAuditCell shows a column of e in a cell of an audit table.
func setAuditCell(o fyne.CanvasObject, e audit.Event, col orgColumn) {
	cell := o.(*fyne.Container)
	bg, l := cell.Objects[0].(*canvas.Rectangle), cell.Objects[1].(*widget.Label)
	want := color.Color(color.Transparent)
	l.Importance = widget.MediumImportance
	if e.Outcome == audit.Blocked {
		want = blockedColor
		if col.title == "Outcome" {
			l.Importance = widget.DangerImportance
		}
	}
	if bg.FillColor != want {
		bg.FillColor = want
		bg.Refresh()
	}
	l.SetText(col.text(e))
}

func (m *mainView) auditDialog(events []audit.Event, breaks []audit.Break) {
	events = slices.Clone(events)
	slices.Reverse(events) // newest first
	shown := events
	detail := widget.NewLabel("Select an entry to read all of it.")
	detail.Wrapping = fyne.TextWrapWord
	table := auditTable(auditColumns, func() []audit.Event { return shown }, detail, auditDetail)
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
		table.UnselectAll()
		table.Refresh()
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
		if !m.u.touch() {
			return
		}
		dialog.ShowFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			if !m.u.touch() {
				_ = w.Close()
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
	bottom := container.NewVBox(detail, widget.NewSeparator(), buttons)
	content := container.NewBorder(container.NewVBox(head, container.NewBorder(nil, nil, nil, selects, filter)), bottom, nil, nil, table)
	d := dialog.NewCustom("Audit trail", "Close", content, m.u.win)
	d.Resize(fyne.NewSize(1160, 680))
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

// auditDetail is an entry in words, whole, for the pane under the table.
func auditDetail(e audit.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d, %s UTC: %s %s by %s", e.Seq, e.Time.UTC().Format("2006-01-02 15:04:05"), e.Action, e.Outcome, display.Name(e.User))
	if e.FolderName != "" {
		fmt.Fprintf(&b, ", %s", display.Name(e.FolderName))
		if e.FileName != "" {
			fmt.Fprintf(&b, "/%s", display.Name(e.FileName))
		}
		if e.Version > 0 {
			fmt.Fprintf(&b, " version %d", e.Version)
		}
		if e.Page > 0 {
			fmt.Fprintf(&b, " page %d", e.Page)
		}
	}
	if e.Trace != "" {
		fmt.Fprintf(&b, ", trace code %s", e.Trace)
	}
	b.WriteString(".")
	if e.Reason != "" {
		fmt.Fprintf(&b, "\nReason: %s", display.Text(e.Reason))
	}
	return b.String()
}
