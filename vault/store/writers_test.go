package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// twoProcesses opens one store twice, as two processes would: each has its
// own lock files' descriptors and its own holds.
// The objects are in ROOT/objects, the lock files in ROOT/locks.
func twoProcesses(t *testing.T) (a, b *store.Dir, root string) {
	t.Helper()
	root = t.TempDir()
	locks := filepath.Join(root, "locks")
	open := func() *store.Dir {
		d, err := store.OpenDirWith(filepath.Join(root, "objects"), store.DirOptions{Locks: locks})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return open(), open(), root
}

func markCount(t *testing.T, root string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, "locks", "writer-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func TestReclaimWaitsForWriters(t *testing.T) {
	ctx := context.Background()
	a, b, root := twoProcesses(t)
	h := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}

	// A put on its own holds the store for its length only.
	if err := a.Put(ctx, h, []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	if n := markCount(t, root); n != 0 || b.Marked() {
		t.Fatalf("%d marks after a put that ended", n)
	}

	release, err := a.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Marked() || a.Marked() {
		t.Errorf("Marked: %v in the other process, %v in the holder's own", b.Marked(), a.Marked())
	}
	ran := false
	leftovers := func(context.Context) ([]store.Handle, error) { ran = true; return []store.Handle{h}, nil }
	if _, err := b.Reclaim(ctx, 0, leftovers); !errors.Is(err, store.ErrBusy) || ran {
		t.Fatalf("reclaim while another process holds: %v (ran %v), want ErrBusy", err, ran)
	}
	if err := a.Exclusive(ctx, 0, func() error { return nil }); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("exclusive while the same process holds: %v, want ErrBusy", err)
	}
	// A second hold in the same process nests; the store is free again
	// when both end.
	inner, err := a.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inner(false)
	go func() {
		time.Sleep(50 * time.Millisecond)
		release(true) // failed: may have left h
	}()
	start := time.Now()
	r, err := b.Reclaim(ctx, 5*time.Second, leftovers)
	if err != nil || !ran || r.Objects != 1 {
		t.Fatalf("reclaim once the writer let go: %+v, %v", r, err)
	}
	if time.Since(start) < 40*time.Millisecond {
		t.Error("reclaim did not wait for the writer")
	}
	if _, err := os.Stat(a.Path(h)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover is still there: %v", err)
	}
	if n := markCount(t, root); n != 0 {
		t.Errorf("%d marks after reclaim", n)
	}
}

func TestFailedHoldLeavesItsMark(t *testing.T) {
	ctx := context.Background()
	a, b, root := twoProcesses(t)
	release, err := a.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release(true)
	release(false) // a second call does nothing
	if n := markCount(t, root); n != 1 || !b.Marked() || !a.Marked() {
		t.Fatalf("%d marks after a failed hold, Marked %v/%v", n, a.Marked(), b.Marked())
	}
	tmp := filepath.Join(root, "objects", "tmp", "0011223344556677889900aa")
	if err := os.WriteFile(tmp, []byte("half an object"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := a.Reclaim(ctx, 0, func(context.Context) ([]store.Handle, error) { return nil, nil })
	if err != nil || r.Temp != 1 {
		t.Fatalf("reclaim: %+v, %v", r, err)
	}
	if n := markCount(t, root); n != 0 || b.Marked() {
		t.Errorf("%d marks after reclaim", n)
	}
}

func TestReadOnlyDirRefusesWrites(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := store.OpenDirWith(root, store.DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	h := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}
	if err := d.Put(ctx, h, []byte("x")); err == nil {
		t.Error("put on a read-only store")
	}
	if err := d.Remove(ctx, h); err == nil {
		t.Error("remove on a read-only store")
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a read-only store wrote %v", entries)
	}
}
