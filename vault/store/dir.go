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
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

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

	bufs     chan *ioBuf // PutFunc's buffers, kept for reuse
	noDirect atomic.Bool // the file system refused O_DIRECT

	readOnly bool    // opened for reading only: every write fails
	w        writers // who is writing, for Reclaim (writers.go)
}

// DirOptions tune OpenDirWith.
type DirOptions struct {
	// Locks is the folder of the lock files that let writers of several
	// processes share the store with Reclaim (writers.go); without it
	// only this process's writers are known.
	Locks string
	// ReadOnly opens the store for reading only, on storage that cannot be
	// written: nothing is created or cleaned up, and writes fail.
	ReadOnly bool
}

// staleTemp is how old a temp file must be before OpenDir removes it as
// left behind by an interrupted Put. A live Put (in this or another
// process sharing the vault) keeps its temp file for the time it takes to
// write one object, so a file this old belongs to no live writer.
const staleTemp = time.Hour

// OpenDir opens (creating if needed) a Dir store at root and removes temp
// files an interrupted Put left behind, never those of a live writer.
func OpenDir(root string) (*Dir, error) { return OpenDirWith(root, DirOptions{}) }

// OpenDirWith is OpenDir with options.
func OpenDirWith(root string, o DirOptions) (*Dir, error) {
	d := &Dir{root: root, dirty: map[string]bool{}, made: map[string]bool{}, bufs: make(chan *ioBuf, keptBufs),
		readOnly: o.ReadOnly, w: writers{locks: o.Locks}}
	if o.ReadOnly {
		if _, err := os.Stat(root); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return d, nil
	}
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

// PutFunc stores under h the bytes write writes; it is Put in every other
// respect (atomic, durable at the next Sync). If write fails, nothing is
// stored.
//
// The bytes are gathered in a buffer aligned for direct I/O. An object
// that outgrows it, or ends at least directMin long, goes to its file with
// O_DIRECT where the system has it (Linux): the data moves from the buffer
// to the disk without a copy into the page cache, without the kernel
// allocating a page per 4 KiB of it and without writeback work later, and
// a large import does not push everything else out of the page cache. Only
// the tail that does not fill an aligned block goes through the page
// cache. Smaller objects, and file systems that refuse O_DIRECT, are
// written through the page cache, with writeback started at once. Either
// way it is the next Sync's syncfs(2) that makes them durable (the inode,
// its size and extents, the tail, and the disk's own write cache).
func (d *Dir) PutFunc(ctx context.Context, h Handle, write func(w io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The temp file is this writer's until it is renamed: Reclaim does
	// not run meanwhile.
	release, err := d.Hold(ctx)
	if err != nil {
		return err
	}
	defer release(false)
	dst := d.Path(h)
	if err := d.mkdirs(filepath.Dir(dst)); err != nil {
		return err
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	ib := d.getBuf()
	w := &objectWriter{d: d, tmp: filepath.Join(d.tmpDir(), hex.EncodeToString(rnd[:])), buf: ib.b[:0]}
	err = write(w)
	if err == nil {
		err = w.finish()
	}
	w.buf = nil
	d.putBuf(ib)
	if w.f != nil {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(w.tmp, dst)
	}
	if err != nil {
		if w.f != nil {
			_ = os.Remove(w.tmp)
		}
		return fmt.Errorf("store: put %v: %w", h, err)
	}
	d.mu.Lock()
	d.dirty[filepath.Dir(dst)] = true
	d.pending = append(d.pending, dst)
	d.mu.Unlock()
	return nil
}

const (
	// objectBuf is the size of PutFunc's buffer: a whole chunk (1-1.5 MiB
	// typically) goes to disk in one write.
	objectBuf = 2 << 20
	// directMin is the size from which an object is written with O_DIRECT.
	directMin = 256 << 10
	// keptBufs is how many buffers a Dir keeps for reuse: at least one
	// per import worker (two per processor, up to 8 processors), since
	// a buffer made and dropped for every chunk costs a fresh mapping's
	// page faults and, at its unmapping, a TLB shootdown on every core.
	// More are made when needed and dropped after use. They are made only
	// when needed, so a Dir that never writes this much at once never has
	// them all.
	keptBufs = 16
)

// ioBuf is a buffer aligned for direct I/O and the function that frees it
// (nil for one the garbage collector frees).
type ioBuf struct {
	b    []byte
	free func()
}

func (d *Dir) getBuf() *ioBuf {
	select {
	case b := <-d.bufs:
		return b
	default:
		return newIOBuf(objectBuf)
	}
}

func (d *Dir) putBuf(b *ioBuf) {
	select {
	case d.bufs <- b:
	default:
		if b.free != nil {
			b.free()
		}
	}
}

// alignedBuf returns an empty slice of capacity size, on the Go heap, whose
// start is aligned for direct I/O.
func alignedBuf(size int) []byte {
	b := make([]byte, size+directAlign)
	off := int(uintptr(unsafe.Pointer(&b[0])) % directAlign)
	if off != 0 {
		off = directAlign - off
	}
	return b[off : off : off+size]
}

// objectWriter gathers an object's bytes in buf and writes them to the temp
// file, which it creates when the first bytes must go out.
type objectWriter struct {
	d      *Dir
	tmp    string
	f      *os.File
	direct bool // f is open with O_DIRECT
	buf    []byte
	err    error
}

func (w *objectWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := len(p)
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			// A full buffer is a whole number of aligned blocks.
			if w.err = w.open(true); w.err == nil {
				w.err = w.out(w.buf)
			}
			if w.err != nil {
				return 0, w.err
			}
			w.buf = w.buf[:0]
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
	}
	return total, nil
}

// finish writes what is left: the aligned part directly, the tail through
// the page cache.
func (w *objectWriter) finish() error {
	if w.err != nil {
		return w.err
	}
	if err := w.open(len(w.buf) >= directMin); err != nil {
		return err
	}
	rest := w.buf
	if w.direct {
		aligned := len(rest) &^ (directAlign - 1)
		if err := w.out(rest[:aligned]); err != nil {
			return err
		}
		rest = rest[aligned:]
		if len(rest) > 0 && w.direct {
			if err := setDirect(w.f, false); err != nil {
				return err
			}
			w.direct = false
		}
	}
	if len(rest) > 0 {
		if _, err := w.f.Write(rest); err != nil {
			return err
		}
		startWriteback(w.f)
	}
	return nil
}

// open creates the temp file if it is not open yet, with O_DIRECT if
// direct is set and the store's file system takes it.
func (w *objectWriter) open(direct bool) error {
	if w.f != nil {
		return nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if direct && directIO != 0 && !w.d.noDirect.Load() {
		f, err := os.OpenFile(w.tmp, flags|directIO, 0o600)
		if err == nil {
			w.f, w.direct = f, true
			return nil
		}
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		w.d.noDirect.Store(true)
	}
	f, err := os.OpenFile(w.tmp, flags, 0o600)
	if err != nil {
		return err
	}
	w.f = f
	return nil
}

// out writes p, a whole number of aligned blocks, to the file. If the file
// system took O_DIRECT at open but refuses the write, this file and the
// store's next ones go through the page cache.
func (w *objectWriter) out(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := w.f.Write(p)
	if err != nil && w.direct && errors.Is(err, syscall.EINVAL) {
		w.d.noDirect.Store(true)
		if err = setDirect(w.f, false); err == nil {
			w.direct = false
			_, err = w.f.Write(p)
		}
	}
	return err
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
	if d.readOnly {
		return fmt.Errorf("store: %w", errReadOnly)
	}
	err := os.Remove(d.Path(h))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	d.markDirty(filepath.Dir(d.Path(h)))
	return nil
}

// Sync implements Store.
func (d *Dir) Sync(ctx context.Context) error {
	if d.readOnly {
		return nil // nothing was written
	}
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
