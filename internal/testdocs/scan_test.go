package testdocs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestScanFileSkipsPipes: a name that became a named pipe between the
// listing and the read (another test planted it) is skipped at once, not
// waited on forever; a regular file beside it is read.
func TestScanFileSkipsPipes(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "chunk")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	plain := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(plain, []byte("a NEEDLE here"), 0o600); err != nil {
		t.Fatal(err)
	}
	sw := &Watch{needles: [][]byte{[]byte("NEEDLE")}, hits: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.scanFile(pipe)
		sw.scanFile(plain)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Let the blocked open go, so the test binary can end.
		if w, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("scanFile waits on a named pipe")
	}
	if sw.seen != 1 || !sw.hits[plain] || len(sw.hits) != 1 {
		t.Errorf("read %d files, hits %v; want only %s", sw.seen, sw.hits, plain)
	}
}
