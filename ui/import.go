package ui

import (
	"context"
	"fmt"
	"github.com/dustin/go-humanize/english"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/inbox"
	"github.com/coffer-vault/coffer/internal/display"
)

// importFiles imports local files into the selected folder off the UI
// goroutine, with progress in the status bar, then refreshes the file list.
func (m *mainView) importFiles(paths []string) {
	if !m.u.touch() {
		return
	}
	if m.folder == nil {
		m.u.status.SetText("Select the folder to import into first.")
		return
	}
	folder := *m.folder
	m.u.progress.SetValue(0)
	m.u.progress.Show()
	go func() {
		failed := 0
		for i, p := range paths {
			base := float64(i) / float64(len(paths))
			_, err := m.a.ImportFile(m.ctx, folder.Name, p, func(done, total int64) {
				if total > 0 {
					v := base + float64(done)/float64(total)/float64(len(paths))
					m.do(func() { m.u.progress.SetValue(v) })
				}
			})
			if err != nil {
				failed++
				m.setStatus(fmt.Sprintf("Import of %s failed: %s", display.Name(filepath.Base(p)), message(err)))
			}
		}
		m.do(func() {
			m.u.progress.Hide()
			if failed == 0 {
				m.u.status.SetText(fmt.Sprintf("Imported %s into %s.", english.Plural(len(paths), "file", ""), display.Name(folder.Name)))
			}
			m.reloadFiles(folder, false)
		})
	}()
}

// askImport opens the file dialog.
func (m *mainView) askImport() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		m.importFiles([]string{path})
	}, m.u.win)
	d.Show()
}

// dropped imports files dragged onto the window.
func (m *mainView) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) > 0 {
		m.importFiles(paths)
	}
}

// watchInbox imports what lands in dir/<Folder>/ into a and reports each
// file, until ctx (the session) ends.
func (u *UI) watchInbox(ctx context.Context, a *app.App, dir string) {
	w, err := inbox.New(dir, 2*time.Second, func(ctx context.Context, folder, name string, f *os.File, info fs.FileInfo) error {
		u.setStatus(fmt.Sprintf("Inbox: importing %s into %s…", display.Name(name), display.Name(folder)))
		u.do(func() {
			u.progress.SetValue(0)
			u.progress.Show()
		})
		defer u.do(u.progress.Hide)
		_, err := a.ImportOpened(ctx, folder, name, f, info, func(done, total int64) {
			if total > 0 {
				u.do(func() { u.progress.SetValue(float64(done) / float64(total)) })
			}
		})
		return err
	})
	if err != nil {
		u.setStatus(message(err))
		return
	}
	go func() { _ = w.Run(ctx) }()
	go func() {
		for e := range w.Events() {
			if e.Err != nil {
				u.setStatus(fmt.Sprintf("Inbox: %s: %s", display.Name(filepath.Base(e.Path)), message(e.Err)))
				continue
			}
			u.setStatus(fmt.Sprintf("Inbox: imported %s into %s.", display.Name(filepath.Base(e.Path)), display.Name(e.Folder)))
			u.do(func() {
				if m := u.main; m != nil && m.folder != nil && m.folder.Name == e.Folder {
					m.reloadFiles(*m.folder, false)
				}
			})
		}
	}()
}
