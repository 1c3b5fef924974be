//go:build unix

package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
)

// TestExportSweepsKilledExportsLeftovers: an export killed half-way left
// its hidden temporary copy beside the destination, where nothing removed
// it. The next export there removes such a file of a process that is
// gone, and leaves alone the one a live export is writing.
func TestExportSweepsKilledExportsLeftovers(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Notes", policy.Public); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Notes", "plan.txt", bytes.NewReader([]byte("the plan")), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dead := filepath.Join(dir, ".coffer-export-123456")
	if err := os.WriteFile(dead, []byte("half of a plaintext copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, ".coffer-export-654321")
	f, err := os.OpenFile(live, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil { // as a live export holds it
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour) // left an hour ago
	for _, p := range []string{dead, live} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// Named like one, but not as os.CreateTemp names them; and one
	// written a moment ago (an export that has not taken its lock yet).
	other := filepath.Join(dir, ".coffer-export-notes.md")
	recent := filepath.Join(dir, ".coffer-export-777")
	if err := os.WriteFile(recent, []byte("being written"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(other, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Export(ctx, "Notes", "plan.txt", filepath.Join(dir, "plan.txt"), app.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dead); !os.IsNotExist(err) {
		t.Errorf("the killed export's leftover is still there: %v", err)
	}
	for _, p := range []string{live, other, recent, filepath.Join(dir, "plan.txt")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}

// TestConcurrentExportsIntoOneFolder: exports running at once into one
// folder never take each other's temporary files (the sweep must not see
// a live one as left over, before its lock or after its file is closed).
func TestConcurrentExportsIntoOneFolder(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Notes", policy.Public); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Import(ctx, "Notes", "plan.txt", bytes.NewReader(bytes.Repeat([]byte("the plan "), 1<<16)), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			_, err := a.Export(ctx, "Notes", "plan.txt", filepath.Join(dir, fmt.Sprintf("plan-%d.txt", i)), app.ExportOptions{})
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
