package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/coffer-vault/coffer/internal/passphrase"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Joining an organisation and syncing with its server
// (docs/sync-protocol.md): the faces (CLI, window) go through these, so the
// same passphrase rules and audit records apply.

// ErrNotEnrolled is returned by sync use cases on a standalone vault.
var ErrNotEnrolled = errors.New("this vault is not enrolled in an organisation: join one with 'coffer enroll'")

// Enroll joins an organisation as the first device of the invite's user,
// making the vault in en.Dir. If the user has an enrolled device already it
// returns client.ErrPairingNeeded: pair this device with RequestPairing.
func Enroll(ctx context.Context, en client.Enrollment) (*App, error) {
	if !vault.Exists(en.Dir) {
		if err := CheckName(en.Name); err != nil {
			return nil, fmt.Errorf("%w; nothing was created", err)
		}
		if err := passphrase.Check(en.Passphrase, en.Name, ""); err != nil {
			return nil, fmt.Errorf("%w; nothing was created", err)
		}
	}
	v, err := client.Enroll(ctx, en)
	if err != nil {
		return nil, err
	}
	return start(ctx, v, "")
}

// RequestPairing asks, with an invite of an enrolled user, to add this
// device; show the returned code and call Wait.
func RequestPairing(ctx context.Context, invite, deviceName string) (*Pairing, error) {
	p, err := client.RequestPairing(ctx, invite, deviceName)
	if err != nil {
		return nil, err
	}
	return &Pairing{p: p}, nil
}

// Pairing is a device waiting for approval.
type Pairing struct{ p *client.Pairing }

// Code is what the user types on an existing device.
func (p *Pairing) Code() string { return p.p.Code }

// Wait waits for the approval and makes the vault in dir with passphrase.
func (p *Pairing) Wait(ctx context.Context, dir, pass string) (*App, error) {
	if err := passphrase.Check(pass, "", ""); err != nil {
		return nil, fmt.Errorf("%w; nothing was created", err)
	}
	v, err := p.p.Wait(ctx, dir, pass)
	if err != nil {
		return nil, err
	}
	return start(ctx, v, "")
}

// Enrolled reports whether the vault belongs to an organisation.
func (a *App) Enrolled() bool { return a.v.Org() != nil }

// syncer returns the App's connection to its server, made on first use.
func (a *App) syncer() (*client.Syncer, error) {
	if !a.Enrolled() {
		return nil, ErrNotEnrolled
	}
	if a.wiped.Load() {
		return nil, vault.Wiped(a.v.Dir())
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.sync == nil {
		s, err := client.NewSyncer(a.v)
		if err != nil {
			return nil, err
		}
		a.sync = s
	}
	return a.sync, nil
}

// Sync pushes what the server lacks and pulls what other devices wrote.
func (a *App) Sync(ctx context.Context) (client.Stats, error) {
	s, err := a.syncer()
	if err != nil {
		return client.Stats{}, err
	}
	st, err := s.Sync(ctx)
	return st, a.afterSync(ctx, err)
}

// afterSync puts in force what the log brought (a new policy) and tells
// of folders destroyed here because the log no longer lets this user read
// them.
func (a *App) afterSync(ctx context.Context, err error) error {
	if a.wiped.Load() {
		return vault.Wiped(a.v.Dir())
	}
	var wo *client.WipeOrderedError
	if errors.As(err, &wo) {
		return a.executeWipe(ctx, wo.Order)
	}
	if err != nil {
		// Offline, revoked, refused for the clock (moved while
		// unlocked), or the server failing: the lease runs in a session
		// left unlocked as at unlock — past it the session ends, past the
		// deadline the vault is destroyed (checkLease: not when the
		// server refuses the clock).
		if lerr := a.checkLease(ctx); lerr != nil {
			if errors.Is(lerr, vault.ErrWiped) {
				a.wiped.Store(true)
			}
			return lerr
		}
	}
	if perr := a.loadOrgPolicy(ctx); perr != nil {
		return perr
	}
	if s := a.currentSyncer(); s != nil {
		for _, f := range s.Dropped() {
			a.syncMu.Lock()
			a.notices = append(a.notices, f.Message())
			a.syncMu.Unlock()
		}
	}
	if client.IsCode(err, wire.CodeGrantEnded) {
		return fmt.Errorf("%w: %v", ErrGrantEnded, err)
	}
	return err
}

// ErrGrantEnded is wrapped when a guest's access has ended.
var ErrGrantEnded = errors.New("guest access ended")

// Notices returns and forgets what syncing did that the user should know
// (a folder removed from this device).
func (a *App) Notices() []string {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	n := a.notices
	a.notices = nil
	return n
}

func (a *App) currentSyncer() *client.Syncer {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	return a.sync
}

// WatchSync keeps the vault in sync until ctx ends, calling report after
// each round (what moved, or why it failed: offline, a refusal).
func (a *App) WatchSync(ctx context.Context, report func(client.Stats, error)) error {
	s, err := a.syncer()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wiped error
	err = s.Watch(ctx, func(st client.Stats, err error) {
		err = a.afterSync(ctx, err)
		if errors.Is(err, vault.ErrWiped) {
			wiped = err
			cancel() // nothing is left to sync
		}
		if report != nil {
			report(st, err)
		}
	})
	if wiped != nil {
		return wiped
	}
	return err
}

// KickSync asks a running WatchSync to push a local change now.
func (a *App) KickSync() {
	a.syncMu.Lock()
	s := a.sync
	a.syncMu.Unlock()
	if s != nil {
		s.Kick()
	}
}

// ApproveDevice approves the pairing request shown with code on a new
// device of this vault's user, and returns the request it approved.
func (a *App) ApproveDevice(ctx context.Context, code string) (PendingDevice, error) {
	s, err := a.syncer()
	if err != nil {
		return PendingDevice{}, err
	}
	p, err := client.Approve(ctx, s, code)
	return PendingDevice(p), err
}

// closeSync closes the server connection.
func (a *App) closeSync() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.sync != nil {
		a.sync.Close()
		a.sync = nil
	}
}

// PendingDevice is a further device of this vault's user waiting to be
// approved.
type PendingDevice struct {
	Name string
	Code string // the code the new device shows: approve only if they match
	// From, OS and Asked are where and when the request reached the
	// server, in the server's word ("" and zero if it does not say): the
	// IP address, the system the new device's client names, the time.
	From  string
	OS    string
	Asked time.Time
}

// Origin says where and when the request came from, in words for the user
// who approves ("asked from 203.0.113.5 (linux/amd64) at 14:02 UTC (3
// minutes ago)"), or "" if the server did not say.
func (p PendingDevice) Origin() string {
	if p.From == "" {
		return ""
	}
	s := "asked from " + p.From
	if p.OS != "" {
		s += " (" + p.OS + ")"
	}
	if !p.Asked.IsZero() {
		s += " at " + p.Asked.UTC().Format("15:04 UTC") + " (" + humanize.Time(p.Asked) + ")"
	}
	return s
}

// PendingDevices lists the devices of this vault's user waiting for
// approval, with the code each shows.
func (a *App) PendingDevices(ctx context.Context) ([]PendingDevice, error) {
	s, err := a.syncer()
	if err != nil {
		return nil, err
	}
	ps, err := client.Pending(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]PendingDevice, len(ps))
	for i, p := range ps {
		out[i] = PendingDevice(p)
	}
	return out, nil
}

// PendingUploads counts the versions this device made that the server has
// not acknowledged yet.
func (a *App) PendingUploads(ctx context.Context) (int, error) {
	out, err := a.v.Outgoing(ctx)
	n := 0
	for _, o := range out {
		if o.Kind == object.KindManifest {
			n++
		}
	}
	return n, err
}
