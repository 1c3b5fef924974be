package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/vault"
)

// askExport asks where to save a plaintext copy and has app write it: app
// decides again, stamps what the class requires and records the export.
// Fyne's save dialog empties an existing file before it returns, which
// would lose the file if the export then failed; this dialog only picks a
// path, and app replaces a file atomically, after asking.
func (m *mainView) askExport(folder vault.Folder, file vault.FileInfo) {
	dir := defaultSaveDir()
	name := widget.NewEntry()
	name.SetText(display.FileName(file.Name))
	where := widget.NewLabel(dir)
	where.Truncation = fyne.TextTruncateEllipsis
	choose := widget.NewButton("Change…", func() {
		dialog.ShowFolderOpen(func(l fyne.ListableURI, err error) {
			if err == nil && l != nil {
				dir = l.Path()
				where.SetText(dir)
			}
		}, m.u.win)
	})
	name.Validator = func(s string) error {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`+"\x00") {
			return errors.New("a file name, without folders")
		}
		return nil
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Folder", container.NewBorder(nil, nil, nil, choose, where)),
	}
	d := dialog.NewForm("Save a copy of "+display.Name(file.Name), "Save", "Cancel", items, func(ok bool) {
		if ok {
			m.export(folder, file, filepath.Join(dir, name.Text), false)
		}
	}, m.u.win)
	name.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(620, 220))
	d.Show()
	m.u.win.Canvas().Focus(name)
}

// export writes the copy; an existing file is replaced only after the user
// says so.
func (m *mainView) export(folder vault.Folder, file vault.FileInfo, out string, replace bool) {
	if !m.u.touch() {
		return // a dialog's button after the computer slept, or past the idle time
	}
	go func() {
		res, err := m.a.Export(m.ctx, folder.Name, file.Name, out, app.ExportOptions{Overwrite: replace})
		if errors.Is(err, fs.ErrExist) && !replace {
			m.do(func() {
				dialog.ShowConfirm("Replace "+filepath.Base(out)+"?", out+" exists. Replace it with the copy?", func(yes bool) {
					if yes {
						m.export(folder, file, out, true)
					}
				}, m.u.win)
			})
			return
		}
		if err != nil {
			m.refused(fmt.Errorf("save a copy: %w", err))
			return
		}
		m.setStatus(fmt.Sprintf("Saved %s version %d to %s (trace code %s%s).", display.Name(file.Name), res.Version.Seq, out, res.TraceCode, res.StampNote()))
	}()
}

// defaultSaveDir is the user's Documents folder, or home, or the working
// directory.
func defaultSaveDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		if wd, err := os.Getwd(); err == nil {
			return wd
		}
		return "."
	}
	if docs := filepath.Join(home, "Documents"); isDir(docs) {
		return docs
	}
	return home
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
