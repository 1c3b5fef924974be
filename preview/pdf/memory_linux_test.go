package pdf

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestSandboxMemoryAdvisedHuge: the sandbox's linear memory is a mapping
// the kernel may back with transparent huge pages (VmFlags "hg" in
// /proc/self/smaps: MADV_HUGEPAGE was given), whatever the system's THP
// mode; without the advice its fresh pages are faulted in 4 KiB at a time.
func TestSandboxMemoryAdvisedHuge(t *testing.T) {
	mem := memoryAllocator().Allocate(0, memoryLimitPages*65536)
	defer mem.Free()
	if _, ok := mem.(*linearMemory); !ok {
		t.Skipf("the allocator gave a %T (no address space to reserve?)", mem)
	}
	buf := mem.Reallocate(8 << 20)
	if len(buf) != 8<<20 {
		t.Fatalf("Reallocate gave %d bytes", len(buf))
	}
	flags, found := vmFlags(t, uintptr(unsafe.Pointer(&buf[0])))
	if !found || !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the sandbox memory's VmFlags are %q: no hg, so no transparent huge pages were asked for", flags)
	}
}

// TestHugeBuffer: the buffer a sealed cache file is read into holds what
// is written to it, is advised huge, and is unmapped by its free.
func TestHugeBuffer(t *testing.T) {
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
	flags, found := vmFlags(t, addr)
	if !found || !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the buffer's VmFlags are %q (mapped: %v): no transparent huge pages asked for", flags, found)
	}
	free()
	if flags, found := vmFlags(t, addr); found {
		t.Fatalf("after free the buffer is still mapped (VmFlags %q)", flags)
	}
	if buf, free := hugeBuffer(0); buf != nil {
		t.Fatalf("hugeBuffer(0) = %d bytes", len(buf))
	} else {
		free()
	}
}

// vmFlags returns the VmFlags line of the mapping of this process that
// holds addr, and whether there is one.
func vmFlags(t *testing.T, addr uintptr) (string, bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inside := false
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && !strings.HasSuffix(fields[0], ":") { // a mapping's first line: lo-hi perms …
			var lo, hi uintptr
			if _, err := fmt.Sscanf(fields[0], "%x-%x", &lo, &hi); err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			inside = lo <= addr && addr < hi
			continue
		}
		if inside && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return "", false
}
