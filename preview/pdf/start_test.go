package pdf_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// TestStartKeyLater starts a Renderer before its cache key is known, as
// `coffer preview` does while the passphrase unlocks the vault: given the
// key later, it starts from the sealed cache (no compilation) and renders
// as NewRenderer's does.
func TestStartKeyLater(t *testing.T) {
	want := render(t, renderer(t))
	opts := cached(t, pdf.Options{})
	key := opts.CacheKey
	opts.CacheKey = nil
	s := pdf.Start(context.Background(), opts)
	time.Sleep(100 * time.Millisecond) // the passphrase
	start := time.Now()
	r, err := s.Finish(key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Finish took %v: PDFium was compiled, not loaded from the cache", took)
	}
	if got := render(t, r); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("the renderer started with a later key draws another page")
	}
	s.Abandon() // after Finish: nothing
	if got := render(t, r); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("Abandon after Finish closed the renderer")
	}
}

// TestStartAbandon: a start whose key never comes leaves nothing behind,
// and a wrong key is refused, in the temp folder and the cache folder alike.
func TestStartAbandon(t *testing.T) {
	opts := cached(t, pdf.Options{})
	before := sealedFiles(t, opts.CacheDir)
	t.Setenv("TMPDIR", t.TempDir())
	opts.CacheKey = nil
	s := pdf.Start(context.Background(), opts)
	time.Sleep(50 * time.Millisecond)
	s.Abandon()
	if _, err := s.Finish(make([]byte, pdf.CacheKeySize)); err == nil {
		t.Error("Finish after Abandon started a renderer")
	}
	if _, err := pdf.Start(context.Background(), opts).Finish(make([]byte, 7)); err == nil {
		t.Error("a 7-byte key was taken")
	}
	left, err := os.ReadDir(os.Getenv("TMPDIR"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("left in the temp folder: %v", left)
	}
	after := sealedFiles(t, opts.CacheDir)
	if len(after) != len(before) {
		t.Errorf("the cache folder had %d files, now %d", len(before), len(after))
	}
	for name, content := range before {
		if !bytes.Equal(after[name], content) {
			t.Errorf("%s changed", name)
		}
	}
}

// BenchmarkNewRendererWarm starts a Renderer from a full sealed cache,
// with the checked file handed to wazero through a named pipe while it
// validates the module, and written to the private folder first.
func BenchmarkNewRendererWarm(b *testing.B) {
	opts := cached(b, pdf.Options{})
	for _, c := range []struct {
		name  string
		start func(context.Context, pdf.Options, func([]string), func(error)) (*pdf.Renderer, error)
	}{{"pipe", pdf.NewRendererWatched}, {"files", pdf.NewRendererWatchedFiles}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var staged []string
				r, err := c.start(context.Background(), opts, func(f []string) { staged = f }, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(staged) != 1 {
					b.Fatalf("staged %v", staged)
				}
				r.Close()
			}
		})
	}
}

// TestStartForeignFiles puts beside the sealed module a file of another
// vault's cache and a forged one in this key's folder, under names wazero
// does not look for: the start neither waits on them nor compiles, the
// forged file is deleted and the other vault's is left alone.
func TestStartForeignFiles(t *testing.T) {
	src := cached(t, pdf.Options{})
	dir := t.TempDir()
	testenv.CopyDir(t, src.CacheDir, dir)
	opts := src
	opts.CacheDir = dir
	files := sealedFiles(t, dir)
	var own string
	for n := range files {
		own = n
	}
	keyDir, _, _ := strings.Cut(own, "/")
	other := filepath.Join(dir, "v1-0123456789abcdef", "wazero-v0.0.1-amd64-linux", "feed")
	forged := filepath.Join(dir, keyDir, "wazero-v0.0.1-amd64-linux", "beef")
	for _, p := range []string{other, forged} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{7}, 100), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var staged []string
	r, err := pdf.NewRendererWatched(context.Background(), opts, func(f []string) { staged = f }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, rel, _ := strings.Cut(own, "/")
	if len(staged) != 1 || staged[0] != rel {
		t.Errorf("handed %v to wazero, want %s", staged, rel)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the start took %v", took)
	}
	if _, err := os.Stat(forged); !os.IsNotExist(err) {
		t.Errorf("the forged file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another vault's file: %v", err)
	}
}
