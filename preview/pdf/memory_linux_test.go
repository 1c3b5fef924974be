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
	flags := vmFlags(t, uintptr(unsafe.Pointer(&buf[0])))
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("the sandbox memory's VmFlags are %q: no hg, so no transparent huge pages were asked for", flags)
	}
}

// vmFlags returns the VmFlags line of the mapping of this process that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) string {
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
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
