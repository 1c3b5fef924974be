//go:build linux || darwin

package pdf

import (
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// linearMemory is a sandbox's WebAssembly memory in a mapping of its own,
// outside Go's heap: its whole maximum (memoryLimitPages) is reserved as
// address space when the instance starts, and made usable as PDFium grows
// it, in place. wazero's own memory is a Go slice grown by copying: a PDF
// that drove PDFium to its cap held old and new copies at once, and left
// them to Go's collector, whose goal grew with them — 4.5 GB resident for
// a 1 GiB cap, from a 1 MiB file. Here what PDFium touches is what is
// resident, and all of it goes back to the system when the instance
// closes.
type linearMemory struct {
	buf  []byte // the reservation: len is the maximum
	used int    // bytes made readable and writable, from the start
}

// memoryAllocator gives each instance a linearMemory, or where the
// address space cannot be reserved (a ulimit -v) a Go slice as wazero's
// own would be.
func memoryAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		buf, err := unix.Mmap(-1, 0, int(max), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
		if err != nil {
			return &sliceMemory{buf: make([]byte, 0, capacity), max: max}
		}
		// PDFium's heap, the document's copy and every page's bitmap
		// are fresh pages of this memory: in huge pages, the first page
		// of octave.pdf (1,158 pages) shows in 174 ms instead of 204.
		adviseHuge(buf)
		return &linearMemory{buf: buf}
	})
}

// sliceMemory is a linear memory in a Go slice, grown by copying.
type sliceMemory struct {
	buf []byte
	max uint64
}

func (m *sliceMemory) Reallocate(size uint64) []byte {
	switch {
	case size > m.max:
		return nil
	case size <= uint64(cap(m.buf)):
		m.buf = m.buf[:size]
	default:
		grown := make([]byte, size, min(max(2*uint64(cap(m.buf)), size), m.max))
		copy(grown, m.buf)
		m.buf = grown
	}
	return m.buf
}

func (m *sliceMemory) Free() { m.buf = nil }

// Reallocate implements experimental.LinearMemory: the first size bytes,
// at the same address every time; nil if they cannot be had.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	if n := int(size); n > m.used {
		page := unix.Getpagesize()
		end := min((n+page-1)/page*page, len(m.buf))
		if err := unix.Mprotect(m.buf[m.used:end], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.used = end
	}
	return m.buf[:size:size]
}

// unmapAfter is how long a freed memory's address space stays mapped.
// wazero frees an instance's memory when the instance is closed — by a
// timeout or a cancellation, while PDFium may still be running on another
// goroutine until its next check (a function call or a loop's back edge),
// and unmapped memory under running code is a fault no recover catches.
// So Free gives the pages back at once (MADV_DONTNEED: what is still read
// reads as zeros) and the address space later.
const unmapAfter = 30 * time.Second

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	if m.buf == nil {
		return
	}
	buf := m.buf
	m.buf, m.used = nil, 0
	_ = unix.Madvise(buf, unix.MADV_DONTNEED)
	time.AfterFunc(unmapAfter, func() { _ = unix.Munmap(buf) })
}
