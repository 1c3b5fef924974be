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

// perm lets the possessor do everything and nobody else more than see that
// the key exists (the kernel's default for a new key). A process possesses
// the key when its session keyring reaches the user keyring the key is in:
// the user's own logins (pam_keyinit links the user keyring into each
// login's session keyring; a process without one uses the user's default
// session keyring, which links it too), not a process of another user.
const perm = keyPosAll | keyUsrView

// Permission bits of keyctl(2)'s KEYCTL_SETPERM, from <linux/keyctl.h>
// (x/sys/unix does not name them).
const (
	keyPosAll  = 0x3f000000
	keyUsrView = 0x00010000
)

// ring is where secrets are kept: the user keyring, the same for every
// thread and process of the user. (The session keyring would confine a
// secret to one login, but a process that has none gets a new one per
// thread at its first add_key(2), which its next process does not see.)
const ring = unix.KEY_SPEC_USER_KEYRING

// Put keeps secret under name in the user keyring for ttl (at least,
// and at most a second more), replacing what name held.
func Put(name string, secret []byte, ttl time.Duration) error {
	if len(secret) == 0 || len(secret) > MaxSecret {
		return fmt.Errorf("oskeyring: a secret of %d bytes (want 1 to %d)", len(secret), MaxSecret)
	}
	id, err := unix.AddKey(keyType, name, secret, ring)
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

// Refresh gives the secret under name ttl more from now (at least, and at
// most a second more), or returns ErrNotFound.
func Refresh(name string, ttl time.Duration) error {
	id, err := find(name)
	if err != nil {
		return err
	}
	return setTimeout(id, ttl)
}

// find returns the serial number of the key under name, or ErrNotFound.
func find(name string) (int, error) {
	id, err := unix.KeyctlSearch(ring, keyType, name, 0)
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

// setTimeout gives the key at least ttl to live: the kernel counts its
// expiry in whole seconds of the wall clock, so a timeout of n seconds
// set at 12:00:00.9 ends at 12:00:0n, up to a second early; one second
// more makes it at least ttl and at most a second more.
func setTimeout(id int, ttl time.Duration) error {
	secs := math.Ceil(ttl.Seconds()) + 1
	if secs < 1 || secs > math.MaxUint32 {
		return fmt.Errorf("oskeyring: time to live %v is out of range", ttl)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(secs), 0, 0); err != nil {
		return sysError("set the time to live", err)
	}
	return nil
}

// sysError says what failed; a system call the kernel does not have, or
// that a sandbox (a container's seccomp profile) refuses, becomes
// ErrUnsupported.
func sysError(op string, err error) error {
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: %s: %v", ErrUnsupported, op, err)
	}
	return fmt.Errorf("oskeyring: %s: %w", op, err)
}
