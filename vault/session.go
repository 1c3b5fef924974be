package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/internal/oskeyring"
	"github.com/coffer-vault/coffer/vault/store"
)

// Sessions.
//
// A session lets the user's later processes on this machine open the vault
// without the passphrase for a while, as ssh-agent does for a key: `coffer
// unlock` once, then any number of commands. It rests on two halves, each
// useless without the other:
//
//   - keys/session.age holds the user secret (what keys/user.age holds),
//     encrypted to a fresh age hybrid identity made for this session;
//   - that identity lives only in the kernel's user keyring (package
//     oskeyring): in memory, readable only by the processes of this
//     user's logins (no other user's), gone at reboot, and removed by the
//     kernel once the session has been idle for its idle time.
//
// So a laptop that is off, or a copy of the vault folder, holds no usable
// session; a session also ends at its deadline (at most MaxSessionLife
// after it began), at EndSession (`coffer lock`) and at a wipe, which
// shreds the file. Opening by a session proves the same keys as the
// passphrase does (checkUser), and everything after (wipe orders, lease,
// checkpoint, organisation) is the same path.
const sessionFile = "keys/session.age"

// MaxSessionLife is the longest a session lasts, however busy: a working
// day. After it, the passphrase is asked again.
const MaxSessionLife = 12 * time.Hour

// ErrNoSession is returned by OpenSession when no session is open for the
// vault (none was started, it timed out or was ended, or this system has
// no keyring): the passphrase is needed.
var ErrNoSession = errors.New("no unlocked session")

// sessionSecret is the content of keys/session.age.
type sessionSecret struct {
	V     int        `json:"v"`
	User  userSecret `json:"user"`
	Idle  int64      `json:"idle_s"` // seconds without an open before the session ends
	Until time.Time  `json:"until"`  // the session ends then at the latest
}

// sessionName is the keyring name of the vault's session identity: one per
// device, so two vaults of one user have separate sessions.
func sessionName(cfg config) string { return "coffer-session:" + cfg.Device.String() }

// StartSession begins a session of idle time idle (1 s to
// MaxSessionLife) that lasts until at most life from now (capped at
// MaxSessionLife), replacing any session the vault had. It returns when
// the session ends at the latest. An error wrapping
// oskeyring.ErrUnsupported says this system cannot keep one.
func (v *Vault) StartSession(ctx context.Context, idle, life time.Duration) (time.Time, error) {
	if idle < time.Second || idle > MaxSessionLife {
		return time.Time{}, fmt.Errorf("vault: a session's idle time must be between 1 s and %v, not %v", MaxSessionLife, idle)
	}
	if v.ro != nil {
		return time.Time{}, fmt.Errorf("vault: no session on a vault that cannot be written: %w", v.ro)
	}
	life = min(max(life, idle), MaxSessionLife)
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return time.Time{}, err
	}
	until := time.Now().Add(life).Truncate(time.Second)
	s := sessionSecret{V: 1, User: v.user, Idle: int64(idle.Round(time.Second) / time.Second), Until: until}
	// The file first: a keyring entry without it opens nothing.
	if err := writeSealedFile(filepath.Join(v.dir, sessionFile), s, id.Recipient()); err != nil {
		return time.Time{}, fmt.Errorf("vault: session: %w", err)
	}
	if err := oskeyring.Put(sessionName(v.cfg), []byte(id.String()), idle); err != nil {
		_ = shredFile(filepath.Join(v.dir, sessionFile))
		return time.Time{}, fmt.Errorf("vault: session: %w", err)
	}
	return until, nil
}

// OpenSession opens the vault in dir as Open does, with the keys of its
// unlocked session instead of the passphrase, and once it is open starts
// the session's idle time again. Without a usable session it returns an
// error wrapping ErrNoSession (having removed what was left of one that
// ended).
func OpenSession(ctx context.Context, dir string, opt Options) (*Vault, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	var s sessionSecret
	var name string
	v, err := openWith(ctx, dir, "", opt, func(cfg config) (userSecret, int, error) {
		var err error
		s, err = readSession(dir, cfg, now())
		name = sessionName(cfg)
		return s.User, 0, err
	})
	if err != nil {
		return nil, err
	}
	v.session = &openSession{name: name, idle: time.Duration(s.Idle) * time.Second}
	if err := v.RefreshSession(MaxSessionLife); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// openSession is the session a vault was opened by.
type openSession struct {
	name string
	idle time.Duration
}

// RefreshSession starts the idle time of the session the vault was opened
// by again: its own idle time, or limit if that is shorter (a policy whose
// idle lock was shortened since the session began). A vault opened by
// the passphrase has nothing to refresh.
func (v *Vault) RefreshSession(limit time.Duration) error {
	if v.session == nil {
		return nil
	}
	if err := oskeyring.Refresh(v.session.name, min(v.session.idle, max(limit, time.Second))); err != nil {
		return fmt.Errorf("vault: %w: %v", ErrNoSession, err)
	}
	return nil
}

// readSession returns the vault's session if it is usable at now.
func readSession(dir string, cfg config, now time.Time) (sessionSecret, error) {
	var s sessionSecret
	secret, err := oskeyring.Get(sessionName(cfg))
	if errors.Is(err, oskeyring.ErrNotFound) {
		// Timed out, or the machine restarted: the file is what is left.
		_ = endSession(dir, cfg)
		return s, fmt.Errorf("vault: %w", ErrNoSession)
	}
	if err != nil {
		// No keyring here (a container may forbid it): the file may be a
		// session of the same folder elsewhere, left alone.
		return s, fmt.Errorf("vault: %w: %v", ErrNoSession, err)
	}
	id, err := age.ParseHybridIdentity(string(secret))
	if err != nil {
		_ = endSession(dir, cfg)
		return s, fmt.Errorf("vault: %w (the keyring held something else)", ErrNoSession)
	}
	err = readSealedFile(filepath.Join(dir, sessionFile), &s, id)
	if errors.Is(err, fs.ErrNotExist) {
		_ = endSession(dir, cfg)
		return s, fmt.Errorf("vault: %w (it was ended)", ErrNoSession)
	}
	if err != nil {
		// Damaged or replaced: the passphrase decides, as without one.
		_ = endSession(dir, cfg)
		return s, fmt.Errorf("vault: %w (%s could not be read: %v)", ErrNoSession, sessionFile, err)
	}
	if !now.Before(s.Until) {
		_ = endSession(dir, cfg)
		return s, fmt.Errorf("vault: %w (it ended at %s)", ErrNoSession, s.Until.Local().Format("15:04"))
	}
	return s, nil
}

// EndSession ends the vault's session, if one is open: the identity leaves
// the keyring and keys/session.age is shredded.
func EndSession(dir string) error {
	cfg, err := readConfig(dir)
	if err != nil {
		return err
	}
	return endSession(dir, cfg)
}

func endSession(dir string, cfg config) error {
	kerr := oskeyring.Remove(sessionName(cfg))
	if errors.Is(kerr, oskeyring.ErrUnsupported) {
		kerr = nil
	}
	if err := shredFile(filepath.Join(dir, sessionFile)); err != nil {
		return fmt.Errorf("vault: end the session: %w", err)
	}
	if err := store.SyncDir(filepath.Join(dir, "keys")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: end the session: %w", err)
	}
	if kerr != nil {
		return fmt.Errorf("vault: end the session: %w", kerr)
	}
	return nil
}

// HasSession reports whether keys/session.age is a file (a session was
// begun and not ended; it may have timed out in the keyring since).
func HasSession(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, sessionFile))
	return err == nil && st.Mode().IsRegular()
}
