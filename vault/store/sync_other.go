//go:build !linux

package store

import "os"

// syncAll makes files and dirs durable, one fsync each.
func syncAll(root string, files []string, dirs map[string]bool) error {
	return syncFiles(files, dirs)
}

// startWriteback does nothing where the kernel has no sync_file_range.
func startWriteback(*os.File) {}

// directIO is 0: objects are written through the page cache.
const (
	directIO    = 0
	directAlign = 4096
)

func setDirect(*os.File, bool) error { return nil }

// newIOBuf returns a buffer of size bytes for PutFunc.
func newIOBuf(size int) *ioBuf { return &ioBuf{b: alignedBuf(size)[:size]} }
