package pdf

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// havePipes: Linux has named pipes that a blocked open of either end
// waits on, and that a nonblocking open for reading releases.
const havePipes = true

const nonblock = syscall.O_NONBLOCK

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

// growPipe asks for a pipe buffer of 1 MiB (Linux's default limit for
// users) instead of 64 KiB, so that 22 MB cross in a few dozen turns of
// writer and reader rather than hundreds. A refusal only costs turns.
func growPipe(f *os.File) {
	const setPipeSize = 1031 // F_SETPIPE_SZ
	if c, err := f.SyscallConn(); err == nil {
		_ = c.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, setPipeSize, 1<<20)
		})
	}
}

// prefetch asks the kernel to start reading the sealed file at path into
// the page cache, and returns without waiting. Nothing of it enters this
// process: the file is read, and checked, only once the key has come.
// Opened without blocking, so that a pipe planted in the cache folder
// cannot hold the start up; anything but a regular file is left alone.
func prefetch(path string) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return
	}
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_WILLNEED)
}
