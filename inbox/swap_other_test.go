//go:build !linux

package inbox_test

import (
	"os"
	"path/filepath"
	"testing"
)

// swapForLink puts a link to target where the folder dir is (in two
// steps: only Linux exchanges names in one), and the folder out of the
// way.
func swapForLink(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, filepath.Join(t.TempDir(), "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
}
