package ui

import (
	"context"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize/english"
	"image"
	"image/color"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// mainView is the unlocked window: folders, files, preview, status.
type mainView struct {
	u       *UI
	a       *app.App        // the session's app: still valid (if closed) after a lock
	ctx     context.Context // the session's: cancelled by the lock
	content fyne.CanvasObject
	seq     int // of the latest render request; older results are dropped

	noExportShown bool // a confidential or restricted page is on screen

	folders    []vault.Folder
	folder     *vault.Folder
	file       *vault.FileInfo
	page       int
	pages      int
	folderList *widget.List
	files      *fileTable
	search     *widget.Entry
	view       *viewer
	pageLabel  *widget.Label
	banner     *widget.Label // the capture note
	notice     *notice       // a refusal or failure, over the page
	prev, next *widget.Button
	versions   *widget.Button
	fitW, fitP *widget.Button
	pageTools  []*widget.Button // the preview's toolbar: live only while a page is shown

	// What the organisation makes of this user: buttons offered by role,
	// the guest's banner, the folder actions a folder's role allows.
	guestBanner                *fyne.Container
	peopleOnly                 []fyne.CanvasObject // hidden from guests
	trailOnly                  []fyne.CanvasObject // shown to who may read the audit trail
	newFolderButton            fyne.CanvasObject   // shown to who may make folders
	orgAuditButton             *widget.Button
	shareButton, membersButton *widget.Button
	folderActionsBox           *fyne.Container // the two, for the organisation's people
	ended                      bool            // a guest's access ended: the ended view is up
	endedNotices               []string        // the folders its end removed
}

func newMainView(u *UI) *mainView {
	m := &mainView{u: u, a: u.a, ctx: u.session, page: 1, view: newViewer()}
	m.view.scale = u.win.Canvas().Scale()
	m.folderList = widget.NewList(func() int { return len(m.folders) }, func() fyne.CanvasObject { return newFolderRow(m) }, m.updateFolderRow)
	m.folderList.OnSelected = func(i widget.ListItemID) { m.selectFolder(i) }
	m.files = newFileTable(m.selectFile)
	m.files.table.pageKey = m.pageKey
	m.search = widget.NewEntry()
	m.search.SetPlaceHolder("Search by name (Ctrl+F)")
	m.search.OnChanged = func(q string) { m.files.Filter(q) }
	m.pageLabel = widget.NewLabel("")
	m.banner = widget.NewLabel("")
	m.banner.Wrapping = fyne.TextWrapWord
	m.banner.Importance = widget.WarningImportance
	m.banner.Hide()
	m.notice = newNotice()
	m.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { m.turn(-1) })
	m.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { m.turn(+1) })
	m.versions = widget.NewButtonWithIcon("Versions…", theme.HistoryIcon(), m.showVersions)
	zoomOut := widget.NewButtonWithIcon("", theme.ZoomOutIcon(), func() { m.zoom(-1) })
	zoomIn := widget.NewButtonWithIcon("", theme.ZoomInIcon(), func() { m.zoom(+1) })
	m.fitW = widget.NewButton("Fit width", func() { m.setZoom(fitWidth) })
	m.fitP = widget.NewButton("Fit page", func() { m.setZoom(fitPage) })
	m.pageTools = []*widget.Button{m.prev, m.next, zoomOut, zoomIn, m.fitW, m.fitP, m.versions}
	nav := container.NewHBox(m.prev, m.pageLabel, m.next, widget.NewSeparator(),
		zoomOut, m.view.label, zoomIn, m.fitW, m.fitP, widget.NewSeparator(), m.versions)
	m.toolbar()
	preview := container.NewBorder(container.NewVBox(m.notice.box, m.banner, nav), nil, nil, nil, m.view.pane)

	importButton := widget.NewButtonWithIcon("Import…", theme.ContentAddIcon(), m.askImport)
	// The file pane keeps room for a few whole rows, however the split
	// is dragged: the split gives it no more than that at first.
	tableRoom := canvas.NewRectangle(color.Transparent)
	tableRoom.SetMinSize(fyne.NewSize(0, m.files.minHeight()))
	files := container.NewBorder(container.NewBorder(nil, nil, nil, importButton, m.search), nil, nil, nil,
		container.NewStack(tableRoom, m.files.table))

	newFolder := widget.NewButtonWithIcon("New folder…", theme.FolderNewIcon(), m.askNewFolder)
	auditButton := widget.NewButtonWithIcon("Audit trail…", theme.ListIcon(), m.showAudit)
	traceButton := widget.NewButtonWithIcon("Trace code…", theme.SearchIcon(), m.askTrace)
	m.shareButton = widget.NewButtonWithIcon("Share…", theme.MailSendIcon(), m.askShare)
	m.membersButton = widget.NewButtonWithIcon("Members…", theme.AccountIcon(), m.showMembers)
	m.orgAuditButton = widget.NewButtonWithIcon("Organisation audit…", theme.VisibilityIcon(), m.showOrgAudit)
	m.folderActionsBox = container.NewVBox(container.NewGridWithColumns(2, m.shareButton, m.membersButton), widget.NewSeparator())
	m.peopleOnly = []fyne.CanvasObject{importButton}
	m.newFolderButton = newFolder
	m.trailOnly = []fyne.CanvasObject{auditButton, traceButton}
	left := container.NewBorder(widget.NewLabelWithStyle("Folders", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewVBox(m.folderActionsBox, newFolder, auditButton, traceButton, m.orgAuditButton), nil, nil, m.folderList)
	right := container.NewVSplit(files, preview)
	right.Offset = 0 // as little as the file pane's minimum: the rest for the page
	split := container.NewHSplit(left, right)
	split.Offset = 0.2
	m.guestBanner = newGuestBanner()
	m.content = container.NewBorder(m.guestBanner, u.statusBar(), nil, nil, split)
	m.offerByRole()
	return m
}

func (m *mainView) updateFolderRow(i widget.ListItemID, o fyne.CanvasObject) {
	o.(*folderRow).set(i, m.folders[i])
}

// load reads the folders, off the UI goroutine, then runs then (if set) on
// the UI goroutine.
func (m *mainView) load(then func()) {
	go func() {
		folders, err := m.a.Folders(m.ctx)
		m.do(func() {
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			slices.SortFunc(folders, func(a, b vault.Folder) int { return strings.Compare(a.Name, b.Name) })
			m.folders = folders
			m.folderList.Refresh()
			_, guest := m.a.GuestExpiry()
			switch {
			case then != nil:
				then()
			case m.ended: // the ended view says what happened
			case len(m.a.Warnings()) > 0:
				// Wrong passphrases tried since the last unlock, a clock
				// set back: the first thing the user must read.
				m.u.status.SetText(display.Text("Warning: " + strings.Join(m.a.Warnings(), "; ") + "."))
			case len(folders) == 0 && guest:
				m.u.status.SetText("Unlocked. No folders yet: the folders granted to you arrive with the next sync.")
			case len(folders) == 0 && !m.a.MayCreateFolder():
				// A member, compliance, risk: folders come from others.
				m.u.status.SetText("Unlocked. No folders yet: folders shared with you arrive with the next sync.")
			case len(folders) == 0:
				m.u.status.SetText("Unlocked. No folders yet: make one with New folder… (Ctrl+N), then import documents.")
			default:
				m.u.status.SetText("Unlocked. " + english.Plural(len(folders), "folder", "") + ".")
			}
		})
	}()
}

// selectFolderNamed selects the folder called name, if listed.
func (m *mainView) selectFolderNamed(name string) {
	for i, f := range m.folders {
		if f.Name == name {
			m.folderList.Select(i)
		}
	}
}

func (m *mainView) selectFolder(i int) {
	if !m.u.touch() {
		return
	}
	f := m.folders[i]
	m.folder, m.file = &f, nil
	m.notice.hide()
	m.seq++ // a page still rendering for the last folder is not shown
	m.hidePage()
	m.reloadFiles(f, true)
	m.folderActions()
}

// reloadFiles reads the files of f off the UI goroutine and lists them if
// f is still the folder selected; report puts the count in the status bar.
func (m *mainView) reloadFiles(f vault.Folder, report bool) {
	go func() {
		files, err := m.a.Files(m.ctx, f.Name)
		m.do(func() {
			if m.folder == nil || m.folder.ID != f.ID {
				return
			}
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			m.files.SetFiles(files)
			switch {
			case !report:
			case len(files) == 0:
				m.u.status.SetText(fmt.Sprintf("%s (%s) is empty: drop files on the window, or Import… (Ctrl+O).", display.Name(f.Name), f.Class))
			default:
				m.u.status.SetText(fmt.Sprintf("%s (%s): %s", display.Name(f.Name), f.Class, english.Plural(len(files), "file", "")))
			}
		})
	}()
}

// hidePage empties the preview pane; the capture shield goes off after
// the next frame.
func (m *mainView) hidePage() {
	m.view.clear()
	m.pages = 0
	m.pageLabel.SetText("")
	m.banner.Hide()
	m.noExportShown = false
	m.u.unprotectLater()
	m.toolbar()
}

func (m *mainView) selectFile(f vault.FileInfo) {
	if !m.u.touch() {
		return
	}
	if m.file != nil && m.file.ID == f.ID && m.pages > 0 {
		return // another cell of the row on screen
	}
	if m.file == nil || m.file.ID != f.ID {
		m.view.mode = defaultZoom // each document opens at the same zoom
		m.notice.hide()
	}
	m.file, m.page, m.pages = &f, 1, 0
	m.render()
}

// toolbar makes the preview's toolbar say what is on screen: without a
// page nothing in it works; the fit mode in force is highlighted; the
// arrows stop at the first and last page.
func (m *mainView) toolbar() {
	shown := m.pages > 0 && m.view.image.Image != nil
	if !shown {
		m.view.label.SetText("") // no zoom without a page
	} else if p := m.view.percent(); p != m.view.label.Text {
		m.view.label.SetText(p)
	}
	for _, b := range m.pageTools {
		if shown {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if shown && m.page <= 1 {
		m.prev.Disable()
	}
	if shown && m.page >= m.pages {
		m.next.Disable()
	}
	for _, f := range []struct {
		b    *widget.Button
		mode float64
	}{{m.fitW, fitWidth}, {m.fitP, fitPage}} {
		imp := widget.MediumImportance
		if m.view.mode == f.mode {
			imp = widget.HighImportance
		}
		if f.b.Importance != imp {
			f.b.Importance = imp
			f.b.Refresh()
		}
	}
}

// pageKey turns the pages of the document shown: Page Down, Space and
// Right go forward, Page Up and Left back, Home and End to the first and
// last page; Down and Up open the next or previous file. It reports
// whether it took the key: with no document shown, the keys stay the
// focused widget's.
func (m *mainView) pageKey(k fyne.KeyName) bool {
	if m.file == nil {
		return false
	}
	switch k {
	case fyne.KeyPageDown, fyne.KeySpace, fyne.KeyRight:
		m.turn(+1)
	case fyne.KeyPageUp, fyne.KeyLeft:
		m.turn(-1)
	case fyne.KeyHome:
		m.turn(1 - m.page)
	case fyne.KeyEnd:
		if m.pages > 0 {
			m.turn(m.pages - m.page)
		}
	case fyne.KeyDown:
		m.files.step(+1)
	case fyne.KeyUp:
		m.files.step(-1)
	default:
		return false
	}
	return true
}

func (m *mainView) turn(delta int) {
	if !m.u.touch() {
		return
	}
	if m.file == nil || delta == 0 || m.page+delta < 1 || (m.pages > 0 && m.page+delta > m.pages) {
		return
	}
	m.page += delta
	m.render()
}

// zoom steps the zoom and renders the page again at the new resolution.
func (m *mainView) zoom(step int) {
	if !m.u.touch() {
		return
	}
	if m.view.image.Image == nil {
		return // nothing to zoom
	}
	m.view.zoomBy(step)
	m.rerender()
}

func (m *mainView) setZoom(mode float64) {
	if !m.u.touch() {
		return
	}
	if m.view.image.Image == nil {
		return
	}
	m.view.mode = mode
	m.rerender()
}

// rerender lays out the page shown at the new zoom at once, and renders it
// again at a resolution that suits it.
func (m *mainView) rerender() {
	m.view.layout()
	m.toolbar()
	if m.file != nil {
		m.render()
	}
}

// render asks app for the watermarked page off the UI goroutine.
func (m *mainView) render() {
	if m.folder == nil || m.file == nil {
		return
	}
	folder, file, page, dpi := *m.folder, *m.file, m.page, m.view.renderDPI()
	mark := m.view.watermarkHeight(dpi)
	m.seq++
	seq := m.seq
	status := fmt.Sprintf("Rendering %s page %d…", display.Name(file.Name), page)
	if _, fam, _ := fileKind(file.Type, file.Name); m.pages == 0 && (fam == famWord || fam == famSlides) {
		// A first look at an Office document waits for LibreOffice.
		status = fmt.Sprintf("Converting %s with LibreOffice…", display.Name(file.Name))
	}
	m.u.status.SetText(status)
	go func() {
		p, err := m.a.Preview(m.ctx, folder.Name, file.Name, app.PreviewOptions{Page: page, DPI: dpi, Keep: true, WatermarkHeight: mark})
		m.do(func() {
			if seq != m.seq {
				return // the user moved on while this page rendered
			}
			if err != nil {
				m.hidePage()
				m.notice.show(err)
				m.u.status.SetText(fmt.Sprintf("%s page %d is not shown.", display.Name(file.Name), page))
				return
			}
			m.show(folder, file, p.Image, dpi, p.Page, p.Pages, p.TraceCode)
		})
	}()
}

func (m *mainView) show(folder vault.Folder, file vault.FileInfo, img image.Image, dpi float64, page, pages int, trace string) {
	m.pages = pages
	// Capture protection goes on before the pixels reach the screen, and
	// off only after they have left it.
	shielded := false
	if folder.Class.NoExport() {
		shielded = m.u.protect(true)
	}
	m.noExportShown = folder.Class.NoExport()
	m.view.show(img, dpi)
	if !m.noExportShown {
		m.u.unprotectLater()
	}
	m.pageLabel.SetText(fmt.Sprintf("Page %d of %d", page, pages))
	m.page = page
	m.toolbar()
	if folder.Class.NoExport() && !shielded {
		m.banner.SetText(captureNote())
		m.banner.Show()
	} else {
		m.banner.Hide()
	}
	m.u.status.SetText(fmt.Sprintf("%s — %s, page %d of %d, trace code %s", display.Name(file.Name), folder.Class, page, pages, trace))
}

// outward handles Ctrl+C, Ctrl+P and Ctrl+S: app decides and audits; the
// window only reports the answer, and for an allowed Save offers the
// export dialog.
func (m *mainView) outward(action policy.Action) {
	if !m.u.touch() {
		return
	}
	if m.folder == nil || m.file == nil {
		m.u.status.SetText("Select a file first.")
		return
	}
	folder, file := *m.folder, *m.file
	go func() {
		// Allowed: nothing is recorded until something leaves (the export
		// records itself). Refused: Gate records the attempt.
		err := m.a.May(folder, action)
		if err != nil {
			ver, serr := m.a.Vault().Stat(m.ctx, folder, file.Name)
			if serr != nil {
				err = serr
			} else {
				err = m.a.Gate(m.ctx, folder, ver, action)
			}
		}
		if err != nil {
			m.refused(err)
			return
		}
		switch action {
		case policy.Export:
			m.do(func() { m.askExport(folder, file) })
		case policy.Print, policy.OpenExternal:
			m.openCopy(action, folder, file)
		case policy.Copy:
			text, err := m.a.CopyText(m.ctx, folder.Name, file.Name)
			if err != nil {
				m.refused(fmt.Errorf("copy: %w", err))
				return
			}
			m.do(func() {
				m.u.fapp.Clipboard().SetContent(text)
				m.u.status.SetText(fmt.Sprintf("Copied the text of %s (%d characters).", display.Name(file.Name), utf8.RuneCountInString(text)))
			})
		}
	}()
}

// openCopy hands a copy (stamped where the class asks) to the default
// application, to read or print there; app records it and deletes the
// copy when the vault locks.
func (m *mainView) openCopy(action policy.Action, folder vault.Folder, file vault.FileInfo) {
	c, err := m.a.OpenCopy(m.ctx, action, folder.Name, file.Name, m.u.launch)
	if errors.Is(err, exec.ErrNotFound) && runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		err = &said{err: err, text: fmt.Sprintf("Nothing opened %s: xdg-open, which hands files to the default application, "+
			"is missing (install xdg-utils). The attempt is recorded as failed in the audit trail.", display.Name(file.Name))}
	}
	if err != nil {
		m.refused(err)
		return
	}
	what := "to read"
	if action == policy.Print {
		what = "to print from there"
	}
	m.setStatus(fmt.Sprintf("Opened a copy of %s in your default app %s (trace code %s%s). Coffer deletes it when it locks.",
		display.Name(file.Name), what, c.TraceCode, c.StampNote()))
}

// do runs f on the UI goroutine if this view is still the window's: work
// that finishes after a lock (a page, a copy, a dialog) must not act on
// the unlock screen.
func (m *mainView) do(f func()) {
	m.u.do(func() {
		if m.u.main == m {
			f()
		}
	})
}

// refused puts err up in the banner over the page if this view is still
// live; the status bar keeps what it said (the page's trace code).
func (m *mainView) refused(err error) {
	m.do(func() { m.notice.show(err) })
}

// setStatus shows msg in the status bar if this view is still live.
func (m *mainView) setStatus(msg string) {
	m.do(func() { m.u.status.SetText(msg) })
}
