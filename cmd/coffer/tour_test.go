package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// TestTourScript runs `make tour`'s script (what `make run` shows without
// a display) with the real binary: every step works but the two exports
// of a confidential document, which policy blocks (exit 3). Its demo
// passphrase was one `coffer init` refuses as too easy to guess, so the
// tour failed at its first step and every other with it.
func TestTourScript(t *testing.T) {
	bin := buildCoffer(t)
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "tour.sh"), bin)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tour.sh: %v\n%s", err, out)
	}
	codes := regexp.MustCompile(`\(exit code (\d+)\)`).FindAllStringSubmatch(string(out), -1)
	if len(codes) != 2 {
		t.Errorf("%d steps failed, want the 2 blocked exports:\n%s", len(codes), out)
	}
	for _, c := range codes {
		if c[1] != "3" {
			t.Errorf("a step exited %s:\n%s", c[1], out)
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "coffer: ") && !strings.Contains(line, " blocked in folder ") {
			t.Errorf("the tour says %q", line)
		}
	}
}
