//go:build linux

package nodump_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coffer-vault/coffer/internal/nodump"
)

// TestApply: after Apply the process may dump no core, and a child it starts (as the document converter is) inherits
// the zero limit, soft and hard (which only a process with
// CAP_SYS_RESOURCE could raise).
func TestApply(t *testing.T) {
	if os.Getenv("NODUMP_CHILD") == "" {
		// In a child process, so the test binary's own limits stay.
		cmd := exec.Command(os.Args[0], "-test.run", "^TestApply$", "-test.v")
		cmd.Env = append(os.Environ(), "NODUMP_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	if err := nodump.Apply(); err != nil {
		t.Fatal(err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 || lim.Max != 0 {
		t.Fatalf("core limit %+v (%v), want 0 and 0", lim, err)
	}
	out, err := exec.Command("sh", "-c", "ulimit -c; ulimit -H -c").Output()
	if err != nil || strings.Fields(string(out)) == nil || strings.Join(strings.Fields(string(out)), " ") != "0 0" {
		t.Fatalf("a child's core limits: %q (%v), want 0 and 0", out, err)
	}
}
