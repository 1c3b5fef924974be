package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// classHelp says in a line what a class means for the people who use it.
var classHelp = map[policy.Class]string{
	policy.Public:       "Public — export, print and copy allowed.",
	policy.Internal:     "Internal — exports are stamped and carry a trace code.",
	policy.Confidential: "Confidential — watermarked preview only: no export, print or copy.",
	policy.Restricted:   "Restricted — as confidential, and never shared with guests.",
}

// askNewFolder asks for a name and a class and creates the folder.
func (m *mainView) askNewFolder() {
	if !m.u.touch() {
		return
	}
	name := widget.NewEntry()
	name.SetPlaceHolder("Deals 2026")
	options := make([]string, len(policy.Classes))
	for i, c := range policy.Classes {
		options[i] = classHelp[c]
	}
	class := widget.NewRadioGroup(options, nil)
	class.SetSelected(classHelp[policy.Confidential]) // the safer default
	class.Required = true
	items := []*widget.FormItem{widget.NewFormItem("Name", name), widget.NewFormItem("Class", class)}
	d := dialog.NewForm("New folder", "Create", "Cancel", items, func(ok bool) {
		if !ok || !m.u.touch() {
			return
		}
		var c policy.Class
		for k, help := range classHelp {
			if help == class.Selected {
				c = k
			}
		}
		m.createFolder(strings.TrimSpace(name.Text), c)
	}, m.u.win)
	name.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("enter a name")
		}
		return nil
	}
	name.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(560, 320))
	d.Show()
	m.u.win.Canvas().Focus(name)
}

func (m *mainView) createFolder(name string, class policy.Class) {
	go func() {
		_, err := m.a.CreateFolder(m.ctx, name, class)
		if err != nil {
			m.setStatus("New folder: " + message(err))
			return
		}
		m.do(func() {
			m.load(func() {
				m.selectFolderNamed(name)
				m.u.status.SetText(fmt.Sprintf("Created %s (%s).", name, class))
			})
		})
	}()
}

// folderRow is a row of the folder list: icon, name and class badge. A
// right click selects the folder and offers what can be done to it as a
// folder: share it, see its members.
type folderRow struct {
	widget.BaseWidget
	m     *mainView
	i     int
	name  *widget.Label
	badge *canvas.Text
	box   *fyne.Container
}

func newFolderRow(m *mainView) *folderRow {
	r := &folderRow{m: m, name: widget.NewLabel("folder"), badge: canvas.NewText("CONFIDENTIAL", nil)}
	r.badge.TextSize = 10
	r.badge.TextStyle.Bold = true
	r.box = container.NewHBox(widget.NewIcon(theme.FolderIcon()), r.name, container.NewCenter(r.badge))
	r.ExtendBaseWidget(r)
	return r
}

func (r *folderRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (r *folderRow) set(i int, f vault.Folder) {
	r.i = i
	r.name.SetText(display.Name(f.Name))
	r.badge.Text = strings.ToUpper(string(f.Class))
	r.badge.Color = classColor(f.Class)
	r.badge.Refresh()
}

// Tapped selects the folder: the row takes the list's taps since it takes
// right clicks (Fyne gives a click to the innermost object that takes any).
func (r *folderRow) Tapped(*fyne.PointEvent) {
	if r.i < len(r.m.folders) {
		r.m.folderList.Select(r.i)
	}
}

// TappedSecondary opens the folder's context menu.
func (r *folderRow) TappedSecondary(e *fyne.PointEvent) {
	m := r.m
	if r.i >= len(m.folders) || m.ended {
		return
	}
	m.folderList.Select(r.i)
	if !offers(m.a, people) {
		return // a guest's folders have no folder actions
	}
	share := fyne.NewMenuItem("Share…", m.askShare)
	share.Disabled = m.shareButton.Disabled()
	members := fyne.NewMenuItem("Members…", m.showMembers)
	members.Disabled = m.membersButton.Disabled()
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", share, members), m.u.win.Canvas(), e.AbsolutePosition)
}
