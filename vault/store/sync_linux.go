package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncAll makes files and dirs durable with one syncfs(2) of the file
// system holding root, which writes back every dirty page and inode of it
// together — far cheaper than thousands of fsyncs.
func syncAll(root string, files []string, dirs map[string]bool) error {
	if len(files) == 0 && len(dirs) == 0 {
		return nil
	}
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return syncFiles(files, dirs)
	}
	return nil
}

// startWriteback asks the kernel to begin writing f's pages now, without
// waiting, so that the Sync barrier at the end of an import finds little
// left to flush.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
