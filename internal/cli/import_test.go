package cli_test

import (
	"os"
	"path/filepath"
	"runtime"
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
