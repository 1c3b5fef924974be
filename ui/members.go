package ui

import (
	"cmp"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// The members of a folder as the org log says: its owner, editors, viewers
// and guests (with the end of their grant). Whoever may share the folder
// changes roles and takes people off it here; either gives the folder a
// new key.

// memberGroups orders the roles, with their headings.
var memberGroups = []struct{ role, heading string }{
	{"owner", "Owner"},
	{"editor", "Editors"},
	{"viewer", "Viewers"},
	{"guest", "Guests (granted by the organisation's admin)"},
}

// showMembers opens the members of the folder selected.
func (m *mainView) showMembers() {
	if !m.u.touch() {
		return
	}
	switch {
	case !m.a.Enrolled():
		m.u.status.SetText("This vault is not enrolled in an organisation: its folders have no other members.")
		return
	case !offers(m.a, people):
		m.u.status.SetText("Guests do not see the organisation's directory.")
		return
	case m.folder == nil:
		m.u.status.SetText("Select a folder to see its members.")
		return
	}
	v := &membersView{m: m, f: *m.folder, rows: container.NewVBox(), head: widget.NewLabel("Loading the members…"),
		err: widget.NewLabel("")}
	v.build()
	v.load()
}

// membersView is the members dialog of one folder.
type membersView struct {
	m     *mainView
	f     vault.Folder
	rows  *fyne.Container
	head  *widget.Label
	err   *widget.Label
	busy  bool // a change is under way: one at a time
	d     *dialog.CustomDialog
	share *widget.Button
}

func (v *membersView) build() {
	m := v.m
	v.head.Wrapping, v.err.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord
	v.err.Importance = widget.DangerImportance
	v.share = widget.NewButtonWithIcon("Share…", theme.MailSendIcon(), func() {
		if f, ok := m.folderToShare(); ok && f.ID == v.f.ID {
			m.shareDialog(f, v.load)
		}
	})
	v.share.Hidden = !m.a.Access(v.f).MayShare
	closeButton := widget.NewButton("Close", func() { v.d.Hide() })
	content := container.NewBorder(v.head, v.err, nil, nil, container.NewVScroll(v.rows))
	v.d = dialog.NewCustomWithoutButtons("Members of "+display.Name(v.f.Name), content, m.u.win)
	v.d.SetButtons([]fyne.CanvasObject{v.share, closeButton})
	v.d.Resize(fyne.NewSize(900, 600))
	v.d.Show()
}

// load reads the members off the UI goroutine (the log is synced first,
// so the list is the server's latest) and lists them.
func (v *membersView) load() {
	m := v.m
	go func() {
		var ms []client.Member
		err := m.u.withoutSync(m.ctx, m.a, func() (err error) {
			_, ms, err = m.a.Members(m.ctx, v.f.Name)
			return err
		})
		m.do(func() {
			if err != nil {
				v.head.SetText("")
				v.err.SetText(sentence(message(err)))
				return
			}
			v.list(ms)
		})
	}()
}

func (v *membersView) list(ms []client.Member) {
	access := v.m.a.Access(v.f)
	me := v.m.a.Vault().Owner().Email
	rank := func(role string) int {
		return slices.IndexFunc(memberGroups, func(g struct{ role, heading string }) bool { return g.role == role })
	}
	slices.SortFunc(ms, func(a, b client.Member) int {
		return cmp.Or(cmp.Compare(rank(a.Role), rank(b.Role)), cmp.Compare(a.Email, b.Email))
	})
	what := "You can see who reads it; its owner or a manager among its members changes that."
	if access.MayShare {
		what = "Changing a role or removing someone gives the folder a new key for what is written from now on."
	}
	v.head.SetText(fmt.Sprintf("%d people read %s (%s). %s", len(ms), display.Name(v.f.Name), v.f.Class, what))
	v.rows.RemoveAll()
	for _, g := range memberGroups {
		n := 0
		for _, p := range ms {
			if p.Role != g.role {
				continue
			}
			if n == 0 {
				v.rows.Add(widget.NewLabelWithStyle(g.heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			}
			n++
			v.rows.Add(v.row(p, access.MayShare && p.Email != me))
		}
	}
	v.rows.Refresh()
}

// row is one member: name, e-mail, role (a guest's with its end), and
// for whoever may share the folder, the changes their role allows.
func (v *membersView) row(p client.Member, mayChange bool) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(display.Name(personName(p)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	mail := widget.NewLabel(display.Name(p.Email))
	mail.Truncation = fyne.TextTruncateEllipsis
	role := p.Role
	if p.Role == "guest" && !p.Expires.IsZero() {
		role = "guest until " + utcTime(p.Expires)
	}
	var actions []fyne.CanvasObject
	if mayChange && (p.Role == "viewer" || p.Role == "editor") {
		other := map[string]string{"viewer": "editor", "editor": "viewer"}[p.Role]
		change := widget.NewButton("Make "+other, func() { v.confirmRole(p, other) })
		remove := widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() { v.confirmRemove(p) })
		remove.Importance = widget.DangerImportance
		actions = append(actions, change, remove)
	}
	return container.NewHBox(widget.NewIcon(theme.AccountIcon()), fixed(200, name), fixed(210, mail), fixed(210, widget.NewLabel(role)),
		layout.NewSpacer(), container.NewHBox(actions...))
}

// confirmRole asks before changing a member's role: the folder's key
// rotates.
func (v *membersView) confirmRole(p client.Member, role string) {
	who := display.Name(personName(p))
	what := "They will also add and restore versions."
	if role == "viewer" {
		what = "They will read the folder but no longer change it."
	}
	msg := fmt.Sprintf("Make %s (%s) a %s of %s? %s\n\nThe folder's key rotates: a new key, wrapped to everyone who reads it, "+
		"encrypts whatever is written from now on.", who, display.Name(p.Email), role, display.Name(v.f.Name), what)
	dialog.ShowCustomConfirm("Change "+who+"'s role?", "Make "+role, "Cancel", wrapped(msg), func(ok bool) {
		if ok {
			v.change(fmt.Sprintf("%s is now a %s of %s; the folder's key rotated.", who, role, display.Name(v.f.Name)),
				func() error { return v.m.a.Share(v.m.ctx, v.f.Name, p.Email, role) })
		}
	}, v.m.u.win)
}

// confirmRemove asks before taking a member off the folder, saying what
// rotating the key does and does not do.
func (v *membersView) confirmRemove(p client.Member) {
	who := display.Name(personName(p))
	msg := fmt.Sprintf("Take %s (%s) off %s? The server stops serving them the folder at once, and their devices "+
		"delete it at their next sync.\n\nThe folder's key rotates: whatever is written from now on is encrypted to a new key "+
		"they never get. What they already opened or downloaded cannot be taken back.", who, display.Name(p.Email), display.Name(v.f.Name))
	d := dialog.NewCustomConfirm("Remove "+who+"?", "Remove and rotate the key", "Cancel", wrapped(msg), func(ok bool) {
		if ok {
			v.change(fmt.Sprintf("%s was taken off %s; the folder's key rotated.", who, display.Name(v.f.Name)),
				func() error { return v.m.a.Unshare(v.m.ctx, v.f.Name, p.Email) })
		}
	}, v.m.u.win)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

// change runs a role change or removal off the UI goroutine and lists the
// members again.
func (v *membersView) change(done string, do func() error) {
	if v.busy || !v.m.u.touch() {
		return
	}
	v.busy = true
	v.err.SetText("")
	v.head.SetText("Signing the change and rotating the folder's key…")
	m := v.m
	go func() {
		err := m.u.withoutSync(m.ctx, m.a, do)
		m.do(func() {
			v.busy = false
			if err != nil {
				v.err.SetText(sentence(message(err)))
			} else {
				m.u.status.SetText(done)
			}
			v.load()
		})
	}()
}

// wrapped is a label of several sentences for a dialog.
func wrapped(s string) fyne.CanvasObject {
	l := widget.NewLabel(s) // names in it are made safe to show by the caller
	l.Wrapping = fyne.TextWrapWord
	return container.NewGridWrap(fyne.NewSize(480, 170), l)
}

// fixed gives o a fixed width, so that the columns of rows line up.
func fixed(width float32, o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(width, o.MinSize().Height), o)
}
