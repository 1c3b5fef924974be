package vault

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// TestLockHeldTooLong: a lock another process keeps (stopped with Ctrl-Z,
// hung) is waited for, then refused with a message that says what to do;
// every other command used to wait for ever, saying nothing. Once let go,
// it is taken.
func TestLockHeldTooLong(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockFile(dir, "unlock")
	if err != nil {
		t.Fatal(err)
	}
	// Another open file description of the lock: as another process's.
	other := flock.New(filepath.Join(dir, locksDir, "unlock"))
	if ok, err := other.TryLock(); ok || err != nil {
		t.Fatalf("the lock was taken twice (%v, %v)", ok, err)
	}
	start := time.Now()
	_, err = lockFileWait(dir, "unlock", 200*time.Millisecond)
	if !errors.Is(err, ErrLockHeld) || !strings.Contains(err.Error(), "Ctrl-Z") {
		t.Fatalf("a held lock: %v", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the wait", waited)
	}
	unlock()
	again, err := lockFileWait(dir, "unlock", 200*time.Millisecond)
	if err != nil {
		t.Fatalf("a lock let go: %v", err)
	}
	again()
}
