package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	"github.com/dustin/go-humanize"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/vault"
)

// showVersions lists the selected file's versions, newest first, each
// older one with a Restore button: restoring adds a new version, history is
// never rewritten.
func (m *mainView) showVersions() {
	if !m.u.touch() {
		return
	}
	if m.folder == nil || m.file == nil {
		m.u.status.SetText("Select a file to see its versions.")
		return
	}
	folder, file := *m.folder, *m.file
	go func() {
		vers, err := m.a.Versions(m.ctx, folder.Name, file.Name)
		m.do(func() {
			if err != nil {
				m.notice.show(err)
				return
			}
			m.versionsDialog(folder, file, vers)
		})
	}()
}

func (m *mainView) versionsDialog(folder vault.Folder, file vault.FileInfo, vers []vault.Version) {
	rows := container.NewVBox()
	var d dialog.Dialog
	for i := len(vers) - 1; i >= 0; i-- {
		v := vers[i]
		text := fmt.Sprintf("v%d   %s UTC   %s   %s", v.Seq, v.Time.Format("2006-01-02 15:04"), humanize.IBytes(uint64(v.Size)), display.Name(v.AuthorUser))
		if v.RestoredFrom > 0 {
			text += fmt.Sprintf("   (restored from v%d)", v.RestoredFrom)
		}
		restore := widget.NewButton(fmt.Sprintf("Restore v%d", v.Seq), func() {
			d.Hide()
			m.restore(folder, file, v.Seq)
		})
		if i == len(vers)-1 {
			restore.SetText("Current")
			restore.Disable()
		}
		rows.Add(container.NewBorder(nil, nil, nil, restore, widget.NewLabel(text)))
	}
	d = dialog.NewCustom("Versions of "+display.Name(file.Name), "Close", container.NewVScroll(rows), m.u.win)
	d.Resize(fyne.NewSize(640, 360))
	d.Show()
}

func (m *mainView) restore(folder vault.Folder, file vault.FileInfo, seq int) {
	if !m.u.touch() {
		return
	}
	go func() {
		ver, err := m.a.Restore(m.ctx, folder.Name, file.Name, seq)
		if err != nil {
			m.refused(err)
			return
		}
		m.do(func() {
			m.u.status.SetText(fmt.Sprintf("Restored %s version %d as version %d.", display.Name(file.Name), seq, ver.Seq))
		})
	}()
}
