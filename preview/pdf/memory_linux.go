package pdf

import "golang.org/x/sys/unix"

// mapNoReserve: the reservation commits no swap until it is used.
const mapNoReserve = unix.MAP_NORESERVE

// hugePage is the size of a transparent huge page on the platforms Coffer
// ships for (x86-64 and arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// adviseHuge asks the kernel to back buf with transparent huge pages where
// it can (MADV_HUGEPAGE: honoured when
// /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise",
// the usual default). Every sandbox and every start of PDFium touches tens
// of megabytes of fresh memory, and on a virtual machine each 4 KiB page's
// first touch is a fault costing about 10 µs: 22 MB took 65 ms to touch,
// and 2 ms in huge pages (measured on the 2-core VM of the benchmarks).
// Advice only: a kernel that declines leaves the pages as they were.
func adviseHuge(buf []byte) { _ = unix.Madvise(buf, unix.MADV_HUGEPAGE) }

// hugeBuffer returns n bytes of fresh memory in a mapping of their own,
// advised huge (adviseHuge), and the func that unmaps it: the buffer must
// not be used after. Where the mapping fails it is a Go slice (and free
// does nothing).
func hugeBuffer(n int) (buf []byte, free func()) {
	if n <= 0 {
		return nil, func() {}
	}
	size := (n + hugePage - 1) / hugePage * hugePage
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, n), func() {}
	}
	adviseHuge(m)
	return m[:n:n], func() { _ = unix.Munmap(m) }
}
