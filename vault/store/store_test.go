package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// testStore is the conformance suite every Store implementation passes.
func testStore(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := store.Handle{Kind: object.KindManifest, ID: object.NewRandomID()}
	if _, err := s.Get(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of a missing object: %v", err)
	}
	if _, err := s.Stat(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stat of a missing object: %v", err)
	}
	data := bytes.Repeat([]byte("ciphertext"), 1000)
	if err := s.Put(ctx, h, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, h, data); err != nil {
		t.Fatalf("second put of the same object: %v", err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if n, err := s.Stat(ctx, h); err != nil || n != int64(len(data)) {
		t.Fatalf("stat: %d, %v", n, err)
	}
	other := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}
	if err := s.Put(ctx, other, []byte("x")); err != nil {
		t.Fatal(err)
	}
	var listed []object.ID
	if err := s.List(ctx, object.KindManifest, func(id object.ID, size int64) error {
		listed = append(listed, id)
		if size != int64(len(data)) {
			t.Errorf("listed size %d", size)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != h.ID {
		t.Fatalf("list of manifests: %v", listed)
	}
	stop := errors.New("stop")
	if err := s.List(ctx, object.KindChunk, func(object.ID, int64) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("list does not return fn's error: %v", err)
	}
	if err := s.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, h); err != nil {
		t.Fatalf("removing a missing object: %v", err)
	}
	if _, err := s.Get(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after remove: %v", err)
	}
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	s, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	// Objects are private to the user.
	h := store.Handle{Kind: object.KindFolder, ID: object.NewRandomID()}
	if err := s.Put(context.Background(), h, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(s.Path(h))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("object mode %v, %v", st.Mode(), err)
	}
	dirSt, err := os.Stat(filepath.Dir(s.Path(h)))
	if err != nil || dirSt.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v", dirSt.Mode(), err)
	}
}

// TestDirRemovesInterruptedPuts: opening the store removes temp files an
// interrupted Put left long ago, and never the temp file of a live writer
// (another process importing into the same vault).
func TestDirRemovesInterruptedPuts(t *testing.T) {
	root := t.TempDir()
	if _, err := store.OpenDir(root); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(root, "tmp", "half-written")
	live := filepath.Join(root, "tmp", "being-written")
	for _, p := range []string{leftover, live} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(leftover, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenDir(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an old temp file survived reopening: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("a live writer's temp file was removed: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := store.WriteFileAtomic(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Fatalf("read %q", b)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
}
