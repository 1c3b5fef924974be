//go:build unix

package app

import (
	"os"
	"syscall"
)

// holdExport marks the temporary file at path as a live export's until
// release is called, after the file was placed or removed: an exclusive
// flock on a descriptor of its own (closing the file being written does
// not drop it), which the kernel releases when the process ends, however
// it ends.
func holdExport(path string) (release func()) {
	f, err := os.Open(path)
	if err != nil {
		return func() {}
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	return func() { f.Close() }
}

// removeIfAbandoned removes path if it is a regular file of this user
// that no process holds (holdExport): the export that wrote it is gone.
func removeIfAbandoned(path string) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || int(sys.Uid) != os.Getuid() {
		return
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // a live export's
	}
	// Still the file examined (not replaced since it was opened).
	if now, err := os.Lstat(path); err == nil && os.SameFile(st, now) {
		_ = os.Remove(path)
	}
}
