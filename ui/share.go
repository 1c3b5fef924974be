package ui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// Sharing a folder with a person of the organisation (docs/sync-protocol.md,
// "Folders, sharing and guests"): the people come from the directory the
// org log certifies, never from a name typed in; app signs the share and
// wraps the folder's key to them.

// Folder roles offered when sharing, with what they let a person do.
var shareRoles = []struct{ role, label string }{
	{"viewer", "Viewer — reads and previews"},
	{"editor", "Editor — also adds and restores versions"},
}

// askShare opens the share dialog for the folder selected.
func (m *mainView) askShare() {
	if !m.u.touch() {
		return
	}
	f, ok := m.folderToShare()
	if !ok {
		return
	}
	m.shareDialog(f, nil)
}

// folderToShare returns the folder selected if the user may share it, and
// otherwise says why in the status bar.
func (m *mainView) folderToShare() (vault.Folder, bool) {
	switch {
	case !m.a.Enrolled():
		m.u.status.SetText("This vault is not enrolled in an organisation: there is nobody to share with.")
	case !offers(m.a, people):
		m.u.status.SetText("Guests cannot share folders.")
	case m.folder == nil:
		m.u.status.SetText("Select a folder to share first.")
	case !m.a.Access(*m.folder).MayShare:
		m.u.status.SetText(fmt.Sprintf("You cannot share %s: only its owner, or a manager among its members, shares a folder.", display.Name(m.folder.Name)))
	default:
		return *m.folder, true
	}
	return vault.Folder{}, false
}

// shareDialog lets the user pick a person from the directory and a role,
// and shares f with them; done (if set) runs after a share.
func (m *mainView) shareDialog(f vault.Folder, done func()) {
	dir, err := m.a.Directory()
	if err != nil {
		m.u.status.SetText(message(err))
		return
	}
	me := m.a.Vault().Owner().Email
	var everyone []client.Member
	for _, p := range dir {
		if p.Email != me {
			everyone = append(everyone, p)
		}
	}
	s := &shareView{m: m, f: f, everyone: everyone, shown: everyone, current: map[string]string{}, picked: -1}
	s.build(done)
	go s.loadMembers()
}

// shareView is the share dialog's state.
type shareView struct {
	m        *mainView
	f        vault.Folder
	everyone []client.Member   // the directory, without the user
	shown    []client.Member   // matching the search
	current  map[string]string // e-mail → role in the folder now
	picked   int               // index in shown, -1 for none
	search   *widget.Entry
	list     *widget.List
	role     *widget.RadioGroup
	share    *widget.Button
	busy     *widget.ProgressBarInfinite
	hint     *widget.Label // what sharing with the person picked does
	err      *widget.Label // why the last share failed
	d        *dialog.CustomDialog
}

func (s *shareView) build(done func()) {
	m := s.m
	intro := widget.NewLabel(fmt.Sprintf("Share %s (%s) with a person of the organisation. Their devices get the folder's key "+
		"at their next sync; the share is signed into the organisation's log and recorded in the audit trail.", display.Name(s.f.Name), s.f.Class))
	intro.Wrapping = fyne.TextWrapWord
	s.search = widget.NewEntry()
	s.search.SetPlaceHolder("Search people by name or e-mail")
	s.search.OnChanged = func(string) { s.filter() }
	s.search.OnSubmitted = func(string) {
		if len(s.shown) == 1 {
			s.list.Select(0)
		}
	}
	s.list = widget.NewList(func() int { return len(s.shown) }, func() fyne.CanvasObject {
		name := widget.NewLabelWithStyle("Name", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		name.Truncation = fyne.TextTruncateEllipsis
		mail := widget.NewLabel("e-mail")
		mail.Truncation = fyne.TextTruncateEllipsis
		now := widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
		return container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), container.NewGridWrap(fyne.NewSize(120, now.MinSize().Height), now),
			container.NewGridWithColumns(2, name, mail))
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		p := s.shown[i]
		row := o.(*fyne.Container)
		cols := row.Objects[0].(*fyne.Container)
		cols.Objects[0].(*widget.Label).SetText(display.Name(personName(p)))
		cols.Objects[1].(*widget.Label).SetText(display.Name(p.Email))
		now := ""
		if r := s.current[p.Email]; r != "" {
			now = r + " now"
		}
		row.Objects[2].(*fyne.Container).Objects[0].(*widget.Label).SetText(now)
	})
	s.list.OnSelected = func(i widget.ListItemID) {
		s.picked = i
		showText(s.err, "")
		// A member's role as it is; anyone else starts as a viewer, the
		// narrower role, whatever was picked for the last person.
		r := s.current[s.shown[i].Email]
		if r != "editor" {
			r = "viewer"
		}
		s.role.SetSelected(roleLabel(r))
		s.check()
	}
	s.list.OnUnselected = func(widget.ListItemID) { s.picked = -1; s.check() }
	labels := make([]string, len(shareRoles))
	for i, r := range shareRoles {
		labels[i] = r.label
	}
	s.role = widget.NewRadioGroup(labels, nil)
	s.role.Horizontal = true
	s.role.Required = true
	s.role.SetSelected(labels[0]) // the narrower role by default
	s.role.OnChanged = func(string) { s.check() }
	s.hint, s.err = widget.NewLabel(""), widget.NewLabel("")
	s.hint.Wrapping, s.err.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord
	s.err.Importance = widget.DangerImportance
	s.hint.Hide()
	s.err.Hide()
	s.busy = widget.NewProgressBarInfinite()
	s.busy.Stop()
	s.busy.Hide()
	s.share = widget.NewButtonWithIcon("Share", theme.MailSendIcon(), func() { s.submit(done) })
	s.share.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { s.d.Hide() })
	top := container.NewVBox(intro, s.search)
	bottom := container.NewVBox(container.NewHBox(widget.NewLabel("Role"), s.role), s.hint, s.busy, s.err)
	if len(s.everyone) == 0 {
		showText(s.err, "Nobody else is in the organisation's directory yet: ask your admin to invite them.")
	}
	s.d = dialog.NewCustomWithoutButtons("Share "+display.Name(s.f.Name), container.NewBorder(top, bottom, nil, nil, s.list), m.u.win)
	s.d.SetButtons([]fyne.CanvasObject{cancel, s.share})
	s.d.Resize(fyne.NewSize(720, 560))
	s.check()
	s.d.Show()
	m.u.win.Canvas().Focus(s.search)
}

// loadMembers marks who reads the folder now, so that picking them
// changes their role rather than surprising the user.
func (s *shareView) loadMembers() {
	var ms []client.Member
	err := s.m.u.withoutSync(s.m.ctx, s.m.a, func() (err error) {
		_, ms, err = s.m.a.Members(s.m.ctx, s.f.Name)
		return err
	})
	if err != nil {
		return // the share itself says what is wrong
	}
	s.m.do(func() {
		for _, p := range ms {
			s.current[p.Email] = p.Role
		}
		s.list.Refresh()
	})
}

// filter shows the people whose name or e-mail holds every word searched.
func (s *shareView) filter() {
	words := strings.Fields(strings.ToLower(s.search.Text))
	s.shown = nil
	for _, p := range s.everyone {
		hay := strings.ToLower(p.Name + " " + p.Email)
		keep := true
		for _, w := range words {
			keep = keep && strings.Contains(hay, w)
		}
		if keep {
			s.shown = append(s.shown, p)
		}
	}
	s.picked = -1
	s.list.UnselectAll()
	s.list.Refresh()
	s.check()
}

// check enables Share when a person and a role are picked, and says what
// sharing with them will do, or why it cannot.
func (s *shareView) check() {
	hint, label := "", "Share"
	ok := s.picked >= 0 && s.picked < len(s.shown) && s.role.Selected != ""
	if ok {
		p, want := s.shown[s.picked], pickedRole(s.role.Selected)
		switch r := s.current[p.Email]; r {
		case "":
		case "owner":
			ok, hint = false, personName(p)+" owns this folder."
		case "guest":
			ok, hint = false, personName(p)+" reads this folder as a guest: guests get folders from the admin."
		case want:
			ok, hint = false, fmt.Sprintf("%s is a %s of this folder already.", personName(p), r)
		default:
			label = "Make " + want
			hint = fmt.Sprintf("%s is a %s now. Changing a role gives the folder a new key, wrapped to everyone who still reads it.", personName(p), r)
		}
	}
	showText(s.hint, display.Text(hint))
	s.share.SetText(label)
	setDisabled(s.share, !ok || s.busy.Visible())
}

// submit shares the folder off the UI goroutine; the dialog stays open
// with the reason if the share fails.
func (s *shareView) submit(done func()) {
	if s.picked < 0 || s.picked >= len(s.shown) || s.busy.Visible() || !s.m.u.touch() {
		return
	}
	m, p, role := s.m, s.shown[s.picked], pickedRole(s.role.Selected)
	s.busy.Show()
	s.busy.Start()
	s.share.Disable()
	showText(s.err, "")
	go func() {
		err := m.u.withoutSync(m.ctx, m.a, func() error { return m.a.Share(m.ctx, s.f.Name, p.Email, role) })
		m.do(func() {
			s.busy.Stop()
			s.busy.Hide()
			if err != nil {
				showText(s.err, sentence(message(err)))
				s.check()
				return
			}
			s.d.Hide()
			m.u.status.SetText(display.Text(fmt.Sprintf("Shared %s with %s <%s> as %s: their devices get it at their next sync.",
				s.f.Name, personName(p), p.Email, role)))
			if done != nil {
				done()
			}
		})
	}()
}

// personName is a person's name, or their e-mail if the log has none.
func personName(p client.Member) string {
	if strings.TrimSpace(p.Name) == "" {
		return p.Email
	}
	return p.Name
}

func roleLabel(role string) string {
	for _, r := range shareRoles {
		if r.role == role {
			return r.label
		}
	}
	return ""
}

func pickedRole(label string) string {
	for _, r := range shareRoles {
		if r.label == label {
			return r.role
		}
	}
	return ""
}

// sentence starts an error message with a capital letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// showText sets a label's text and shows it only when there is some, so
// that an empty message takes no room.
func showText(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}
