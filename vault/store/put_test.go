package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// TestPutFuncSizes writes objects of every size that matters to how
// PutFunc writes (empty, around the direct-I/O block, the direct-I/O
// threshold and the buffer size, and larger than the buffer) in pieces of
// random sizes, and reads them back; on the file system of the test's
// temp dir and, where there is one, on tmpfs.
func TestPutFuncSizes(t *testing.T) {
	roots := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "coffer-store-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			roots = append(roots, dir)
		}
	}
	data := make([]byte, 5<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for _, root := range roots {
		s, err := store.OpenDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 4095, 4096, 4097, 256<<10 - 1, 256 << 10, 256<<10 + 1,
			2<<20 - 1, 2 << 20, 2<<20 + 1, 4<<20 + 4095, 5 << 20} {
			h := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}
			err := s.PutFunc(ctx, h, func(w io.Writer) error {
				for p := data[:n]; len(p) > 0; {
					k := min(len(p), 1+rng.IntN(200<<10))
					if _, err := w.Write(p[:k]); err != nil {
						return err
					}
					p = p[k:]
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: put %d bytes: %v", root, n, err)
			}
			got, err := s.Get(ctx, h)
			if err != nil || !bytes.Equal(got, data[:n]) {
				t.Fatalf("%s: put %d bytes, read back %d: %v", root, n, len(got), err)
			}
			if st, err := os.Stat(s.Path(h)); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: object mode %v, %v", root, st.Mode(), err)
			}
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		// A failing writer stores nothing and leaves no temp file.
		boom := errors.New("boom")
		for _, n := range []int{10, 3 << 20} {
			h := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}
			err := s.PutFunc(ctx, h, func(w io.Writer) error {
				if _, err := w.Write(data[:n]); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("%s: error %v, want boom", root, err)
			}
			if _, err := s.Get(ctx, h); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: a failed put was stored: %v", root, err)
			}
		}
		if tmp, _ := os.ReadDir(filepath.Join(root, "tmp")); len(tmp) != 0 {
			t.Fatalf("%s: temp files left: %v", root, tmp)
		}
	}
}
