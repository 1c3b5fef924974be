package ui

import (
	"cmp"
	"context"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
)

// The organisation's audit trail, for its compliance and risk officers
// (docs/sync-protocol.md, "Audit for compliance"): every device's entries
// as the server holds them, verified and with the details this user may
// read, followed live while the view is open; blocked attempts stand out,
// and a trace code off a photographed page names its viewer.

// orgColumn is a column of the organisation's audit table.
type orgColumn struct {
	title string
	width float32
	text  func(audit.Event) string
}

var orgColumns = []orgColumn{
	{"Time (UTC)", 150, func(e audit.Event) string { return e.Time.UTC().Format("2006-01-02 15:04:05") }},
	{"User", 170, func(e audit.Event) string { return display.Name(e.User) }},
	{"Device", 140, func(e audit.Event) string { return display.Name(e.DeviceName) }},
	{"IP", 105, func(e audit.Event) string { return display.Name(e.IP) }},
	{"Action", 105, func(e audit.Event) string { return string(e.Action) }},
	{"Outcome", 80, func(e audit.Event) string { return string(e.Outcome) }},
	{"Folder", 150, func(e audit.Event) string { return orgFolder(e) }},
	{"File", 170, func(e audit.Event) string { return display.Name(e.FileName) }},
}

// orgFolder is an event's folder: its name, or the start of its ID when
// the device that recorded it could not name it.
func orgFolder(e audit.Event) string {
	if e.FolderName != "" || e.Folder == "" {
		return display.Name(e.FolderName)
	}
	return display.Name(e.Folder[:min(12, len(e.Folder))])
}

// blockedColor tints the rows of blocked attempts.
var blockedColor = color.NRGBA{R: 229, G: 57, B: 53, A: 70}

// showOrgAudit opens the organisation's audit trail.
func (m *mainView) showOrgAudit() {
	if !m.u.touch() {
		return
	}
	if !m.a.MayReadOrgAudit() {
		m.u.status.SetText("The organisation's audit trail is for its compliance and risk officers.")
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	v := &orgAuditView{m: m, ctx: ctx, seen: map[string]bool{}}
	v.build(cancel)
	go v.follow()
}

// orgAuditView is the open view: what arrived so far, and the filters.
type orgAuditView struct {
	m        *mainView
	ctx      context.Context // ends when the view closes or the vault locks
	events   []audit.Event   // newest first
	seen     map[string]bool // device/seq of the events held: a restarted feed repeats them
	shown    []audit.Event
	problems []string
	live     string // how the feed stands

	head, problemsLabel, detail *widget.Label
	user, folder                *widget.Entry
	blockedOnly                 *widget.Check
	table                       *widget.Table
	trace                       *widget.Entry
	traceResult                 *widget.Label
}

func (v *orgAuditView) build(cancel context.CancelFunc) {
	m := v.m
	v.head = widget.NewLabel("Reading the organisation's audit trail…")
	v.problemsLabel = widget.NewLabel("")
	v.problemsLabel.Wrapping = fyne.TextWrapWord
	v.problemsLabel.Importance = widget.DangerImportance
	v.problemsLabel.Hide()
	v.detail = widget.NewLabel("Select an entry to read all of it.")
	v.detail.Wrapping = fyne.TextWrapWord
	v.user, v.folder = widget.NewEntry(), widget.NewEntry()
	v.user.SetPlaceHolder("User: e-mail or part of it")
	v.folder.SetPlaceHolder("Folder: name or part of it")
	v.blockedOnly = widget.NewCheck("Blocked only", func(bool) { v.apply() })
	for _, e := range []*widget.Entry{v.user, v.folder} {
		e.OnChanged = func(string) { v.apply() }
	}
	v.table = widget.NewTableWithHeaders(func() (int, int) { return len(v.shown), len(orgColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(canvas.NewRectangle(color.Transparent), l)
		}, v.updateCell)
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(orgColumns[id.Col].title)
		}
	}
	for i, c := range orgColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(v.shown) {
			v.detail.SetText(orgLine(v.shown[id.Row]))
		}
	}
	v.trace = widget.NewEntry()
	v.trace.SetPlaceHolder("Trace code off a watermark or a stamped page, e.g. K7Q4M-ZP2XA")
	v.traceResult = widget.NewLabel("")
	v.traceResult.Wrapping = fyne.TextWrapWord
	v.trace.OnSubmitted = func(string) { v.lookup() }
	lookup := widget.NewButtonWithIcon("Look up", theme.SearchIcon(), v.lookup)

	filters := container.NewBorder(nil, nil, widget.NewLabel("Filter"), v.blockedOnly, container.NewGridWithColumns(2, v.user, v.folder))
	top := container.NewVBox(v.head, v.problemsLabel, filters)
	traceRow := container.NewBorder(nil, nil, widget.NewLabel("Trace code"), lookup, v.trace)
	bottom := container.NewVBox(v.detail, widget.NewSeparator(), traceRow, v.traceResult)
	d := dialog.NewCustom("Organisation audit trail", "Close", container.NewBorder(top, bottom, nil, nil, v.table), m.u.win)
	d.SetOnClosed(cancel) // stops following the trail
	d.Resize(fyne.NewSize(1160, 740))
	d.Show()
}

func (v *orgAuditView) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row >= len(v.shown) {
		return
	}
	e := v.shown[id.Row]
	cell := o.(*fyne.Container)
	bg, l := cell.Objects[0].(*canvas.Rectangle), cell.Objects[1].(*widget.Label)
	want := color.Color(color.Transparent)
	l.Importance = widget.MediumImportance
	if e.Outcome == audit.Blocked {
		want = blockedColor
		if orgColumns[id.Col].title == "Outcome" {
			l.Importance = widget.DangerImportance
		}
	}
	if bg.FillColor != want {
		bg.FillColor = want
		bg.Refresh()
	}
	l.SetText(orgColumns[id.Col].text(e))
}

// follow reads the trail and then waits for what devices send, until the
// view closes; a broken connection is tried again.
func (v *orgAuditView) follow() {
	for {
		v.setLive("following live: new entries appear as devices send them")
		err := v.m.a.OrgAudit(v.ctx, app.OrgAuditFilter{}, true, func(events []audit.Event, problems []string) error {
			events, problems = slices.Clone(events), slices.Clone(problems)
			v.m.do(func() { v.add(events, problems) })
			return nil
		})
		if v.ctx.Err() != nil {
			return
		}
		if err == nil {
			return
		}
		v.setLive("not following: " + message(err) + " — trying again in 5 s")
		select {
		case <-v.ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

func (v *orgAuditView) setLive(s string) {
	v.m.do(func() {
		v.live = s
		v.count()
	})
}

// add takes in a page of the trail.
func (v *orgAuditView) add(events []audit.Event, problems []string) {
	for _, e := range events {
		key := fmt.Sprintf("%s\x00%s\x00%d\x00%d", e.Device, e.DeviceName, e.Seq, e.Time.UnixNano())
		if !v.seen[key] {
			v.seen[key] = true
			v.events = append(v.events, e)
		}
	}
	for _, p := range problems {
		if !slices.Contains(v.problems, p) {
			v.problems = append(v.problems, p)
		}
	}
	slices.SortStableFunc(v.events, func(a, b audit.Event) int { return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.Seq, a.Seq)) })
	if len(v.problems) > 0 {
		v.problemsLabel.SetText(fmt.Sprintf("%d batches did not verify and are not shown: %s", len(v.problems), safeJoin(v.problems, "; ")))
		v.problemsLabel.Show()
	}
	v.apply()
}

// apply shows the entries that match the filters, newest first.
func (v *orgAuditView) apply() {
	user := strings.ToLower(strings.TrimSpace(v.user.Text))
	folder := strings.ToLower(strings.TrimSpace(v.folder.Text))
	v.shown = v.shown[:0]
	for _, e := range v.events {
		switch {
		case user != "" && !strings.Contains(strings.ToLower(e.User), user):
		case folder != "" && !strings.Contains(strings.ToLower(e.FolderName), folder) && !strings.HasPrefix(e.Folder, folder):
		case v.blockedOnly.Checked && e.Outcome != audit.Blocked:
		default:
			v.shown = append(v.shown, e)
		}
	}
	v.table.UnselectAll()
	v.table.Refresh()
	v.count()
}

// count says how many entries are held and shown, and how the feed stands.
func (v *orgAuditView) count() {
	blocked := 0
	for _, e := range v.shown {
		if e.Outcome == audit.Blocked {
			blocked++
		}
	}
	what := fmt.Sprintf("%d entries from every device", len(v.events))
	if len(v.shown) != len(v.events) {
		what = fmt.Sprintf("%d of %d entries", len(v.shown), len(v.events))
	}
	v.head.SetText(display.Text(fmt.Sprintf("%s, newest first; %d blocked (tinted red). %s.", what, blocked, sentence(v.live))))
}

// lookup resolves the trace code typed against the whole trail.
func (v *orgAuditView) lookup() {
	if !v.m.u.touch() {
		return
	}
	code := v.trace.Text
	v.traceResult.SetText("Looking up " + display.Text(strings.ToUpper(strings.TrimSpace(code))) + " in the organisation's trail…")
	go func() {
		res, err := v.m.a.OrgTrace(v.ctx, code)
		v.m.do(func() {
			if err != nil {
				v.traceResult.SetText(sentence(message(err)))
				return
			}
			lines := make([]string, len(res.Events))
			for i, e := range res.Events {
				lines[i] = traceLine(e)
			}
			v.traceResult.SetText(strings.Join(lines, "\n"))
		})
	}()
}

// orgLine is an entry of the organisation's trail in one line: who, on
// which device and from where, did what.
func orgLine(e audit.Event) string {
	if e.DeviceName == "" && e.IP == "" {
		return auditLine(e) // an entry of the organisation's log: no device sent it
	}
	where := display.Name(e.DeviceName)
	if e.IP != "" {
		where += " from " + display.Name(e.IP)
	}
	return auditLine(e) + " — on " + where
}

// traceLine says in words whom a trace code names: who, on which device
// and from where, did what to which document, and when.
func traceLine(e audit.Event) string {
	what := display.Name(e.FolderName) + "/" + display.Name(e.FileName)
	if e.Page > 0 {
		what += fmt.Sprintf(", page %d", e.Page)
	}
	return fmt.Sprintf("%s: %s %s by %s on %s from %s, %s, at %s UTC.", e.Trace, e.Action, e.Outcome, display.Name(e.User),
		display.Name(e.DeviceName), display.Name(e.IP), what, e.Time.UTC().Format("2006-01-02 15:04:05"))
}
