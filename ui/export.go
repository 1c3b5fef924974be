package ui

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/vault"
)

// askExport asks where to save a plaintext copy and has app write it: app
// decides again, stamps what the class requires and records the export.
func (m *mainView) askExport(folder vault.Folder, file vault.FileInfo) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		out := w.URI().Path()
		// The dialog created an empty file; app writes beside it and
		// renames over it, so a failed export leaves nothing half-written.
		_ = w.Close()
		go func() {
			res, err := m.u.a.Export(m.u.ctx, folder.Name, file.Name, out, app.ExportOptions{Overwrite: true})
			if err != nil {
				if st, serr := os.Stat(out); serr == nil && st.Size() == 0 {
					_ = os.Remove(out) // the dialog's empty file
				}
				m.u.setStatus("Save a copy: " + message(err))
				return
			}
			note := ""
			if res.Stamped {
				note = ", stamped with it on every page"
			}
			m.u.setStatus(fmt.Sprintf("Saved %s version %d to %s (trace code %s%s).", file.Name, res.Version.Seq, out, res.TraceCode, note))
		}()
	}, m.u.win)
	d.SetFileName(file.Name)
	d.Show()
}
