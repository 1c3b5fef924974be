package client

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// TestJoinedErrorsOnOneLine: joined errors read on one line (a terminal
// shows a line break spelt out), and each can still be told apart.
func TestJoinedErrorsOnOneLine(t *testing.T) {
	err := joinErrors(nil, fs.ErrNotExist, nil, fs.ErrPermission)
	if strings.Contains(err.Error(), "\n") || err.Error() != "file does not exist; permission denied" {
		t.Errorf("joined: %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, fs.ErrPermission) {
		t.Error("a joined error is lost")
	}
	if joinErrors(nil, nil) != nil || joinErrors(fs.ErrClosed) != fs.ErrClosed {
		t.Error("none joined is nil; one is itself")
	}
}
