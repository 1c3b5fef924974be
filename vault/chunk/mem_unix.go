//go:build unix

package chunk

import "golang.org/x/sys/unix"

// NewBuffer returns size bytes of zeroed memory for CutStream's blocks, and
// the function that gives it back. The memory is an anonymous mapping,
// outside the Go heap: the garbage collector lets the heap grow to twice
// what is live before it collects, so tens of MiB of blocks on the heap
// would cost as much again in RSS. Nothing may touch the buffer after
// free.
func NewBuffer(size int) (buf []byte, free func()) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, size), func() {}
	}
	return b, func() { _ = unix.Munmap(b) }
}
