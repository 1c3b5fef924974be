package pdf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// sealedFiles returns the files under a cache folder, by their path
// relative to it.
func sealedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// patchCode flips 64 bytes in the middle of the native code of a module
// wazero cached (format of wazero v1.12: "WAZEVO", version, function
// offsets, code length, code, CRC-32C of the code, …) and fixes the CRC,
// as an attacker would, so that wazero's own check passes.
func patchCode(t *testing.T, cached []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(cached, []byte("WAZEVO")) {
		t.Fatalf("not a wazero cache file (starts %q): update patchCode", cached[:min(len(cached), 8)])
	}
	p := append([]byte{}, cached...)
	off := 6 + 1 + int(p[6])
	funcs := int(binary.LittleEndian.Uint32(p[off:]))
	off += 4 + 8*funcs
	codeLen := int(binary.LittleEndian.Uint64(p[off:]))
	off += 8
	if codeLen < 1<<20 || off+codeLen+4 > len(p) {
		t.Fatalf("code of %d bytes at %d in a file of %d: update patchCode", codeLen, off, len(p))
	}
	code := p[off : off+codeLen]
	for i := codeLen / 2; i < codeLen/2+64; i++ {
		code[i] ^= 0xff
	}
	binary.LittleEndian.PutUint32(p[off+codeLen:], crc32.Checksum(code, crc32.MakeTable(crc32.Castagnoli)))
	return p
}

func render(t *testing.T, r *pdf.Renderer) *image.RGBA {
	t.Helper()
	doc, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	img, err := doc.Render(context.Background(), 0, 72)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPatchedCacheIsNeverLoaded patches the compiled PDFium in a cache
// folder, fixing up wazero's CRC. A control shows wazero's own file cache
// loading such a file; the Renderer instead hands nothing to wazero,
// compiles anew, renders correctly and seals a good file in its place.
func TestPatchedCacheIsNeverLoaded(t *testing.T) {
	want := render(t, renderer(t))
	opts := cached(t, pdf.Options{})
	dir := t.TempDir()
	testenv.CopyDir(t, opts.CacheDir, dir)
	opts.CacheDir = dir
	files := sealedFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d files in the cache folder, want 1: %v", len(files), files)
	}
	var name string
	for n := range files {
		name = n
	}
	// The sealed file is a tag, then what wazero wrote; rel is its name in
	// wazero's folder.
	sealed := files[name]
	_, rel, _ := strings.Cut(name, "/")
	patched := patchCode(t, sealed[sha256.Size:])

	// Control: wazero's own file cache loads the patched code (it would run
	// at the first document): Init succeeds and leaves the file as it is,
	// where a rejected file fails Init and a missing one is rewritten.
	raw := t.TempDir()
	cache, err := wazero.NewCompilationCacheWithDir(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close(context.Background())
	if err := os.WriteFile(filepath.Join(raw, filepath.FromSlash(rel)), patched, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := webassembly.Init(webassembly.Config{MaxTotal: 1, FSConfig: pdf.SandboxFSConfig(),
		RuntimeConfig: pdf.RuntimeConfig().WithCompilationCache(cache), Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatalf("control: wazero refused the patched file: %v", err)
	}
	pool.Close()
	if got, err := os.ReadFile(filepath.Join(raw, filepath.FromSlash(rel))); err != nil || !bytes.Equal(got, patched) {
		t.Fatalf("control: wazero replaced the patched file (%v): the patch is not one it loads", err)
	}

	// The attacker cannot compute the tag: the patched code goes in with
	// the old one. Where there are named pipes (Linux) the checked file
	// reaches wazero through one; elsewhere it is written to the private
	// folder: both ways are tried.
	file := append(sealed[:sha256.Size:sha256.Size], patched...)
	for _, start := range []func(context.Context, pdf.Options, func([]string), func(error)) (*pdf.Renderer, error){
		pdf.NewRendererWatched, pdf.NewRendererWatchedFiles,
	} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), file, 0o600); err != nil {
			t.Fatal(err)
		}
		var staged []string
		r, err := start(context.Background(), opts,
			func(files []string) { staged = files },
			func(err error) {
				if err != nil {
					t.Errorf("cache: %v", err)
				}
			})
		if err != nil {
			t.Fatal(err)
		}
		if len(staged) != 0 {
			t.Errorf("handed %v to wazero", staged)
		}
		if got := render(t, r); !bytes.Equal(got.Pix, want.Pix) {
			t.Error("the renderer started from a patched cache draws another page")
		}
		r.Close()
		after := sealedFiles(t, dir)[name]
		if len(after) < sha256.Size || bytes.Equal(after, file) || bytes.Equal(after[sha256.Size:], patched) {
			t.Fatalf("after a start from the patched cache, the cache holds %d bytes, the patched code: %v", len(after), len(after) > 0)
		}
	}

	// The file sealed in its place loads, both ways.
	for _, start := range []func(context.Context, pdf.Options, func([]string), func(error)) (*pdf.Renderer, error){
		pdf.NewRendererWatched, pdf.NewRendererWatchedFiles,
	} {
		var staged []string
		r, err := start(context.Background(), opts, func(files []string) { staged = files }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(staged) != 1 || staged[0] != rel {
			t.Errorf("handed %v to wazero, want %s", staged, rel)
		}
		if got := render(t, r); !bytes.Equal(got.Pix, want.Pix) {
			t.Error("the renderer started from the resealed cache draws another page")
		}
		r.Close()
	}
}

// TestCacheOptions: a cache folder without a key of the right size is
// refused before anything is compiled, with a message that says what to
// set.
func TestCacheOptions(t *testing.T) {
	for _, opts := range []pdf.Options{
		{CacheDir: t.TempDir()},
		{CacheDir: t.TempDir(), CacheKey: make([]byte, 16)},
		{CacheKey: make([]byte, pdf.CacheKeySize)},
	} {
		r, err := pdf.NewRenderer(context.Background(), opts)
		if err == nil {
			r.Close()
			t.Errorf("dir %q and a %d-byte key: accepted", opts.CacheDir, len(opts.CacheKey))
		} else if !strings.Contains(err.Error(), "neither to compile in memory") {
			t.Errorf("dir %q and a %d-byte key: %v", opts.CacheDir, len(opts.CacheKey), err)
		}
	}
}

// TestStaleCacheFilesRemoved: once a start compiles anew (a new Coffer
// brought another PDFium or wazero), the sealed files of the one before
// are removed, both ways of handing files to wazero. Left, each would be
// read and checked at every start for nothing. (With pipes, wazero never
// opens a stale file's pipe, so it was never counted as handed over and
// stayed for good.)
func TestStaleCacheFilesRemoved(t *testing.T) {
	opts := cached(t, pdf.Options{})
	files := sealedFiles(t, opts.CacheDir)
	if len(files) != 1 {
		t.Fatalf("%d files in the cache folder, want 1: %v", len(files), files)
	}
	var name string
	for n := range files {
		name = n
	}
	keyDir, rel, _ := strings.Cut(name, "/")
	version, module, _ := strings.Cut(rel, "/")
	stale := []string{
		"wazero-v1.11.0-amd64-linux/" + module,                     // another wazero
		version + "/" + strings.Repeat("0", len(module)),           // another PDFium
		"wazero-v1.10.1-amd64-linux/sub/" + strings.Repeat("1", 8), // deeper
	}
	want := render(t, renderer(t))
	for _, start := range []func(context.Context, pdf.Options, func([]string), func(error)) (*pdf.Renderer, error){
		pdf.NewRendererWatched, pdf.NewRendererWatchedFiles,
	} {
		dir := t.TempDir()
		opts := opts
		opts.CacheDir = dir
		for _, s := range stale { // and not this PDFium's: it compiles anew
			if err := pdf.SealCacheFile(dir, opts.CacheKey, s, files[name][sha256.Size:]); err != nil {
				t.Fatal(err)
			}
		}
		r, err := start(context.Background(), opts, nil, func(err error) {
			if err != nil {
				t.Errorf("cache: %v", err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(t, r); !bytes.Equal(got.Pix, want.Pix) {
			t.Error("the renderer draws another page")
		}
		r.Close()
		after := sealedFiles(t, dir)
		if _, ok := after[name]; !ok || len(after) != 1 {
			names := make([]string, 0, len(after))
			for n := range after {
				names = append(names, n)
			}
			t.Errorf("after compiling anew the cache holds %v, want only %s", names, name)
		}
		if _, err := os.Stat(filepath.Join(dir, keyDir, "wazero-v1.10.1-amd64-linux")); err == nil {
			t.Error("an emptied folder of the stale cache is left")
		}
	}
}
