package app_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
)

// TestMain lets a test run this binary as a child that makes a copy for
// another application and dies without closing: a crash.
func TestMain(m *testing.M) {
	if dir := os.Getenv("COFFER_TEST_CRASH_WITH_COPY"); dir != "" {
		a, err := app.Open(context.Background(), dir, pass)
		if err == nil {
			var c *app.OpenedCopy
			if c, err = a.OpenCopy(context.Background(), policy.OpenExternal, "Lobby", "note.txt"); err == nil {
				os.Stdout.WriteString(c.Path)
				os.Exit(0) // no Close: the copy is left behind
			}
		}
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestCopiesOfACrashAreRemovedAtStart: copies a crashed process left in the
// cache folder go at the next start of Coffer, not a day later; copies of a
// Coffer still running stay.
func TestCopiesOfACrashAreRemovedAtStart(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	a, dir := newApp(t)
	if _, err := a.CreateFolder(ctx, "Lobby", policy.Public); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Lobby", "note.txt", strings.NewReader("a public note\n"), nil); err != nil {
		t.Fatal(err)
	}
	liveCopy, err := a.OpenCopy(ctx, policy.OpenExternal, "Lobby", "note.txt")
	if err != nil {
		t.Fatal(err)
	}
	live := liveCopy.Path
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "COFFER_TEST_CRASH_WITH_COPY="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	crashed := string(out)
	if _, err := os.Stat(crashed); err != nil {
		t.Fatalf("the crashed process's copy is not there to begin with: %v", err)
	}
	b, err := app.Open(ctx, dir, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := os.Stat(crashed); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the copy of a crashed process survived the next start: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a running App's copy was removed by another's start: %v", err)
	}
	a.Close()
	if entries, _ := os.ReadDir(filepath.Dir(filepath.Dir(filepath.Dir(live)))); len(entries) != 0 {
		t.Errorf("left in the copies folder: %v", entries)
	}
}
