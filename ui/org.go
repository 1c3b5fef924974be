package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// The window as the organisation shapes it: what a role is offered, the
// guest's banner and the end of a guest's access, and what syncing changed
// (folders shared with the user, folders taken away).

// utcTime is how the window writes a time the organisation set (a grant's
// end): in UTC, as the server and the audit trail keep it.
func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// newGuestBanner makes the strip across the top of a guest's window.
func newGuestBanner() *fyne.Container {
	bg := canvas.NewRectangle(color.NRGBA{R: 255, G: 193, B: 7, A: 70})
	text := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text.Wrapping = fyne.TextWrapWord
	b := container.NewStack(bg, container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), nil, text))
	b.Hide()
	return b
}

// guestBannerLabel is the banner's text.
func (m *mainView) guestBannerLabel() *widget.Label {
	return m.guestBanner.Objects[1].(*fyne.Container).Objects[0].(*widget.Label)
}

// offerByRole shows the buttons the user's role is offered and, for a
// guest, the banner with the end of their access. The menu follows the
// same rule (installCommands).
func (m *mainView) offerByRole() {
	guest := !offers(m.a, people)
	for _, o := range m.peopleOnly {
		showIf(o, !guest)
	}
	for _, o := range m.trailOnly {
		showIf(o, offers(m.a, trailReaders))
	}
	showIf(m.newFolderButton, offers(m.a, creators))
	showIf(m.folderActionsBox, offers(m.a, sharers))
	showIf(m.orgAuditButton, offers(m.a, auditors))
	if until, ok := m.a.GuestExpiry(); ok && !until.IsZero() {
		text := fmt.Sprintf("Guest access until %s. You see only the folders granted to you; "+
			"pages are watermarked with your name, and nothing can be saved, printed or copied out.", utcTime(until))
		if l := m.guestBannerLabel(); l.Text != text {
			l.SetText(text)
		}
		m.guestBanner.Show()
	} else {
		m.guestBanner.Hide()
	}
	m.folderActions()
}

// folderActions enables Share and Members (buttons and menu) for the
// folder selected: Share only where the user may share it.
func (m *mainView) folderActions() {
	var access app.FolderAccess
	if m.folder != nil {
		access = m.a.Access(*m.folder)
	}
	noShare := m.folder == nil || !access.MayShare
	noMembers := m.folder == nil || !m.a.Enrolled()
	setDisabled(m.shareButton, noShare)
	setDisabled(m.membersButton, noMembers)
	changed := false
	for label, off := range map[string]bool{"Share folder…": noShare, "Folder members…": noMembers} {
		if it := m.u.menuItems[label]; it != nil && it.Disabled != off {
			it.Disabled, changed = off, true
		}
	}
	if mm := m.u.win.MainMenu(); changed && mm != nil {
		mm.Refresh()
	}
}

func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

func setDisabled(b *widget.Button, off bool) {
	if off {
		b.Disable()
	} else {
		b.Enable()
	}
}

// afterSync is what the window makes of a sync round, off the UI
// goroutine: a guest whose access ended sees why; folders taken away are
// named; folders shared with the user appear; a changed role changes the
// menu.
func (u *UI) afterSync(ctx context.Context, a *app.App, st client.Stats, err error) {
	notices := a.Notices()
	ended := errors.Is(err, app.ErrGrantEnded) || a.GuestEnded()
	folders, ferr := a.Folders(ctx)
	u.do(func() {
		m := u.main
		if m == nil || m.a != a {
			return
		}
		switch {
		case ended && (!m.ended || len(notices) > 0):
			m.showEnded(notices, err)
			return
		case ended:
			return
		case m.ended && err == nil:
			u.showMain(a) // a new grant: the folders come back with this sync
			return
		}
		u.reviewCommands(a)
		m.offerByRole() // a grant extended: the banner's date
		if ferr == nil && (st.VersionsDown > 0 || !sameFolders(m.folders, folders)) {
			m.setFolders(folders)
		}
		if len(notices) > 0 {
			m.u.status.SetText(safeJoin(notices, " "))
			dialog.ShowInformation("Folders removed from this device", safeJoin(notices, "\n"), m.u.win)
		}
	})
}

// sameFolders reports whether two folder lists hold the same folders
// under the same names.
func sameFolders(a, b []vault.Folder) bool {
	key := func(fs []vault.Folder) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID.String()+"\x00"+f.Name)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// setFolders lists folders, keeping the folder selected (with its file
// and page) if it is still there and letting go of it if not.
func (m *mainView) setFolders(folders []vault.Folder) {
	slices.SortFunc(folders, func(a, b vault.Folder) int { return strings.Compare(a.Name, b.Name) })
	m.folders = folders
	keep := -1
	if m.folder != nil {
		keep = slices.IndexFunc(folders, func(f vault.Folder) bool { return f.ID == m.folder.ID })
	}
	// The selection moves with the folder without selectFolder, which
	// would clear the page on screen.
	onSelected := m.folderList.OnSelected
	m.folderList.OnSelected = nil
	m.folderList.UnselectAll()
	if keep >= 0 {
		m.folderList.Select(keep)
	}
	m.folderList.OnSelected = onSelected
	m.folderList.Refresh()
	switch {
	case keep >= 0:
		f := m.folders[keep]
		m.folder = &f
		m.reloadFiles(*m.folder, false)
	case m.folder != nil:
		m.folder, m.file = nil, nil
		m.seq++
		m.hidePage()
		m.files.SetFiles(nil)
	}
	m.folderActions()
}

// showEnded replaces the window with why a guest's folders are gone: the
// end of the grant, and the folders destroyed on this device.
func (m *mainView) showEnded(notices []string, err error) {
	if !m.ended {
		m.ended = true
		m.seq++
		m.hidePage()
		m.endedNotices = nil
		m.u.status.SetText("") // it spoke of what is gone
	}
	m.endedNotices = append(m.endedNotices, notices...)
	title := widget.NewLabelWithStyle("Your guest access has ended", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var why string
	if until, ok := m.a.GuestExpiry(); ok && !until.IsZero() {
		why = fmt.Sprintf("Your access to the organisation's folders ended on %s.", utcTime(until))
	} else {
		why = "You have no guest access to the organisation's folders."
	}
	if err != nil && !strings.Contains(err.Error(), "ended") {
		why += " " + message(err)
	}
	lines := []string{why}
	lines = append(lines, m.endedNotices...)
	for _, w := range m.a.Warnings() { // at unlock, the vault names what it destroyed
		if strings.Contains(w, "removed from this device") && !slices.Contains(lines, w) {
			lines = append(lines, w)
		}
	}
	lines = append(lines, "Nothing of the granted folders is left on this device. Ask your contact at the organisation "+
		"to extend your access: the folders come back with the next sync.")
	body := widget.NewLabel(safeJoin(lines, "\n\n"))
	body.Wrapping = fyne.TextWrapWord
	lock := widget.NewButtonWithIcon("Lock", theme.LogoutIcon(), func() { m.u.lock("locked by the user") })
	box := container.NewVBox(container.NewHBox(widget.NewIcon(theme.WarningIcon()), title), body, container.NewHBox(lock))
	m.u.win.SetContent(container.NewBorder(nil, m.u.statusBar(), nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(640, 420), box))))
	item := fyne.NewMenuItem("Lock", func() { m.u.lock("locked by the user") })
	item.Shortcut = ctrl(fyne.KeyL)
	m.u.win.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("File", item)))
	m.u.menuItems = nil
}

// showMain puts a fresh main view of a up: at unlock, and when a guest's
// access comes back.
func (u *UI) showMain(a *app.App) {
	u.main = newMainView(u)
	u.win.SetContent(u.main.content)
	u.installCommands(a)
	u.main.offerByRole()
	u.main.load(nil)
	if a.GuestEnded() {
		u.main.showEnded(nil, nil)
	}
}

// safeJoin joins lines of free text, each made safe to show.
func safeJoin(lines []string, sep string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = display.Text(l)
	}
	return strings.Join(out, sep)
}
