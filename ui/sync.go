package ui

import (
	"context"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize/english"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/vault"
)

// watchSync keeps an enrolled vault in sync for the session and says how
// it stands in the status bar: synced, n versions to upload, offline, or an
// error with its reason. Versions that arrive refresh the file list.
func (u *UI) watchSync(ctx context.Context, a *app.App) {
	u.setSync("Sync: connecting…")
	err := a.WatchSync(ctx, func(st client.Stats, err error) {
		if errors.Is(err, vault.ErrWiped) {
			// The organisation wiped this device: app closed the vault;
			// the document on screen goes at once.
			u.do(func() { u.wipedWhileUnlocked(a, err.Error()) })
			return
		}
		if ctx.Err() != nil {
			return
		}
		var lease *app.LeaseError
		if errors.As(err, &lease) {
			// Offline past the lease in an unlocked session: it ends.
			u.do(func() { u.lock("this device has been offline longer than the organisation's policy allows") })
			return
		}
		pending, _ := a.PendingUploads(ctx)
		var msg string
		switch {
		case errors.Is(err, app.ErrGrantEnded):
			msg = "Sync: your guest access ended"
		case errors.Is(err, client.ErrUnreachable):
			msg = fmt.Sprintf("Offline: the server cannot be reached (%s waiting to upload); retrying", english.Plural(pending, "version", ""))
		case err != nil:
			msg = "Sync error: " + message(err)
		case pending > 0:
			msg = fmt.Sprintf("Sync: %s to upload", english.Plural(pending, "version", ""))
		default:
			msg = "Synced at " + time.Now().UTC().Format("15:04:05") + " UTC"
		}
		if st.Conflicts > 0 {
			msg += fmt.Sprintf(" — %d new conflicts: both edits are kept, the later under a name with \"conflict\"", st.Conflicts)
		}
		u.setSync(msg)
		u.afterSync(ctx, a, st, err)
	})
	switch {
	case errors.Is(err, vault.ErrWiped):
		u.do(func() { u.wipedWhileUnlocked(a, err.Error()) })
	case err != nil && !errors.Is(err, context.Canceled):
		u.setSync("Sync stopped: " + message(err))
	}
}

// background is the session's background sync, which the window stops
// while it makes a change to the organisation's log itself.
type background struct {
	mu      sync.Mutex
	session context.Context // the session it syncs for
	cancel  context.CancelFunc
	done    chan struct{} // closed when it stopped
	change  sync.Mutex    // one change at a time
}

// startSync keeps a in sync in the background for the session.
func (u *UI) startSync(session context.Context, a *app.App) {
	ctx, cancel := context.WithCancel(session)
	done := make(chan struct{})
	u.bg.mu.Lock()
	u.bg.session, u.bg.cancel, u.bg.done = session, cancel, done
	u.bg.mu.Unlock()
	go func() {
		defer close(done)
		u.watchSync(ctx, a)
	}()
}

// withoutSync runs f, off the UI goroutine, with the background sync
// stopped, and starts it again after (if the session goes on). Sharing,
// unsharing and listing members each bring the organisation's log up to
// date, as every sync round does, and the sync client does not serialise
// two of those: run at once, the second fails as if the server's log could
// not be trusted (and a change's key rotation would not run).
func (u *UI) withoutSync(session context.Context, a *app.App, f func() error) error {
	u.bg.change.Lock()
	defer u.bg.change.Unlock()
	u.bg.mu.Lock()
	var cancel context.CancelFunc
	var done chan struct{}
	if u.bg.session == session {
		cancel, done = u.bg.cancel, u.bg.done
		u.bg.cancel, u.bg.done = nil, nil
	}
	u.bg.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		defer func() {
			if session.Err() == nil {
				u.startSync(session, a)
			}
		}()
	}
	return f()
}

// setSync shows msg in the sync part of the status bar.
func (u *UI) setSync(msg string) {
	u.do(func() { u.syncStatus.SetText(display.Text(msg)) })
}

// askApprove lists this user's devices waiting to join, with the code each
// shows: the user approves only one whose screen shows the same code.
func (m *mainView) askApprove() {
	if !m.a.Enrolled() {
		m.u.status.SetText("This vault is not enrolled in an organisation.")
		return
	}
	m.u.status.SetText("Looking for devices waiting to join…")
	go func() {
		pending, err := m.a.PendingDevices(m.ctx)
		m.do(func() {
			if err != nil {
				m.u.status.SetText(message(err))
				return
			}
			if len(pending) == 0 {
				m.u.status.SetText("No device is waiting: on the new device, run 'coffer enroll' or choose Join your organisation with your invite code.")
				return
			}
			m.u.status.SetText("")
			rows := container.NewVBox(widget.NewLabel("Approve a device only if its screen shows the same code, and you started its pairing yourself."))
			var d dialog.Dialog
			for _, p := range pending {
				code := widget.NewLabelWithStyle(p.Code, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true, Bold: true})
				approve := widget.NewButton("Approve "+display.Text(p.Name), func() {
					d.Hide()
					m.approve(p)
				})
				approve.Importance = widget.HighImportance
				rows.Add(container.NewBorder(nil, nil, widget.NewLabel(display.Text(p.Name)), approve, code))
				if o := p.Origin(); o != "" {
					// The server's word: a request from an address or a
					// time the user does not know is one to refuse.
					rows.Add(widget.NewLabel(display.Text(o)))
				}
			}
			d = dialog.NewCustom("Devices waiting to join", "Close", rows, m.u.win)
			d.Show()
		})
	}()
}

func (m *mainView) approve(p app.PendingDevice) {
	if !m.u.touch() {
		return
	}
	go func() {
		got, err := m.a.ApproveDevice(m.ctx, p.Code)
		if err != nil {
			m.setStatus("Approving " + display.Text(p.Name) + " failed: " + message(err))
			return
		}
		m.setStatus("Approved " + display.Text(got.Name) + ": it receives your keys and syncs your folders. Recorded in the audit trail.")
	}()
}
