package app_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
)

// TestMain lets a test run this binary as a child that makes a copy for
// another application and dies without closing: a crash.
func TestMain(m *testing.M) {
	if dir := os.Getenv("COFFER_TEST_CRASH_WITH_COPY"); dir != "" {
		a, err := app.Open(context.Background(), dir, pass)
		if err == nil {
			var c *app.OpenedCopy
			if c, err = a.OpenCopy(context.Background(), policy.OpenExternal, "Lobby", "note.txt", launched); err == nil {
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
	liveCopy, err := a.OpenCopy(ctx, policy.OpenExternal, "Lobby", "note.txt", launched)
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

// launched stands in for the default application: it opens the copy at
// once, without a word.
func launched(string) error { return nil }

// TestOpenCopyRecordsWhatHappened: with no xdg-open on the PATH, the copy
// handed to the default application opens nowhere; the audit trail says
// failed, with the reason, not ok, and the copy is gone. A launch that
// works is recorded ok with its trace code, after it started.
func TestOpenCopyRecordsWhatHappened(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // an empty folder: no xdg-open
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Lobby", policy.Internal); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Lobby", "note.txt", strings.NewReader("an internal note\n"), nil); err != nil {
		t.Fatal(err)
	}
	var handed string
	xdgOpen := func(path string) error {
		handed = path
		return exec.Command("xdg-open", path).Start()
	}
	_, err := a.OpenCopy(ctx, policy.OpenExternal, "Lobby", "note.txt", xdgOpen)
	if !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("open without xdg-open: %v; want exec.ErrNotFound", err)
	}
	if _, serr := os.Stat(handed); handed == "" || !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("the copy %q that opened nowhere is still there: %v", handed, serr)
	}
	var started []string
	if _, err := a.OpenCopy(ctx, policy.Print, "Lobby", "note.txt", func(path string) error {
		log, err := a.AuditLog(ctx)
		if err != nil {
			return err
		}
		for _, e := range log.Events {
			if e.Action == audit.Action(policy.Print) {
				started = append(started, "a print recorded before the application started")
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if started != nil {
		t.Error(started[0])
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log.Events {
		if e.Action == audit.Action(policy.OpenExternal) || e.Action == audit.Action(policy.Print) {
			got = append(got, fmt.Sprintf("%s %s trace=%v", e.Action, e.Outcome, e.Trace != ""))
			if e.Outcome == audit.Failed && !strings.Contains(e.Reason, "xdg-open") {
				t.Errorf("the failure's reason does not name xdg-open: %q", e.Reason)
			}
		}
	}
	if want := "[open-external failed trace=false print ok trace=true]"; fmt.Sprint(got) != want {
		t.Errorf("audit: %v, want %s", got, want)
	}
}
