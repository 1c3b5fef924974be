//go:build !linux

package pdf

// hugeBuffer returns n bytes from Go's heap: elsewhere than on Linux there
// are no transparent huge pages to ask for. free does nothing.
func hugeBuffer(n int) (buf []byte, free func()) { return make([]byte, n), func() {} }
