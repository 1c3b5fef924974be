package ui

import (
	"fmt"
	"image"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/dustin/go-humanize"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// mainView is the unlocked window: folders, files, preview, status.
type mainView struct {
	u       *UI
	content fyne.CanvasObject

	folders    []vault.Folder
	files      []vault.FileInfo
	shown      []vault.FileInfo // files matching the search
	folder     *vault.Folder
	file       *vault.FileInfo
	page       int
	pages      int
	folderList *widget.List
	fileList   *widget.List
	search     *widget.Entry
	image      *canvas.Image
	pageLabel  *widget.Label
	banner     *widget.Label
	prev, next *widget.Button
	versions   *widget.Button
}

func newMainView(u *UI) *mainView {
	m := &mainView{u: u, page: 1}
	m.folderList = widget.NewList(func() int { return len(m.folders) }, m.newFolderRow, m.updateFolderRow)
	m.folderList.OnSelected = func(i widget.ListItemID) { m.selectFolder(i) }
	m.fileList = widget.NewList(func() int { return len(m.shown) }, func() fyne.CanvasObject {
		return widget.NewLabel("file name")
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		f := m.shown[i]
		o.(*widget.Label).SetText(fmt.Sprintf("%s   %s · %s · v%d", f.Name, humanize.IBytes(uint64(f.Size)), f.Modified.Format("2006-01-02"), f.Versions))
	})
	m.fileList.OnSelected = func(i widget.ListItemID) { m.selectFile(i) }
	m.search = widget.NewEntry()
	m.search.SetPlaceHolder("Search by name")
	m.search.OnChanged = func(string) { m.filter() }
	m.image = canvas.NewImageFromImage(nil)
	m.image.FillMode = canvas.ImageFillContain
	m.pageLabel = widget.NewLabel("")
	m.banner = widget.NewLabel("")
	m.banner.Wrapping = fyne.TextWrapWord
	m.banner.Hide()
	m.prev = widget.NewButton("◀ Previous", func() { m.turn(-1) })
	m.next = widget.NewButton("Next ▶", func() { m.turn(+1) })
	m.versions = widget.NewButton("Versions…", m.showVersions)
	importButton := widget.NewButton("Import…", m.askImport)
	nav := container.NewHBox(m.prev, m.pageLabel, m.next, m.versions)
	preview := container.NewBorder(container.NewVBox(m.banner, nav), nil, nil, nil, m.image)
	files := container.NewBorder(container.NewBorder(nil, nil, nil, importButton, m.search), nil, nil, nil, m.fileList)
	auditButton := widget.NewButton("Audit trail…", m.showAudit)
	left := container.NewBorder(widget.NewLabelWithStyle("Folders", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), auditButton, nil, nil, m.folderList)
	split := container.NewHSplit(left, container.NewHSplit(files, preview))
	split.Offset = 0.18
	m.content = container.NewBorder(nil, u.statusBar(), nil, nil, split)
	return m
}

func (m *mainView) newFolderRow() fyne.CanvasObject {
	badge := canvas.NewText("CONFIDENTIAL", nil)
	badge.TextSize = 10
	badge.TextStyle.Bold = true
	return container.NewHBox(widget.NewLabel("folder"), badge)
}

func (m *mainView) updateFolderRow(i widget.ListItemID, o fyne.CanvasObject) {
	f := m.folders[i]
	row := o.(*fyne.Container)
	row.Objects[0].(*widget.Label).SetText(f.Name)
	badge := row.Objects[1].(*canvas.Text)
	badge.Text = strings.ToUpper(string(f.Class))
	badge.Color = classColor(f.Class)
	badge.Refresh()
}

// load reads the folders, off the UI goroutine.
func (m *mainView) load() {
	go func() {
		folders, err := m.u.a.Folders(m.u.ctx)
		m.u.do(func() {
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			slices.SortFunc(folders, func(a, b vault.Folder) int { return strings.Compare(a.Name, b.Name) })
			m.folders = folders
			m.folderList.Refresh()
			m.u.status.SetText(fmt.Sprintf("Unlocked. %d folders.", len(folders)))
		})
	}()
}

func (m *mainView) selectFolder(i int) {
	m.u.touch()
	f := m.folders[i]
	m.folder, m.file = &f, nil
	m.reloadFiles(f)
}

// reloadFiles reads the files of f off the UI goroutine.
func (m *mainView) reloadFiles(f vault.Folder) {
	go func() {
		files, err := m.u.a.Files(m.u.ctx, f.Name)
		m.u.do(func() {
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			slices.SortFunc(files, func(a, b vault.FileInfo) int { return strings.Compare(a.Name, b.Name) })
			m.files = files
			m.filter()
			m.u.status.SetText(fmt.Sprintf("%s (%s): %d files", f.Name, f.Class, len(files)))
		})
	}()
}

func (m *mainView) filter() {
	q := strings.ToLower(m.search.Text)
	m.shown = m.shown[:0]
	for _, f := range m.files {
		if q == "" || strings.Contains(strings.ToLower(f.Name), q) {
			m.shown = append(m.shown, f)
		}
	}
	m.fileList.UnselectAll()
	m.fileList.Refresh()
}

func (m *mainView) selectFile(i int) {
	m.u.touch()
	f := m.shown[i]
	m.file, m.page = &f, 1
	m.render()
}

func (m *mainView) turn(delta int) {
	m.u.touch()
	if m.file == nil || m.page+delta < 1 || (m.pages > 0 && m.page+delta > m.pages) {
		return
	}
	m.page += delta
	m.render()
}

// render asks app for the watermarked page off the UI goroutine.
func (m *mainView) render() {
	folder, file, page := *m.folder, *m.file, m.page
	m.u.status.SetText(fmt.Sprintf("Rendering %s page %d…", file.Name, page))
	go func() {
		p, err := m.u.a.Preview(m.u.ctx, folder.Name, file.Name, app.PreviewOptions{Page: page, DPI: 110})
		m.u.do(func() {
			if err != nil {
				m.image.Image = nil
				m.image.Refresh()
				m.u.status.SetText(message(err))
				return
			}
			m.show(folder, file, p.Image, p.Page, p.Pages, p.TraceCode)
		})
	}()
}

func (m *mainView) show(folder vault.Folder, file vault.FileInfo, img image.Image, page, pages int, trace string) {
	m.pages = pages
	m.image.Image = img
	m.image.Refresh()
	m.pageLabel.SetText(fmt.Sprintf("Page %d of %d", page, pages))
	if note := captureNote(); note != "" && folder.Class.NoExport() {
		m.banner.SetText(note)
		m.banner.Show()
	} else {
		m.banner.Hide()
	}
	m.u.status.SetText(fmt.Sprintf("%s — %s, page %d of %d, trace code %s", file.Name, folder.Class, page, pages, trace))
}

// outward handles Ctrl+C, Ctrl+P and Ctrl+S: app decides and audits;
// the window only reports the answer.
func (m *mainView) outward(action policy.Action) {
	m.u.touch()
	if m.folder == nil || m.file == nil {
		return
	}
	folder, file := *m.folder, *m.file
	go func() {
		ver, err := m.u.a.Vault().Stat(m.u.ctx, folder, file.Name)
		if err == nil {
			err = m.u.a.Gate(m.u.ctx, folder, ver, action)
		}
		if err != nil {
			m.u.setStatus(message(err))
			return
		}
		m.u.setStatus(fmt.Sprintf("%s of %s is allowed; use the command line to export (the desktop export dialog comes next).", action, file.Name))
	}()
}
