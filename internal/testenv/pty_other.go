//go:build !linux

package testenv

import (
	"os"
	"testing"
)

// PTY is pty_linux.go's; elsewhere the test is skipped.
func PTY(t testing.TB) (ptmx, pts *os.File) {
	t.Helper()
	t.Skip("pseudo-terminals are opened on Linux only")
	return nil, nil
}
