package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestNoDisplay: the desktop app started where there is no display says so
// in one line and what to run instead, and exits 1, before the toolkit
// starts (which would die with a stack trace).
func TestNoDisplay(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("Windows and macOS always have a display")
	}
	bin := buildCoffer(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	for _, args := range [][]string{{}, {"gui"}, {"gui", "--vault", t.TempDir()}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(env, "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("coffer %v without a display: %v, want exit 1\n%s", args, err, stderr.String())
			continue
		}
		msg := stderr.String()
		if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "coffer: no display found") ||
			!strings.Contains(msg, "coffer --help") || !strings.Contains(msg, "make tour") || stdout.Len() != 0 {
			t.Errorf("coffer %v without a display: stdout %q, stderr %q; want one line saying no display was found and what to run", args, stdout.String(), msg)
		}
	}
}
