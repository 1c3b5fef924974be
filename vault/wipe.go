package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/internal/oskeyring"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// Remote wipe and self-destruction (docs/sync-protocol.md, "Remote wipe,
// receipts and the lease"). Everything here works on a vault folder
// without its passphrase: a wipe must not wait for one.

// Files of a wipe, in the vault folder.
const (
	orgCopyFile  = "keys/org.json" // the pins in clear, for locked mode
	wipingFile   = "WIPING"        // a wipe under way: its order
	receiptFile  = "WIPE-RECEIPT"  // the signed receipt, until the server has it
	WipeNotice   = "WIPED.txt"     // what happened, for whoever opens the folder
	receiptAcked = "WIPE-RECEIPT-SENT"
)

// ErrWiped is wrapped by Open and the wipe functions for a vault that was
// wiped: nothing in it decrypts any more.
var ErrWiped = errors.New("this vault was wiped")

// WipedError says a vault was wiped, with its notice.
type WipedError struct{ Notice string }

func (e *WipedError) Error() string { return strings.TrimSpace(e.Notice) }
func (e *WipedError) Unwrap() error { return ErrWiped }

// Causes of a wipe.
const (
	CauseAdmin    = "admin"    // the admin's wipe entry in the org log
	CauseLease    = "lease"    // the lease's deadline passed offline
	CauseFailures = "failures" // too many wrong passphrases
)

// WipeOrder is why a vault is wiped.
type WipeOrder struct {
	Cause  string    `json:"cause"`
	Org    object.ID `json:"org"`
	Device object.ID `json:"device"`
	// For CauseAdmin: the wipe entry's hash, nonce and reason as the log
	// has them.
	Entry  string    `json:"entry,omitempty"` // hex SHA-256 of the entry
	Nonce  string    `json:"nonce,omitempty"`
	Reason string    `json:"reason"`
	Issued time.Time `json:"issued"` // when the order was made (the entry's time, or the device's)
	// OrgName names the organisation in the notice.
	OrgName string `json:"org_name,omitempty"`
	// Extra are more paths to destroy (the app's folder of copies, caches).
	Extra []string `json:"extra,omitempty"`
}

// WriteOrgCopy keeps the org pins in clear beside the transport key, for
// locked mode; Open checks them against the passphrase-protected pin.
func writeOrgCopy(dir string, pin *OrgPin) error {
	b, err := json.Marshal(pin)
	if err != nil {
		return err
	}
	return store.WriteFileAtomic(filepath.Join(dir, orgCopyFile), b, 0o600)
}

// ReadOrgCopy reads the pins of an enrolled vault without its passphrase
// (nil, fs.ErrNotExist for a standalone vault). They are not trusted to
// keep secrets: only to decide a wipe, which editing them could at worst
// cause.
func ReadOrgCopy(dir string) (*OrgPin, error) {
	b, err := store.ReadRegular(filepath.Join(dir, orgCopyFile), 64<<10)
	if err != nil {
		return nil, err
	}
	var pin OrgPin
	if err := json.Unmarshal(b, &pin); err != nil || len(pin.Admin) != ed25519.PublicKeySize || len(pin.Server) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("vault: %w: %s", ErrDamaged, orgCopyFile)
	}
	return &pin, nil
}

// checkOrgCopy compares the clear pins with the passphrase-protected ones
// at unlock, writing them if an older vault has none.
func checkOrgCopy(dir string, pin *OrgPin) error {
	if pin == nil {
		return nil
	}
	cp, err := ReadOrgCopy(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return writeOrgCopy(dir, pin)
	}
	if err != nil {
		return err
	}
	a, _ := json.Marshal(cp)
	b, _ := json.Marshal(pin)
	if string(a) != string(b) {
		return fmt.Errorf("vault: %w: %s names another organisation or server than the one your passphrase protects", ErrTampered, orgCopyFile)
	}
	return nil
}

// Wiped reports whether the vault in dir was wiped (or is being wiped:
// FinishWipe completes it), with the notice it left.
func Wiped(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, wipingFile)); err == nil {
		return &WipedError{Notice: "A wipe of this vault was interrupted; it is finished when Coffer starts."}
	}
	b, err := store.ReadRegular(filepath.Join(dir, WipeNotice), 64<<10)
	if err != nil {
		return nil
	}
	return &WipedError{Notice: string(b)}
}

// Wipe destroys the vault in dir for order, in the order the protocol
// writes down: the order made durable, the receipt signed with the
// transport key and made durable, the key files overwritten and removed
// (from here nothing decrypts), then the keyrings, index and objects
// overwritten or removed, the extra paths, and last the notice. The vault
// must not be open. A crash anywhere is finished by FinishWipe. It returns
// the signed receipt.
func Wipe(dir string, order WipeOrder) ([]byte, error) {
	if !Exists(dir) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotVault)
	}
	b, err := json.Marshal(order)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, wipingFile)); errors.Is(err, fs.ErrNotExist) {
		// A receipt left without a wipe under way is not this wipe's
		// (planted, or stale): it would be sent instead of the real one.
		for _, f := range []string{receiptFile, receiptAcked} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("vault: wipe: %w", err)
			}
		}
		if err := store.WriteFileAtomic(filepath.Join(dir, wipingFile), b, 0o600); err != nil {
			return nil, fmt.Errorf("vault: wipe: %w", err)
		}
	}
	return FinishWipe(dir)
}

// FinishWipe completes a wipe that was begun (WIPING present); it returns
// the receipt, or nil if no wipe was under way.
func FinishWipe(dir string) ([]byte, error) {
	b, err := store.ReadRegular(filepath.Join(dir, wipingFile), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var order WipeOrder
	if err := json.Unmarshal(b, &order); err != nil {
		// A damaged order still wipes: the reason is lost, not the duty.
		order = WipeOrder{Cause: CauseAdmin, Reason: "the wipe order on disk was damaged"}
	}
	receipt, err := store.ReadRegular(filepath.Join(dir, receiptFile), 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		if receipt, err = makeReceipt(dir, order); err != nil {
			return nil, err
		}
		if err := store.WriteFileAtomic(filepath.Join(dir, receiptFile), receipt, 0o600); err != nil {
			return nil, fmt.Errorf("vault: wipe: the receipt: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	// The keys first: once they are gone nothing decrypts. A session's
	// identity leaves the keyring too (best effort: without its file it
	// opens nothing, and it times out).
	if cfg, err := readConfig(dir); err == nil {
		_ = oskeyring.Remove(sessionName(cfg))
	}
	for _, f := range []string{userKey, sessionFile, deviceKey} {
		if err := shredFile(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("vault: wipe: %w", err)
		}
	}
	if err := store.SyncDir(filepath.Join(dir, "keys")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// The keyrings, the index with its journal, then everything else.
	if err := shredTree(filepath.Join(dir, objectsDir, object.KindKeyring.String())); err != nil {
		return nil, fmt.Errorf("vault: wipe: %w", err)
	}
	// index.db with its WAL, journal and any copy a repair set aside
	// (index.db.replaced-…).
	files, _ := filepath.Glob(filepath.Join(dir, indexFile+"*"))
	for _, f := range []string{checkpointFile, lockoutFile} {
		files = append(files, filepath.Join(dir, f))
	}
	for _, f := range files {
		if err := shredFile(f); err != nil {
			return nil, fmt.Errorf("vault: wipe: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, objectsDir)); err != nil {
		return nil, fmt.Errorf("vault: wipe: %w", err)
	}
	_ = os.RemoveAll(filepath.Join(dir, locksDir)) // empty lock files; one held elsewhere stays
	for _, p := range order.Extra {
		if err := shredTree(p); err != nil {
			return nil, fmt.Errorf("vault: wipe: %w", err)
		}
	}
	notice := wipeNotice(order)
	if err := store.WriteFileAtomic(filepath.Join(dir, WipeNotice), []byte(notice), 0o644); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(dir, wipingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return receipt, store.SyncDir(dir)
}

func wipeNotice(o WipeOrder) string {
	org := o.OrgName
	if org == "" {
		org = "your organisation"
	}
	var why string
	switch o.Cause {
	case CauseLease:
		why = fmt.Sprintf("It wiped itself: %s.", o.Reason)
	case CauseFailures:
		why = fmt.Sprintf("It wiped itself after %s.", o.Reason)
	default:
		why = fmt.Sprintf("It was wiped by order of %s's administrator, given %s UTC", org, o.Issued.UTC().Format("2006-01-02 15:04"))
		if o.Reason != "" {
			why += " (" + o.Reason + ")"
		}
		why += "."
	}
	return fmt.Sprintf("This Coffer vault was wiped on %s UTC.\n%s\nIts keys and documents were destroyed: nothing in this folder can be decrypted any more.\nDevice %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04"), why, o.Device)
}

// receipt is what a wipe receipt's note says.
func makeReceipt(dir string, o WipeOrder) ([]byte, error) {
	device, key, err := ReadTransportKey(dir)
	if err != nil {
		return nil, fmt.Errorf("vault: wipe: the receipt needs the transport key: %w", err)
	}
	var files, bytes int64
	for _, p := range append([]string{filepath.Join(dir, "keys"), filepath.Join(dir, objectsDir), filepath.Join(dir, indexFile)}, o.Extra...) {
		_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					files++
					bytes += fi.Size()
				}
			}
			return nil
		})
	}
	var serverTime int64
	if msg, err := store.ReadRegular(filepath.Join(dir, checkpointFile), 4096); err == nil {
		// Unverified (no passphrase): the receipt says what the device
		// believed; the server compares it with its own clock.
		if c, err := parseCheckpoint(noteText(msg)); err == nil {
			serverTime = c.ServerTime
		}
	}
	r := wire.Receipt{Org: o.Org, Device: device, Cause: o.Cause, Order: o.Entry, Wiped: time.Now(), Files: files, Bytes: bytes}
	if serverTime > 0 {
		r.ServerTime = time.Unix(0, serverTime)
	}
	return r.Sign(key)
}

// PendingReceipt returns the receipt of a wiped vault that the server has
// not acknowledged yet (nil if none).
func PendingReceipt(dir string) []byte {
	if _, err := os.Stat(filepath.Join(dir, receiptAcked)); err == nil {
		return nil
	}
	b, err := store.ReadRegular(filepath.Join(dir, receiptFile), 64<<10)
	if err != nil {
		return nil
	}
	return b
}

// ReceiptSent records that the server holds the receipt: the transport key
// and the clear pins, needed only to send it, are destroyed.
func ReceiptSent(dir string) error {
	if err := store.WriteFileAtomic(filepath.Join(dir, receiptAcked), []byte("the server acknowledged this vault's wipe receipt\n"), 0o600); err != nil {
		return err
	}
	for _, f := range []string{transportFile, orgCopyFile} {
		if err := shredFile(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// shredFile overwrites a file's bytes with random ones, syncs, and removes
// it: on a file system that writes in place (ext4, XFS) the old bytes are
// gone from the disk, not only from the directory. Absent is fine. What is
// not a regular file at path — a symbolic link, a named pipe, a folder
// planted there — is removed without being written through or waited on:
// a link planted in the vault never makes a wipe or a lock destroy what it
// points to.
func shredFile(path string) error {
	f, err := store.OpenOwnRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, store.ErrNotRegular) {
		if err := os.RemoveAll(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = io.CopyN(f, rand.Reader, fi.Size())
		if err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("overwrite %s: %w", filepath.Base(path), err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// shredTree shreds every regular file under root, then removes root.
func shredTree(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			return shredFile(p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(root)
}

// noteText returns the text of a signed note without checking it.
func noteText(msg []byte) string {
	s := string(msg)
	if i := strings.Index(s, "\n\n"); i >= 0 {
		return s[:i+1]
	}
	return s
}

// wipeForFailures wipes an enrolled vault after n wrong passphrases in a
// row, as its organisation's policy says.
func wipeForFailures(dir string, cfg config, n int) error {
	pin, err := ReadOrgCopy(dir)
	if err != nil {
		return fmt.Errorf("%w (and the vault could not be wiped as the policy says: %v)", ErrWrongPassphrase, err)
	}
	order := WipeOrder{Cause: CauseFailures, Org: pin.Org, Device: cfg.Device, Issued: time.Now(),
		Reason: fmt.Sprintf("%d wrong passphrases in a row", n)}
	if _, err := Wipe(dir, order); err != nil {
		return fmt.Errorf("%w (and the wipe the policy orders failed: %v)", ErrWrongPassphrase, err)
	}
	return Wiped(dir)
}

// DeadlinePassed reports, before unlock, whether the policy's
// wipe_after_days (as last cached) has passed since the last server time
// the checkpoint records, by now — the later of the clock and that time.
// The figures are read without the passphrase, so they are not proven:
// they can only make the vault wipe itself, which deleting it would do as
// well. After unlock the app checks again with proven figures.
func DeadlinePassed(dir string, now time.Time) (passed bool, last time.Time, days int) {
	l := readLockout(dir, now)
	if l.WipeDays <= 0 {
		return false, time.Time{}, 0
	}
	msg, err := store.ReadRegular(filepath.Join(dir, checkpointFile), 4096)
	if err != nil {
		return false, time.Time{}, l.WipeDays
	}
	c, err := parseCheckpoint(noteText(msg))
	if err != nil || c.ServerTime == 0 {
		return false, time.Time{}, l.WipeDays
	}
	last = time.Unix(0, c.ServerTime)
	if last.After(now) {
		now = last
	}
	return now.Sub(last) > time.Duration(l.WipeDays)*24*time.Hour, last, l.WipeDays
}
