package ui

import (
	"errors"
	"image/color"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
)

// notice is the banner over the page that says why something the user
// asked for was refused or failed: where the eye is, without a dialog to
// dismiss, and without taking the status bar's trace code away. Its text
// wraps and is cut to a few lines, so no message can widen or lengthen the
// window.
type notice struct {
	box   *fyne.Container
	back  *canvas.Rectangle
	icon  *widget.Icon
	label *widget.Label
}

// noticeRunes is the most of a message the banner shows: three lines of
// the narrowest preview pane.
const noticeRunes = 280

func newNotice() *notice {
	n := &notice{back: canvas.NewRectangle(refusedColor), icon: widget.NewIcon(theme.ErrorIcon()), label: widget.NewLabel("")}
	n.back.CornerRadius = 4
	n.label.Wrapping = fyne.TextWrapWord
	n.label.TextStyle.Bold = true
	closeButton := widget.NewButtonWithIcon("", theme.CancelIcon(), n.hide)
	closeButton.Importance = widget.LowImportance
	n.box = container.NewStack(n.back, container.NewBorder(nil, nil, container.NewCenter(n.icon), container.NewCenter(closeButton), n.label))
	n.box.Hide()
	return n
}

// refusedColor and failedColor tint the banner: a refusal by policy, or a
// failure (no application to open a copy, a full disk).
var (
	refusedColor = color.NRGBA{R: 229, G: 57, B: 53, A: 90}
	failedColor  = color.NRGBA{R: 245, G: 124, B: 0, A: 90}
)

// show puts err up in the banner, in words.
func (n *notice) show(err error) {
	tint, icon := failedColor, theme.WarningIcon()
	if errors.Is(err, app.ErrBlocked) {
		tint, icon = refusedColor, theme.ErrorIcon()
	}
	n.back.FillColor = tint
	n.back.Refresh()
	n.icon.SetResource(icon)
	n.label.SetText(clip(message(err), noticeRunes))
	n.box.Show()
}

func (n *notice) hide() { n.box.Hide() }

// text is what the banner says, or "" while it is hidden.
func (n *notice) text() string {
	if !n.box.Visible() {
		return ""
	}
	return n.label.Text
}

// clip cuts s to at most limit runes at a space, with an ellipsis.
func clip(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	cut := string(r[:limit])
	if i := strings.LastIndexByte(cut, ' '); i > limit/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// Notice returns what the banner over the page says, or "" while none is
// shown (tests).
func (u *UI) Notice() string {
	if u.main == nil {
		return ""
	}
	return u.main.notice.text()
}

// launch opens path in the default application: Fyne's OpenURL, which on
// Linux starts xdg-open, unless Options.Launch replaces it.
func (u *UI) launch(path string) error {
	if u.launcher != nil {
		return u.launcher(path)
	}
	uri, err := url.Parse(storage.NewFileURI(path).String())
	if err != nil {
		return err
	}
	return u.fapp.OpenURL(uri)
}

// said is an error put in the window's own words: a sentence for the
// banner, which still matches what it wraps (errors.Is).
type said struct {
	err  error
	text string
}

func (e *said) Error() string { return e.text }
func (e *said) Unwrap() error { return e.err }
