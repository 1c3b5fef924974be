package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/policy"
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
	m.u.touch()
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
		if !ok {
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
