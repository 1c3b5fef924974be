package cli_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImportProcsDoNotCompound: import runs twice as many goroutines at
// once as the default (its workers block in direct writes), set from the
// default each time, so a process that imports again and again (these
// tests call Main over and over) does not double it each time.
func TestImportProcsDoNotCompound(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set: import leaves it alone")
	}
	t.Cleanup(runtime.SetDefaultGOMAXPROCS)
	dir := newVault(t)
	file := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(file, []byte("a note"), 0o600); err != nil {
		t.Fatal(err)
	}
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	for i := range 3 {
		ok(t, "import", "--vault", dir, "--folder", "Internal", file)
		if got := runtime.GOMAXPROCS(0); got != 2*def {
			t.Fatalf("after import %d GOMAXPROCS is %d, want %d (twice the default)", i+1, got, 2*def)
		}
	}
}

// Two files whose names differ only in how an accent is written ("café"
// composed, and "cafe" with a combining accent) are one document: the
// second import says so, instead of a silent "version 2".
func TestImportSaysWhenNamesAreOne(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	composed, decomposed := filepath.Join(src, "caf\u00e9.txt"), filepath.Join(src, "cafe\u0301.txt")
	for _, p := range []string{composed, decomposed} {
		if err := os.WriteFile(p, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out := ok(t, "import", "--vault", dir, "--folder", "Internal", composed); strings.Contains(out, "written another way") {
		t.Errorf("the first import: %q", out)
	}
	out := ok(t, "import", "--vault", dir, "--folder", "Internal", decomposed)
	if !strings.Contains(out, "version 2") || !strings.Contains(out, "written another way") {
		t.Errorf("the second import: %q", out)
	}
}
