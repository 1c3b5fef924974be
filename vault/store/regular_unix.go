//go:build unix

package store

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	openNoBlock  = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)

// clearNoBlock puts a regular file back in blocking mode (it makes no
// difference to regular files, but reads are then plain).
func clearNoBlock(f *os.File) error {
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	_, err = unix.FcntlInt(f.Fd(), unix.F_SETFL, flags&^unix.O_NONBLOCK)
	return err
}
