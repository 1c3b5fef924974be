package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
)

// showAbout shows Coffer's version and what previews Office documents:
// the LibreOffice found, with its version and place, and how conversions
// are sandboxed — or that LibreOffice must be installed.
func (m *mainView) showAbout() {
	meta := m.u.fapp.Metadata()
	version := meta.Version
	if version == "" {
		version = "development build"
	}
	office := widget.NewLabel("Office previews: looking for LibreOffice…")
	office.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(
		widget.NewLabelWithStyle("Coffer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Version "+version),
		office,
		widget.NewLabel("Fonts: Go (BSD), DejaVu, Droid Sans Fallback, NanumGothic, Noto Color Emoji, Carlito (OFL)."),
	)
	d := dialog.NewCustom("About Coffer", "Close", content, m.u.win)
	d.Resize(fyne.NewSize(560, 260))
	d.Show()
	go func() {
		text := officeText(app.Office(m.ctx))
		m.do(func() { office.SetText(text) })
	}()
}

// officeText says what previews Office documents, for the About box.
func officeText(st app.OfficeStatus) string {
	switch {
	case st.Product == "":
		return fmt.Sprintf("Office previews: %s (Word, PowerPoint and OpenDocument files are converted by it).", message(st.Err))
	case st.Err != nil:
		return fmt.Sprintf("Office previews: %s, but %s.", st.Product, message(st.Err))
	}
	return fmt.Sprintf("Office previews: %s; conversions run with %s.", st.Product, st.Sandbox)
}
