package pdf

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSandboxMemoryAdvisedHuge: the sandbox's linear memory is a mapping
// the kernel may back with transparent huge pages (VmFlags "hg" in
// /proc/self/smaps: MADV_HUGEPAGE was given), whatever the system's THP
// mode; without the advice its fresh pages are faulted in 4 KiB at a time.
func TestSandboxMemoryAdvisedHuge(t *testing.T) {
	needTHP(t)
	mem := memoryAllocator().Allocate(0, memoryLimitPages*65536)
	defer mem.Free()
	if _, ok := mem.(*linearMemory); !ok {
		t.Skipf("the allocator gave a %T (no address space to reserve?)", mem)
	}
	buf := mem.Reallocate(8 << 20)
	if len(buf) != 8<<20 {
		t.Fatalf("Reallocate gave %d bytes", len(buf))
	}
	flags, _, found := vmFlags(t, uintptr(unsafe.Pointer(&buf[0])))
	if !found || !advised(flags) {
		t.Fatalf("the sandbox memory's VmFlags are %q: no hg, so no transparent huge pages were asked for", flags)
	}
}

// TestHugeBuffer: the buffer a sealed cache file is read into holds what
// is written to it, is advised huge, and is unmapped by its free.
func TestHugeBuffer(t *testing.T) {
	needTHP(t)
	const n = 3<<20 + 5
	buf, free := hugeBuffer(n)
	if len(buf) != n || cap(buf) != n {
		t.Fatalf("hugeBuffer(%d): len %d cap %d", n, len(buf), cap(buf))
	}
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for i := range buf {
		if buf[i] != byte(i*7) {
			t.Fatalf("byte %d: %d", i, buf[i])
		}
	}
	addr := uintptr(unsafe.Pointer(&buf[0]))
	flags, start, found := vmFlags(t, addr)
	if !found || !advised(flags) {
		t.Fatalf("the buffer's VmFlags are %q (mapped: %v): no transparent huge pages asked for", flags, found)
	}
	free()
	// The address may be mapped again meanwhile (the runtime's own
	// mappings), but not as the advised mapping that started there.
	if flags, again, found := vmFlags(t, addr); found && again == start && advised(flags) {
		t.Fatalf("after free the buffer is still mapped (VmFlags %q)", flags)
	}
	if buf, free := hugeBuffer(0); buf != nil {
		t.Fatalf("hugeBuffer(0) = %d bytes", len(buf))
	} else {
		free()
	}
}

// needTHP skips a test where the advice cannot be seen: a kernel built
// without transparent huge pages refuses it (EINVAL), and a sandboxed
// kernel (gVisor) may not show the "hg" flag. A scratch mapping is
// advised and looked at, apart from the code under test.
func needTHP(t *testing.T) {
	t.Helper()
	m, err := unix.Mmap(-1, 0, 2*hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Skipf("no scratch mapping: %v", err)
	}
	defer unix.Munmap(m)
	if err := unix.Madvise(m, unix.MADV_HUGEPAGE); err != nil {
		t.Skipf("this kernel refuses MADV_HUGEPAGE: %v", err)
	}
	if flags, _, _ := vmFlags(t, uintptr(unsafe.Pointer(&m[0]))); !advised(flags) {
		t.Skipf("this kernel shows no hg flag for an advised mapping (VmFlags %q)", flags)
	}
}

// advised reports whether VmFlags name MADV_HUGEPAGE's flag, hg.
func advised(flags string) bool { return strings.Contains(" "+flags+" ", " hg ") }

// vmFlags returns the VmFlags line of the mapping of this process that
// holds addr, and where that mapping starts (0 when there is none).
func vmFlags(t *testing.T, addr uintptr) (flags string, start uintptr, found bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside, start := false, uintptr(0)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && !strings.HasSuffix(fields[0], ":") { // a mapping's first line: lo-hi perms …
			var lo, hi uintptr
			if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			inside, start = lo <= addr && addr < hi, lo
			continue
		}
		if inside && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), start, true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return "", 0, false
}
