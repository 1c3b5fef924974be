package inbox_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// swapForLink puts a link to target where the folder dir is, in one
// step (renameat2 RENAME_EXCHANGE), and the folder out of the way.
func swapForLink(t *testing.T, dir, target string) {
	t.Helper()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, link, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE); err != nil {
		t.Fatalf("exchanging %s for a link: %v", dir, err)
	}
}
