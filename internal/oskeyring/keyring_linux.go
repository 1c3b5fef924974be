package oskeyring

import (
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// keyType is the kernel key type used: "user" keys hold an opaque payload
// that only processes with read permission can read back.
const keyType = "user"

// perm lets the possessor do everything and other processes of the same
// user (who find the key through their user keyring) view, read, search
// and change it; nobody else anything. The kernel's default for a new key
// gives the user view only, which would hide it from the next process.
const perm = keyPosAll | keyUsrView | keyUsrRead | keyUsrWrite | keyUsrSearch | keyUsrSetattr

// Permission bits of keyctl(2)'s KEYCTL_SETPERM, from <linux/keyctl.h>
// (x/sys/unix does not name them).
const (
	keyPosAll     = 0x3f000000
	keyUsrView    = 0x00010000
	keyUsrRead    = 0x00020000
	keyUsrWrite   = 0x00040000
	keyUsrSearch  = 0x00080000
	keyUsrSetattr = 0x00200000
)

// Put keeps secret under name in the user's keyring for ttl (rounded up
// to whole seconds), replacing what name held.
func Put(name string, secret []byte, ttl time.Duration) error {
	if len(secret) == 0 || len(secret) > MaxSecret {
		return fmt.Errorf("oskeyring: a secret of %d bytes (want 1 to %d)", len(secret), MaxSecret)
	}
	id, err := unix.AddKey(keyType, name, secret, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return sysError("add", err)
	}
	if err := unix.KeyctlSetperm(id, perm); err != nil {
		_ = invalidate(id)
		return sysError("set permissions", err)
	}
	if err := setTimeout(id, ttl); err != nil {
		_ = invalidate(id)
		return err
	}
	return nil
}

// Get returns the secret kept under name, or ErrNotFound.
func Get(name string) ([]byte, error) {
	id, err := find(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, MaxSecret+1)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if gone(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, sysError("read", err)
	}
	if n > MaxSecret {
		return nil, fmt.Errorf("oskeyring: %q holds %d bytes, more than a secret kept by Coffer", name, n)
	}
	return buf[:n], nil
}

// Refresh gives the secret under name ttl more from now (rounded up to
// whole seconds), or returns ErrNotFound.
func Refresh(name string, ttl time.Duration) error {
	id, err := find(name)
	if err != nil {
		return err
	}
	return setTimeout(id, ttl)
}

// find returns the serial number of the key under name, or ErrNotFound.
func find(name string) (int, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, keyType, name, 0)
	if gone(err) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, sysError("search", err)
	}
	return id, nil
}

// gone reports whether err says the key does not exist (any more).
func gone(err error) bool {
	return errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYEXPIRED) || errors.Is(err, unix.EKEYREVOKED)
}

// Remove makes the secret under name unusable at once (it is invalidated,
// not only unlinked, so a process that holds a link loses it too). A name
// with nothing under it is not an error.
func Remove(name string) error {
	id, err := find(name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return invalidate(id)
}

func invalidate(id int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil && !errors.Is(err, unix.ENOKEY) {
		return sysError("invalidate", err)
	}
	return nil
}

func setTimeout(id int, ttl time.Duration) error {
	secs := math.Ceil(ttl.Seconds())
	if secs < 1 || secs > math.MaxUint32 {
		return fmt.Errorf("oskeyring: time to live %v is out of range", ttl)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(secs), 0, 0); err != nil {
		return sysError("set the time to live", err)
	}
	return nil
}

// sysError says what failed; a system call the kernel or a sandbox
// (seccomp) refuses becomes ErrUnsupported.
func sysError(op string, err error) error {
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) && op == "add" {
		return fmt.Errorf("%w: %s: %v", ErrUnsupported, op, err)
	}
	return fmt.Errorf("oskeyring: %s: %w", op, err)
}
