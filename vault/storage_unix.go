//go:build unix

package vault

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func isReadOnly(err error) bool { return errors.Is(err, syscall.EROFS) }

// writable reports whether this user may create files in dir.
func writable(dir string) bool {
	err := unix.Access(dir, unix.W_OK)
	return !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM)
}
