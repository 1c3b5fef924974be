package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

const (
	checkpointFile = "checkpoint"
	locksDir       = "locks"
	checkpointHead = "coffer checkpoint v1"
)

// ErrNeedsRebuild is wrapped by Open's error when the index is older than
// the signed checkpoint (removed, replaced by an older copy, or its audit
// chain cut short) or the checkpoint itself is missing or altered. The
// signed objects still hold every document: Rebuild makes a new index from
// them without pretending the audit trail starts afresh.
var ErrNeedsRebuild = errors.New("the vault index must be rebuilt from the signed objects")

// checkpoint is the state of this device's vault that an edit of index.db
// cannot reach: the newest link of the audit chain and the highest policy
// serial ever in force. It is a signed note (golang.org/x/mod/sumdb/note),
// signed by this device's key, in VAULT/checkpoint:
//
//	coffer checkpoint v1
//	vault <vault ID, hex>
//	device <device ID, hex>
//	audit <seq> <hash, hex>
//	policy <serial>
//
// It only moves forward. The index may run ahead of it (a crash between an
// audit append and the checkpoint's update), never behind it.
type checkpoint struct {
	Vault        object.ID
	Device       object.ID
	AuditSeq     int64
	AuditHash    [32]byte
	PolicySerial uint64
	// OrgSize and OrgHash are the last org log checkpoint this device
	// verified (zero for a standalone vault): the log must extend it.
	OrgSize int64
	OrgHash [32]byte
	// ServerTime is the highest server time this device verified (unix
	// nanoseconds): deadlines are judged by it, never by a clock that went
	// back.
	ServerTime int64
	// ServerAudit is the audit seq this checkpoint held when ServerTime
	// was recorded: the times of entries up to it, written by this
	// device's clock before the server vouched for the time, are no
	// evidence of the time (a clock days ahead, later set right, wrote
	// them). 0 in checkpoints written before it was kept.
	ServerAudit int64
}

// advanceServerTime raises c's server time to t, if later, with the audit
// seq it was recorded at; it reports whether c changed.
func (c *checkpoint) advanceServerTime(t time.Time) bool {
	if t.UnixNano() <= c.ServerTime {
		return false
	}
	c.ServerTime, c.ServerAudit = t.UnixNano(), c.AuditSeq
	return true
}

func (c checkpoint) text() string {
	tm := strconv.FormatInt(c.ServerTime, 10)
	if c.ServerAudit > 0 {
		tm += " " + strconv.FormatInt(c.ServerAudit, 10)
	}
	return fmt.Sprintf("%s\nvault %s\ndevice %s\naudit %d %s\npolicy %d\norg %d %s\ntime %s\n",
		checkpointHead, c.Vault, c.Device, c.AuditSeq, hex.EncodeToString(c.AuditHash[:]), c.PolicySerial,
		c.OrgSize, hex.EncodeToString(c.OrgHash[:]), tm)
}

// parseCheckpoint parses the text of a checkpoint note, strictly: exactly
// the lines above, in that order, nothing else.
func parseCheckpoint(text string) (checkpoint, error) {
	var c checkpoint
	lines := strings.Split(text, "\n")
	if len(lines) != 8 || lines[7] != "" || lines[0] != checkpointHead {
		return c, fmt.Errorf("%w: checkpoint: not a version 1 checkpoint", ErrMalformed)
	}
	field := func(line, name string, n int) []string {
		parts := strings.Split(line, " ")
		if len(parts) != n+1 || parts[0] != name {
			return nil
		}
		return parts[1:]
	}
	bad := fmt.Errorf("%w: checkpoint: malformed", ErrMalformed)
	id := func(s string, dst *object.ID) bool {
		v, err := object.ParseID(s)
		*dst = v
		return err == nil && strings.ToLower(s) == s
	}
	num := func(s string, dst *int64) bool {
		v, err := strconv.ParseInt(s, 10, 64)
		*dst = v
		return err == nil && v >= 0 && strconv.FormatInt(v, 10) == s
	}
	hash := func(s string, dst *[32]byte) bool {
		h, err := hex.DecodeString(s)
		copy(dst[:], h)
		return err == nil && len(h) == 32 && hex.EncodeToString(h) == s
	}
	vault, device := field(lines[1], "vault", 1), field(lines[2], "device", 1)
	aud, pol := field(lines[3], "audit", 2), field(lines[4], "policy", 1)
	org, tm := field(lines[5], "org", 2), field(lines[6], "time", 1)
	if tm == nil {
		// With the audit seq it was recorded at (never 0: then it is left out).
		if tm = field(lines[6], "time", 2); tm != nil && (!num(tm[1], &c.ServerAudit) || c.ServerAudit == 0) {
			return c, bad
		}
	}
	if vault == nil || device == nil || aud == nil || pol == nil || org == nil || tm == nil {
		return c, bad
	}
	var serial int64
	if !id(vault[0], &c.Vault) || !id(device[0], &c.Device) || !num(aud[0], &c.AuditSeq) || !hash(aud[1], &c.AuditHash) ||
		!num(pol[0], &serial) || !num(org[0], &c.OrgSize) || !hash(org[1], &c.OrgHash) || !num(tm[0], &c.ServerTime) {
		return c, bad
	}
	c.PolicySerial = uint64(serial)
	return c, nil
}

// noteName is the key name checkpoints of a device are signed under.
func noteName(device object.ID) string { return "coffer-device-" + device.String() }

// readCheckpoint reads and verifies VAULT/checkpoint. A missing file is
// reported with an error wrapping fs.ErrNotExist; anything else that is not
// a checkpoint of this vault signed by this device is ErrTampered.
func (v *Vault) readCheckpoint() (checkpoint, error) {
	msg, err := store.ReadRegular(filepath.Join(v.dir, checkpointFile), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{}, fmt.Errorf("vault: checkpoint: %w", err)
	}
	if err != nil {
		return checkpoint{}, fmt.Errorf("vault: %w: the checkpoint cannot be read: %v", ErrTampered, err)
	}
	text, err := v.openNote(msg)
	if err != nil {
		return checkpoint{}, fmt.Errorf("vault: %w: the checkpoint is not signed by this device: %v", ErrTampered, err)
	}
	c, err := parseCheckpoint(text)
	if err != nil {
		return c, fmt.Errorf("vault: %w: %v", ErrTampered, err)
	}
	if c.Vault != v.cfg.Vault || c.Device != v.device.Device {
		return c, fmt.Errorf("vault: %w: the checkpoint belongs to another vault or device", ErrTampered)
	}
	return c, nil
}

func (v *Vault) writeCheckpoint(c checkpoint) error {
	c.Vault, c.Device = v.cfg.Vault, v.device.Device
	msg, err := v.signNote(c.text())
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(filepath.Join(v.dir, checkpointFile), msg, 0o600)
}

// signNote signs text as a note of this device.
func (v *Vault) signNote(text string) ([]byte, error) {
	return notekey.Sign(text, noteName(v.device.Device), v.devKey)
}

// openNote verifies a note signed by this device and returns its text.
func (v *Vault) openNote(msg []byte) (string, error) {
	return notekey.Open(msg, noteName(v.device.Device), v.trust.self)
}

// lockFile takes an exclusive lock on VAULT/locks/name, which serialises
// one kind of read-modify-write between processes sharing the vault. It
// waits up to lockWait for another process to let go, then fails with an
// error wrapping ErrLockHeld: a process stopped (Ctrl-Z) or hung while
// holding it froze every other command of the vault, silently.
func lockFile(dir, name string) (unlock func(), err error) {
	return lockFileWait(dir, name, lockWait)
}

// lockWait is how long lockFile waits: what the lock guards takes well
// under a second (an scrypt), even queued behind a few other processes.
const lockWait = 30 * time.Second

// ErrLockHeld is wrapped when another process held a lock of the vault for
// longer than lockFile waits.
var ErrLockHeld = errors.New("another Coffer process holds the vault and has not let go")

func lockFileWait(dir, name string, wait time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Join(dir, locksDir), 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, locksDir, name)
	l := flock.New(path, flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 20*time.Millisecond)
	if !ok && (err == nil || errors.Is(err, context.DeadlineExceeded)) {
		return nil, fmt.Errorf("vault: %w: %s was held for %v; if a coffer command is stopped (Ctrl-Z: bring it back with fg) or hung, end it and try again", ErrLockHeld, path, wait)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	return func() { _ = l.Unlock() }, nil
}

// advanceCheckpoint moves the checkpoint forward to include what update
// changes, under the checkpoint lock so that concurrent processes never
// move it back. update reports whether it changed anything.
func (v *Vault) advanceCheckpoint(update func(c *checkpoint) bool) (err error) {
	if v.ro != nil {
		return v.ro
	}
	defer func() { err = v.storageErr(err) }()
	unlock, err := lockFile(v.dir, "checkpoint")
	if err != nil {
		return err
	}
	defer unlock()
	c, err := v.readCheckpoint()
	if errors.Is(err, fs.ErrNotExist) && !v.user.Checkpoints {
		err = nil // a vault being upgraded writes its first checkpoint
	}
	if err != nil {
		return err
	}
	if !update(&c) {
		return nil
	}
	return v.writeCheckpoint(c)
}

// recordAuditHead advances the checkpoint to an audit entry just committed.
func (v *Vault) recordAuditHead(seq int64, hash [32]byte) error {
	return v.advanceCheckpoint(func(c *checkpoint) bool {
		if seq <= c.AuditSeq {
			return false
		}
		c.AuditSeq, c.AuditHash = seq, hash
		return true
	})
}

// AppliedPolicySerial returns the highest policy serial the signed
// checkpoint records as having been in force.
func (v *Vault) AppliedPolicySerial() (uint64, error) {
	c, err := v.readCheckpoint()
	if err != nil {
		return 0, err
	}
	return c.PolicySerial, nil
}

// MarkPolicyApplied records in the signed checkpoint that policy serial
// came into force; an older policy put back later is then refused.
func (v *Vault) MarkPolicyApplied(serial uint64) error {
	return v.advanceCheckpoint(func(c *checkpoint) bool {
		if serial <= c.PolicySerial {
			return false
		}
		c.PolicySerial = serial
		return true
	})
}

// verifyIndexState compares the index with the checkpoint: the index's
// audit chain must reach the entry the checkpoint names. A chain that ends
// before it means the index was removed, replaced by an older copy or cut
// short. An entry there that differs is an edit of the chain, which
// AuditEvents reports where it is.
func (v *Vault) verifyIndexState(ctx context.Context, c checkpoint) error {
	last, err := v.idx.LastAuditSeq(ctx)
	if err != nil {
		return err
	}
	switch {
	case last >= c.AuditSeq:
		return nil
	case last == 0:
		return fmt.Errorf("vault: %w: %w: the index was removed or replaced (it holds no audit trail; the signed checkpoint names entry %d)", ErrTampered, ErrNeedsRebuild, c.AuditSeq)
	default:
		return fmt.Errorf("vault: %w: %w: the index was rolled back or its audit trail cut short (it ends at entry %d; the signed checkpoint names entry %d)", ErrTampered, ErrNeedsRebuild, last, c.AuditSeq)
	}
}

// checkState runs at unlock, after the keys are proven: the index must
// reach the signed checkpoint. A vault made before checkpoints existed gets
// its first one from its index as it is, and keys/user.age is rewritten
// (with the same passphrase) to pin the device key and say that a
// checkpoint must exist from now on.
func (v *Vault) checkState(ctx context.Context, passphrase string) error {
	c, err := v.readCheckpoint()
	switch {
	case err == nil:
		if err := v.verifyIndexState(ctx, c); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist) && v.user.Checkpoints:
		return fmt.Errorf("vault: %w: %w: the signed checkpoint was removed, so an index rolled back could not be told from a current one", ErrTampered, ErrNeedsRebuild)
	case errors.Is(err, fs.ErrNotExist) && v.ro != nil:
		return fmt.Errorf("vault: this vault was made by an earlier version of Coffer and must be opened once where it can be written, to be upgraded: %w", v.ro)
	case errors.Is(err, fs.ErrNotExist):
		if c, err = v.firstCheckpoint(ctx); err != nil {
			return err
		}
		if err := v.writeCheckpoint(c); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %w", err, ErrNeedsRebuild)
	}
	if v.user.Checkpoints && v.user.DeviceKey != nil {
		return nil
	}
	if v.ro != nil {
		return fmt.Errorf("vault: this vault was made by an earlier version of Coffer and must be opened once where it can be written, to be upgraded: %w", v.ro)
	}
	return v.upgradeUserKey(passphrase)
}

// upgradeUserKey rewrites keys/user.age (same passphrase, new salt) to pin
// this device's key and mark that a checkpoint must exist from now on.
func (v *Vault) upgradeUserKey(passphrase string) error {
	if passphrase == "" {
		// Opened by a session, which a passphrase unlock of an upgraded
		// vault started: this vault was replaced since.
		return fmt.Errorf("vault: %w: open it with its passphrase once, to be upgraded", ErrNoSession)
	}
	us := v.user
	us.Checkpoints, us.DeviceKey = true, v.devKey.Public().(ed25519.PublicKey)
	scrypt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return err
	}
	scrypt.SetWorkFactor(ScryptWorkFactor)
	if err := writeSealedFile(filepath.Join(v.dir, userKey), us, scrypt); err != nil {
		return fmt.Errorf("vault: upgrade %s: %w", userKey, err)
	}
	v.user = us
	return nil
}

// firstCheckpoint describes the index of a vault made before checkpoints:
// its audit head and the highest policy serial its chain records as
// applied (the rule before checkpoints).
func (v *Vault) firstCheckpoint(ctx context.Context) (checkpoint, error) {
	var c checkpoint
	log, err := v.AuditEvents(ctx)
	if err != nil {
		return c, err
	}
	for _, e := range log.Events {
		if e.Action == audit.PolicyChange && e.Outcome == audit.OK && uint64(e.Version) > c.PolicySerial {
			c.PolicySerial = uint64(e.Version)
		}
	}
	seq, err := v.idx.LastAuditSeq(ctx)
	if err != nil || seq == 0 {
		return c, err
	}
	row, err := v.idx.AuditAt(ctx, seq)
	if err != nil {
		return c, err
	}
	c.AuditSeq = seq
	copy(c.AuditHash[:], row.Hash)
	return c, nil
}

// RecordServerTime advances the highest server time this device has
// verified; an older time changes nothing.
func (v *Vault) RecordServerTime(t time.Time) error {
	return v.advanceCheckpoint(func(c *checkpoint) bool { return c.advanceServerTime(t) })
}

// TrustedTime returns the highest server time this device has verified
// (the zero time if none): what deadlines are judged by.
func (v *Vault) TrustedTime() (time.Time, error) {
	c, err := v.readCheckpoint()
	if err != nil || c.ServerTime == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, c.ServerTime), nil
}
