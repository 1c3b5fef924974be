package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coffer-vault/coffer/vault/object"
)

// Dir stores objects as files below a folder:
//
//	ROOT/<kind>/<first two hex digits of ID>/<ID in hex>
//
// Files are written to ROOT/tmp with mode 0600 and renamed into place;
// directories are 0700. Put does not fsync: Sync makes every Put durable at
// once (one syncfs(2) on Linux, else an fsync per file and directory), which
// is what lets an import write thousands of chunks at disk speed. Until
// Sync returns, a crash may leave a put object empty or partial; callers
// never refer to an object before Sync, and a later Put of the same handle
// rewrites it.
type Dir struct {
	root string

	mu      sync.Mutex
	dirty   map[string]bool // directories whose entries changed since the last Sync
	pending []string        // files put since the last Sync
	made    map[string]bool // directories known to exist
}

// staleTemp is how old a temp file must be before OpenDir removes it as
// left behind by an interrupted Put. A live Put (in this or another
// process sharing the vault) keeps its temp file for the time it takes to
// write one object, so a file this old belongs to no live writer.
const staleTemp = time.Hour

// OpenDir opens (creating if needed) a Dir store at root and removes temp
// files an interrupted Put left behind, never those of a live writer.
func OpenDir(root string) (*Dir, error) {
	d := &Dir{root: root, dirty: map[string]bool{}, made: map[string]bool{}}
	if err := os.MkdirAll(d.tmpDir(), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	entries, err := os.ReadDir(d.tmpDir())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(d.tmpDir(), e.Name()))
		}
	}
	return d, nil
}

func (d *Dir) tmpDir() string { return filepath.Join(d.root, "tmp") }

// Path returns the file that holds h. Tests use it to damage objects.
func (d *Dir) Path(h Handle) string {
	s := h.ID.String()
	return filepath.Join(d.root, h.Kind.String(), s[:2], s)
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, h Handle, data []byte) error {
	return d.PutFunc(ctx, h, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// PutFunc stores under h the bytes write writes, streaming them to the
// object's file instead of holding them in memory; it is Put in every
// other respect (atomic, durable at the next Sync). Large writes go to the
// file as they are; small ones are gathered first, so a writer may emit a
// header piece by piece. If write fails, nothing is stored.
func (d *Dir) PutFunc(ctx context.Context, h Handle, write func(w io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := d.Path(h)
	if err := d.mkdirs(filepath.Dir(dst)); err != nil {
		return err
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(d.tmpDir(), hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: put %v: %w", h, err)
	}
	fw := fileWriterPool.Get().(*fileWriter)
	fw.f = f
	err = write(fw)
	if err == nil {
		err = fw.flush()
	}
	fw.f, fw.buf, fw.err = nil, fw.buf[:0], nil
	fileWriterPool.Put(fw)
	if err == nil {
		startWriteback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: put %v: %w", h, err)
	}
	d.mu.Lock()
	d.dirty[filepath.Dir(dst)] = true
	d.pending = append(d.pending, dst)
	d.mu.Unlock()
	return nil
}

// fileWriter writes to an object's file: a write of at least half its
// buffer goes straight to the file (after what is gathered), smaller ones
// are gathered. Encrypting a chunk so costs one write(2) per 64 KiB age
// block and no copy of the ciphertext in memory.
type fileWriter struct {
	f   *os.File
	buf []byte
	err error
}

const fileWriterBuf = 16 << 10

var fileWriterPool = sync.Pool{New: func() any { return &fileWriter{buf: make([]byte, 0, fileWriterBuf)} }}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(w.buf)+len(p) <= cap(w.buf) {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	if len(p) < cap(w.buf)/2 {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *fileWriter) flush() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, w.err = w.f.Write(w.buf)
	w.buf = w.buf[:0]
	return w.err
}

func (d *Dir) mkdirs(dir string) error {
	d.mu.Lock()
	made := d.made[dir]
	d.mu.Unlock()
	if made {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		d.mu.Lock()
		d.made[dir] = true
		d.mu.Unlock()
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != d.root {
		if err := d.mkdirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: %w", err)
	}
	d.mu.Lock()
	d.made[dir] = true
	d.mu.Unlock()
	d.markDirty(parent)
	return nil
}

func (d *Dir) markDirty(dir string) {
	d.mu.Lock()
	d.dirty[dir] = true
	d.mu.Unlock()
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, h Handle) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, st, err := OpenRegular(d.Path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: %v: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if st.Size() > object.MaxSize {
		return nil, fmt.Errorf("store: %v is %d bytes, over the %d-byte object limit", h, st.Size(), object.MaxSize)
	}
	buf := make([]byte, st.Size())
	if _, err := readFull(f, buf); err != nil {
		return nil, fmt.Errorf("store: get %v: %w", h, err)
	}
	return buf, nil
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Stat implements Store.
func (d *Dir) Stat(ctx context.Context, h Handle) (int64, error) {
	st, err := os.Stat(d.Path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("store: %v: %w", h, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return st.Size(), nil
}

// List implements Store. Files whose names are not IDs are skipped.
func (d *Dir) List(ctx context.Context, kind object.Kind, fn func(object.ID, int64) error) error {
	top := filepath.Join(d.root, kind.String())
	subs, err := os.ReadDir(top)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(top, sub.Name()))
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			// Anything named like an object is listed, so that a pipe or
			// device planted at an object path is reported by Get, not
			// silently passed over.
			id, err := object.ParseID(f.Name())
			if err != nil || f.IsDir() {
				continue
			}
			info, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if err := fn(id, info.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove implements Store.
func (d *Dir) Remove(ctx context.Context, h Handle) error {
	err := os.Remove(d.Path(h))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	d.markDirty(filepath.Dir(d.Path(h)))
	return nil
}

// Sync implements Store.
func (d *Dir) Sync(ctx context.Context) error {
	d.mu.Lock()
	dirs, files := d.dirty, d.pending
	d.dirty, d.pending = map[string]bool{}, nil
	d.mu.Unlock()
	err := syncAll(d.root, files, dirs)
	if err != nil {
		d.mu.Lock()
		for dir := range dirs {
			d.dirty[dir] = true
		}
		d.pending = append(d.pending, files...)
		d.mu.Unlock()
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}

// SyncObjects makes objects durable that another process may have put
// without syncing yet: an fsync of each file and of its directory.
func (d *Dir) SyncObjects(ctx context.Context, hs []Handle) error {
	if len(hs) == 0 {
		return nil
	}
	files := make([]string, len(hs))
	dirs := map[string]bool{}
	for i, h := range hs {
		files[i] = d.Path(h)
		dirs[filepath.Dir(files[i])] = true
	}
	if err := syncAll(d.root, files, dirs); err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}

// syncFiles fsyncs each file and then each directory: the portable way.
func syncFiles(files []string, dirs map[string]bool) error {
	for _, p := range files {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since
		}
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	for dir := range dirs {
		if err := SyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}
