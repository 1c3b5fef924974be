package ui

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/dustin/go-humanize"
	"github.com/dustin/go-humanize/english"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// The organisation's devices, for whoever holds its admin key file
// (docs/sync-protocol.md, "Remote wipe, receipts and the lease"): a role
// in the organisation is not enough, the key signs the orders. The window
// opens the key with its passphrase, lists the devices as the server sees
// them, wipes one after its name is typed, waits for the receipt the
// device signs and verifies it against the log, and lists every receipt.
// It is the GUI of 'cofferd admin devices | wipe --wait | receipts'.

// DevicesTitle is the title of the organisation's devices window.
const DevicesTitle = "Coffer — Organisation devices"

// adminKeyPref remembers where the admin key file was (not its passphrase).
const adminKeyPref = "adminKeyPath"

// receiptWait is how long the window waits for a wiped device's receipt
// before it says the device is offline (the order stands).
const receiptWait = 2 * time.Minute

// deviceColumn is a column of the devices table.
type deviceColumn struct {
	title string
	width float32
	text  func(wire.DeviceInfo) string
}

var deviceColumns = []deviceColumn{
	{"User", 220, func(d wire.DeviceInfo) string { return display.Name(d.Email) }},
	{"Device", 190, func(d wire.DeviceInfo) string { return deviceName(d.Name, d.ID) }},
	{"OS", 120, func(d wire.DeviceInfo) string { return display.Name(d.OS) }},
	{"Last seen (UTC)", 150, func(d wire.DeviceInfo) string { return unixUTC(d.LastSeen, "never") }},
	{"IP", 130, func(d wire.DeviceInfo) string { return display.Name(d.LastIP) }},
	{"Lease end (UTC)", 150, func(d wire.DeviceInfo) string { return unixUTC(d.LeaseEnd, "—") }},
	{"State", 170, deviceState},
}

// deviceName is how the window names a device: its name, or the start of
// its ID when it has none.
func deviceName(name string, id wire.HexID) string {
	if name == "" {
		return object.ID(id).String()[:12]
	}
	return display.Name(name)
}

func unixUTC(sec int64, none string) string {
	if sec <= 0 {
		return none
	}
	return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04")
}

// deviceState is a device's state, with its audit trail's flag.
func deviceState(d wire.DeviceInfo) string {
	s := cmp.Or(d.State, "active")
	if d.AuditFlag != "" {
		s += ", audit " + d.AuditFlag
	}
	return s
}

// mayWipe reports whether a device can still be ordered wiped.
func mayWipe(d wire.DeviceInfo) bool {
	return d.State != "wipe pending" && d.State != "wiped"
}

// devicesWindow is the open window: before the key is open, its form;
// after, the devices and the receipts.
type devicesWindow struct {
	u      *UI
	win    fyne.Window
	ctx    context.Context // ends when the window closes (or the session that opened it)
	cancel context.CancelFunc
	closed bool
	// admin is the connection as the admin; mu serialises its use (it
	// keeps the verified log it refreshes).
	admin *client.Admin
	mu    sync.Mutex
	org   string // the organisation's name

	keyPath, pass *widget.Entry
	open          *widget.Button
	keyErr        *widget.Label

	head     *widget.Label
	devices  []wire.DeviceInfo
	table    *widget.Table
	selected int
	detail   *widget.Label
	wipe     *widget.Button

	receipts []*client.VerifiedReceipt
	rtable   *widget.Table
	rhead    *widget.Label
	rdetail  *fyne.Container
}

// showDevices opens the organisation's devices window, or brings it to
// the front. It closes with ctx (the session that opened it: the admin
// key does not outlive the vault's lock).
func (u *UI) showDevices(ctx context.Context) {
	if u.devices != nil && !u.devices.closed {
		u.devices.win.RequestFocus()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &devicesWindow{u: u, ctx: ctx, cancel: cancel, selected: -1}
	u.devices = w
	w.win = u.fapp.NewWindow(DevicesTitle)
	w.win.SetContent(w.keyForm())
	w.win.Resize(fyne.NewSize(1180, 720))
	w.win.SetOnClosed(func() {
		w.closed = true
		cancel()
		if w.admin != nil {
			w.admin.Close()
		}
	})
	go func() {
		<-ctx.Done()
		w.do(w.win.Close)
	}()
	w.win.Show()
	w.win.Canvas().Focus(w.pass)
}

// showDevices is Tools → Organisation devices….
func (m *mainView) showDevices() {
	if !m.u.touch() {
		return
	}
	m.u.showDevices(m.ctx)
}

// do runs f on the UI goroutine while the window is open.
func (w *devicesWindow) do(f func()) {
	w.u.do(func() {
		if !w.closed {
			f()
		}
	})
}

// keyForm asks for the admin key file and its passphrase.
func (w *devicesWindow) keyForm() fyne.CanvasObject {
	w.keyPath, w.pass = widget.NewEntry(), widget.NewPasswordEntry()
	w.keyPath.SetPlaceHolder("The organisation's admin key file, e.g. admin.key")
	w.keyPath.SetText(w.u.fapp.Preferences().String(adminKeyPref))
	w.pass.SetPlaceHolder("The admin key's passphrase")
	w.keyErr = widget.NewLabel("")
	w.keyErr.Wrapping = fyne.TextWrapWord
	w.open = widget.NewButtonWithIcon("Open the key", theme.LoginIcon(), w.openKey)
	w.open.Importance = widget.HighImportance
	w.pass.OnSubmitted = func(string) { w.openKey() }
	for _, e := range []*widget.Entry{w.keyPath, w.pass} {
		e.OnChanged = func(string) { w.u.touch() }
	}
	browse := widget.NewButtonWithIcon("Browse…", theme.FolderOpenIcon(), w.browse)
	title := widget.NewLabelWithStyle("Organisation devices", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel("Open the organisation's admin key to list its devices, wipe a lost one and read the " +
		"receipts devices sign when they are wiped. Being an administrator is not enough: the orders are signed with this key. " +
		"It stays in its file, protected by its passphrase; this window holds it only while it is open.")
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Admin key file", container.NewBorder(nil, nil, nil, browse, w.keyPath)),
		widget.NewFormItem("Passphrase", w.pass))
	box := container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil, title), intro, form,
		container.NewHBox(layout.NewSpacer(), w.open), w.keyErr)
	return container.NewCenter(fixedWidth(640, box))
}

// browse picks the key file.
func (w *devicesWindow) browse() {
	if !w.u.touch() {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		_ = r.Close()
		w.keyPath.SetText(r.URI().Path())
		w.win.Canvas().Focus(w.pass)
	}, w.win)
	if p := strings.TrimSpace(w.keyPath.Text); p != "" {
		// Start where the key was last time.
		if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(p))); err == nil {
			d.SetLocation(dir)
		}
	}
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// openKey decrypts the key (scrypt: about a second), connects as the
// admin and lists the devices, off the UI goroutine.
func (w *devicesWindow) openKey() {
	if !w.u.touch() {
		return
	}
	if w.open.Disabled() {
		return
	}
	path, pass := strings.TrimSpace(w.keyPath.Text), w.pass.Text
	if path == "" {
		w.keyErr.SetText("Choose the admin key file first (Browse…).")
		return
	}
	w.open.Disable()
	w.keyErr.Importance = widget.MediumImportance
	w.keyErr.SetText("Opening the admin key…")
	go func() {
		var admin *client.Admin
		key, err := client.LoadAdminKey(path, pass)
		if err == nil {
			w.setKeyErr("Connecting to " + display.Text(key.URL) + " as the organisation's admin…")
			admin, err = client.DialAdmin(w.ctx, key)
		}
		var org string
		if err == nil {
			org = admin.State().Name
		}
		w.u.do(func() {
			if w.closed {
				if admin != nil {
					admin.Close()
				}
				return
			}
			w.open.Enable()
			if err != nil {
				w.keyErr.Importance = widget.DangerImportance
				w.keyErr.SetText(sentence(message(err)))
				w.pass.SetText("")
				w.win.Canvas().Focus(w.pass)
				return
			}
			w.pass.SetText("")
			w.u.fapp.Preferences().SetString(adminKeyPref, path)
			w.admin, w.org = admin, org
			w.win.SetContent(w.lists())
			w.refresh()
		})
	}()
}

func (w *devicesWindow) setKeyErr(s string) { w.do(func() { w.keyErr.SetText(s) }) }

// lists is the window once the key is open: the devices and the receipts.
func (w *devicesWindow) lists() fyne.CanvasObject {
	w.head = widget.NewLabel("")
	w.head.Wrapping = fyne.TextWrapWord
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), func() {
		if !w.u.touch() {
			return
		}
		w.refresh()
	})

	w.table = widget.NewTableWithHeaders(func() (int, int) { return len(w.devices), len(deviceColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		}, w.updateDevice)
	w.table.ShowHeaderColumn = false
	w.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	w.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(deviceColumns[id.Col].title)
		}
	}
	for i, c := range deviceColumns {
		w.table.SetColumnWidth(i, c.width)
	}
	w.table.OnSelected = func(id widget.TableCellID) {
		if !w.u.touch() {
			return
		}
		if id.Row >= 0 && id.Row < len(w.devices) {
			w.selected = id.Row
			w.showSelected()
		}
	}
	w.detail = widget.NewLabel("Select a device.")
	w.detail.Wrapping = fyne.TextWrapWord
	w.wipe = widget.NewButtonWithIcon("Wipe…", theme.DeleteIcon(), func() {
		if !w.u.touch() {
			return
		}
		if w.selected >= 0 && w.selected < len(w.devices) {
			w.askWipe(w.devices[w.selected])
		}
	})
	w.wipe.Importance = widget.DangerImportance
	w.wipe.Disable()
	devices := container.NewBorder(nil, container.NewBorder(nil, nil, nil, w.wipe, w.detail), nil, nil, w.table)

	w.rhead = widget.NewLabel("")
	w.rhead.Wrapping = fyne.TextWrapWord
	w.rtable = widget.NewTableWithHeaders(func() (int, int) { return len(w.receipts), len(receiptColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		}, func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(w.receipts) {
				o.(*widget.Label).SetText(receiptColumns[id.Col].text(w.receipts[id.Row]))
			}
		})
	w.rtable.ShowHeaderColumn = false
	w.rtable.CreateHeader = w.table.CreateHeader
	w.rtable.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(receiptColumns[id.Col].title)
		}
	}
	for i, c := range receiptColumns {
		w.rtable.SetColumnWidth(i, c.width)
	}
	w.rdetail = container.NewStack(widget.NewLabel("Select a receipt to read it, with its signed text."))
	w.rtable.OnSelected = func(id widget.TableCellID) {
		if !w.u.touch() {
			return
		}
		if id.Row >= 0 && id.Row < len(w.receipts) {
			w.rdetail.Objects = []fyne.CanvasObject{receiptView(w.receipts[id.Row], 0)}
			w.rdetail.Refresh()
		}
	}
	split := container.NewVSplit(w.rtable, container.NewVScroll(w.rdetail))
	split.Offset = 0.3
	receipts := container.NewBorder(w.rhead, nil, nil, nil, split)

	tabs := container.NewAppTabs(
		container.NewTabItemWithIcon("Devices", theme.ComputerIcon(), devices),
		container.NewTabItemWithIcon("Receipts", theme.DocumentIcon(), receipts))
	return container.NewBorder(container.NewBorder(nil, nil, nil, refresh, w.head), nil, nil, nil, tabs)
}

func (w *devicesWindow) updateDevice(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row >= len(w.devices) {
		return
	}
	d := w.devices[id.Row]
	l := o.(*widget.Label)
	l.Importance = widget.MediumImportance
	if deviceColumns[id.Col].title == "State" {
		switch {
		case d.State == "wipe pending" || d.AuditFlag != "":
			l.Importance = widget.WarningImportance
		case d.State == "wiped":
			l.Importance = widget.DangerImportance
		case d.State == "revoked":
			l.Importance = widget.LowImportance
		}
	}
	l.SetText(deviceColumns[id.Col].text(d))
}

// refresh lists the devices and the receipts again, off the UI goroutine,
// keeping the device selected.
func (w *devicesWindow) refresh() {
	w.head.SetText("Reading the organisation's devices…")
	go func() {
		w.mu.Lock()
		devs, err := w.admin.Devices(w.ctx)
		rs, rerr := w.admin.Receipts(w.ctx)
		w.mu.Unlock()
		w.do(func() {
			if err != nil {
				w.head.SetText(sentence(message(err)))
				return
			}
			w.setDevices(devs)
			w.setReceipts(rs, rerr)
		})
	}()
}

func (w *devicesWindow) setDevices(devs []wire.DeviceInfo) {
	var keep wire.HexID
	if w.selected >= 0 && w.selected < len(w.devices) {
		keep = w.devices[w.selected].ID
	}
	slices.SortFunc(devs, func(a, b wire.DeviceInfo) int {
		return cmp.Or(cmp.Compare(a.Email, b.Email), cmp.Compare(a.Name, b.Name), cmp.Compare(object.ID(a.ID).String(), object.ID(b.ID).String()))
	})
	w.devices = devs
	w.selected = slices.IndexFunc(devs, func(d wire.DeviceInfo) bool { return d.ID == keep && keep != wire.HexID{} })
	counts := map[string]int{}
	for _, d := range devs {
		counts[cmp.Or(d.State, "active")]++
	}
	var parts []string
	for _, s := range []string{"active", "revoked", "wipe pending", "wiped"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	w.head.SetText(display.Text(fmt.Sprintf("%s at %s: %s (%s). Read at %s UTC.", cmp.Or(w.org, "The organisation"),
		w.admin.Key.URL, english.Plural(len(devs), "device", ""), strings.Join(parts, ", "), time.Now().UTC().Format("15:04:05"))))
	w.table.Refresh()
	if w.selected >= 0 {
		w.table.Select(widget.TableCellID{Row: w.selected, Col: 0})
	} else {
		w.table.UnselectAll()
	}
	w.showSelected()
}

// showSelected says what the device selected is and whether it may be
// wiped.
func (w *devicesWindow) showSelected() {
	if w.selected < 0 || w.selected >= len(w.devices) {
		w.detail.SetText("Select a device to wipe it.")
		w.wipe.Disable()
		return
	}
	d := w.devices[w.selected]
	text := fmt.Sprintf("%s of %s (ID %s)", deviceName(d.Name, d.ID), display.Name(d.Email), object.ID(d.ID).String()[:12])
	if d.LastSeen > 0 {
		text += fmt.Sprintf(", last seen %s", humanize.Time(time.Unix(d.LastSeen, 0)))
		if d.LastIP != "" {
			text += " from " + display.Name(d.LastIP)
		}
	}
	switch d.State {
	case "wipe pending":
		text += ". Ordered wiped: it wipes itself when it next reaches the server or starts; its receipt appears under Receipts."
	case "wiped":
		text += ". Wiped: its receipt is under Receipts."
	default:
		text += "."
	}
	w.detail.SetText(text)
	setDisabled(w.wipe, !mayWipe(d))
}

// receiptColumn is a column of the receipts table.
type receiptColumn struct {
	title string
	width float32
	text  func(*client.VerifiedReceipt) string
}

var receiptColumns = []receiptColumn{
	{"Device", 180, func(r *client.VerifiedReceipt) string { return deviceName(r.Name, wire.HexID(r.Device)) }},
	{"User", 200, func(r *client.VerifiedReceipt) string { return display.Name(r.Email) }},
	{"Wiped", 250, func(r *client.VerifiedReceipt) string { return wipeCause(r.Cause) }},
	{"At (device clock, UTC)", 175, func(r *client.VerifiedReceipt) string { return r.Wiped.UTC().Format("2006-01-02 15:04:05") }},
	{"Received (UTC)", 150, func(r *client.VerifiedReceipt) string { return r.Received.UTC().Format("2006-01-02 15:04:05") }},
	{"Destroyed", 150, func(r *client.VerifiedReceipt) string { return destroyed(r) }},
}

func (w *devicesWindow) setReceipts(rs []*client.VerifiedReceipt, err error) {
	if err != nil {
		w.rhead.Importance = widget.DangerImportance
		w.rhead.SetText("The receipts could not be read or verified: " + sentence(message(err)))
		return
	}
	slices.SortFunc(rs, func(a, b *client.VerifiedReceipt) int { return b.Received.Compare(a.Received) })
	w.receipts = rs
	w.rhead.Importance = widget.MediumImportance
	switch len(rs) {
	case 0:
		w.rhead.SetText("No wipe receipts yet.")
	case 1:
		w.rhead.SetText("1 wipe receipt, verified: signed by the wiped device's own key, which the organisation's log " +
			"certifies, for the order the log holds.")
	default:
		w.rhead.SetText(fmt.Sprintf("%d wipe receipts, newest first, each verified: signed by the wiped device's own key, "+
			"which the organisation's log certifies, for the order the log holds.", len(rs)))
	}
	w.rtable.UnselectAll()
	w.rtable.Refresh()
}

// wipeCause says why a device was wiped, as its receipt says.
func wipeCause(cause string) string {
	switch cause {
	case "lease":
		return "by itself: its lease's deadline passed offline"
	case "failures":
		return "by itself: too many wrong passphrases"
	}
	return "by order of the admin"
}

func destroyed(r *client.VerifiedReceipt) string {
	return fmt.Sprintf("%s, %s", english.Plural(int(r.Files), "file", ""), humanize.IBytes(uint64(max(r.Bytes, 0))))
}

// receiptView shows a verified receipt: who, why, when, what was
// destroyed, how long it took after the order (if after > 0), and the
// signed text itself.
func receiptView(r *client.VerifiedReceipt, after time.Duration) fyne.CanvasObject {
	value := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	form := widget.NewForm(
		widget.NewFormItem("Device", value(fmt.Sprintf("%s (ID %s)", deviceName(r.Name, wire.HexID(r.Device)), r.Device.String()[:12]))),
		widget.NewFormItem("User", value(display.Name(r.Email))),
		widget.NewFormItem("Wiped", value(wipeCause(r.Cause))),
		widget.NewFormItem("At", value(r.Wiped.UTC().Format("2006-01-02 15:04:05")+" UTC, by the device's clock")),
		widget.NewFormItem("Received", value(r.Received.UTC().Format("2006-01-02 15:04:05")+" UTC, by the server's clock")),
		widget.NewFormItem("Destroyed", value(destroyed(r))),
	)
	if !r.ServerTime.IsZero() {
		form.Append("Last server time", value(r.ServerTime.UTC().Format("2006-01-02 15:04:05")+" UTC, the latest the device had verified"))
	}
	if after > 0 {
		form.Append("Took", value(fmt.Sprintf("%s from the order to the verified receipt", after.Round(time.Millisecond))))
	}
	verified := widget.NewLabelWithStyle("Receipt verified", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	verified.Importance = widget.SuccessImportance
	why := value("Signed by the device's own key, which the organisation's log certifies, for the wipe order the log holds.")
	raw := widget.NewLabelWithStyle(safeJoin(strings.Split(strings.TrimSpace(string(r.Raw)), "\n"), "\n"), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	raw.Selectable = true
	signed := widget.NewAccordion(widget.NewAccordionItem("Signed receipt", raw))
	return container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.ConfirmIcon()), nil, verified), why, form, signed)
}
