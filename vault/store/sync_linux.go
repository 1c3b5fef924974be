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

// directIO is the open flag that writes a file's data straight to the disk,
// bypassing the page cache; buffers, offsets and lengths must then be
// multiples of directAlign.
const (
	directIO    = unix.O_DIRECT
	directAlign = 4096
)

// setDirect turns O_DIRECT on or off for f.
func setDirect(f *os.File, on bool) error {
	fd := int(f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		flags |= unix.O_DIRECT
	} else {
		flags &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
	return err
}

// newIOBuf returns a buffer of size bytes for PutFunc: an anonymous
// mapping (page-aligned, and outside the Go heap, so that it does not make
// the collector let the heap grow by as much again).
func newIOBuf(size int) *ioBuf {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return &ioBuf{b: alignedBuf(size)[:size]}
	}
	return &ioBuf{b: b, free: func() { _ = unix.Munmap(b) }}
}
