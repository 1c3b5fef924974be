package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/version"
)

// showAbout shows which source this Coffer was built from (what
// coffer --version prints) and what previews Office documents: the
// LibreOffice found, with its version and place, and how conversions are
// sandboxed — or that LibreOffice must be installed.
func (m *mainView) showAbout() {
	build := widget.NewLabel(versionText(version.Get()))
	build.Wrapping = fyne.TextWrapWord
	build.Selectable = true // a reviewer copies the commit to rebuild it
	office := widget.NewLabel("Office previews: looking for LibreOffice…")
	office.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(
		widget.NewLabelWithStyle("Coffer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		build,
		office,
		widget.NewLabel("Fonts: Go (BSD), DejaVu, Droid Sans Fallback, NanumGothic, Noto Color Emoji, Carlito (OFL)."),
	)
	d := dialog.NewCustom("About Coffer", "Close", content, m.u.win)
	d.Resize(fyne.NewSize(560, 320))
	d.Show()
	go func() {
		text := officeText(app.Office(m.ctx))
		m.do(func() { office.SetText(text) })
	}()
}

// versionText is the About box's account of the build: the version, the
// whole commit and its time, and the Go toolchain.
func versionText(i version.Info) string {
	v := i.Version
	if v == "devel" {
		v = "development build"
	}
	return fmt.Sprintf("Version %s\nCommit %s\nCommitted %s, built with %s", v, i.Commit, i.Date, i.Go)
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
