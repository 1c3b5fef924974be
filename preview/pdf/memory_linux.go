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
