// Package oskeyring keeps a short secret where the user's later processes
// on this machine can take it, for a limited time and never on disk: on
// Linux the kernel's user keyring (keyrings(7)), in kernel memory, gone at
// reboot, readable only by processes that possess it (the user's logins),
// never by another user's. Elsewhere every call returns
// ErrUnsupported (macOS Keychain and Windows Credential Manager could
// follow; neither is needed by anything that exists today).
//
// A secret has a time to live, which Refresh starts again (the caller's
// idle time); the kernel removes the key once it runs out.
package oskeyring

import "errors"

var (
	// ErrUnsupported is returned where this system has no keyring Coffer
	// can use.
	ErrUnsupported = errors.New("oskeyring: this system has no kernel keyring Coffer may use (Coffer uses the Linux one; a container may forbid it)")
	// ErrNotFound is returned by Get for a name that was never put, timed
	// out, or was removed.
	ErrNotFound = errors.New("oskeyring: no such secret (never kept, timed out, or removed)")
)

// MaxSecret is the largest secret Put takes, in bytes (the kernel's limit
// for a "user" key is 32 KiB; a secret this package is meant for is a
// key of a few hundred bytes).
const MaxSecret = 4 << 10
