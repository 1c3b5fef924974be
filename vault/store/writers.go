package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// Writers and leftovers.
//
// A writer puts objects first and records them (in the vault's index)
// after: until then nothing names them, and they look exactly like what a
// writer that failed or was killed leaves behind. Telling the two apart by
// age would remove a slow writer's objects; so a writer holds the store
// instead (Hold) from its first Put until its objects are recorded, and
// leftovers are removed only while nobody holds it (Reclaim):
//
//   - LOCKS/objects is locked shared by every process that holds the store
//     (the first hold of a process takes it, the last releases it), and
//     exclusively by Reclaim. While Reclaim runs, no writer anywhere is
//     between putting and recording, so what no record names is left over.
//   - LOCKS/writer-<random> exists while a process holds the store. A holder
//     that ends cleanly removes it; one that is killed, or that failed and
//     may have left objects, does not. A mark seen by Reclaim belongs to a
//     writer that is gone (live ones hold the lock it waits for), so marks
//     say cheaply whether a Reclaim has work to do (Marked).
//
// Every PutFunc holds the store for its own length, so a temp file is never
// taken for a leftover. Objects stay protected from their Put until their
// record only if the caller holds the store across both.

// ErrBusy is returned by Reclaim when writers hold the store and did not
// let go within the wait.
var ErrBusy = errors.New("another Coffer process is writing into the vault")

const (
	objectsLock = "objects"
	markPrefix  = "writer-"
)

// writers is a Dir's share of the protocol above.
type writers struct {
	locks string // the folder of lock files; "" for a store without them (tests)

	rw    sync.RWMutex // holds (read) against Reclaim (write) within this process
	mu    sync.Mutex   // guards what follows
	n     int          // holds in this process
	lock  *flock.Flock // LOCKS/objects, locked shared while n > 0
	mark  string       // this process's mark while n > 0
	dirty bool         // a hold that ends now may have left objects
}

// Hold registers the caller as a writer until release: objects it puts are
// not taken for leftovers before it has recorded them. release(dirty) ends
// it; dirty says the writer failed and may have left objects behind, which
// the next Reclaim removes. Holds nest and may overlap.
func (d *Dir) Hold(ctx context.Context) (release func(dirty bool), err error) {
	if d.readOnly {
		return nil, fmt.Errorf("store: %w", errReadOnly)
	}
	w := &d.w
	w.rw.RLock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 && w.locks != "" {
		if err := w.acquire(ctx); err != nil {
			w.rw.RUnlock()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	w.n++
	var once sync.Once
	return func(dirty bool) { once.Do(func() { w.release(dirty) }) }, nil
}

// errReadOnly is returned by the writes of a store opened read-only.
var errReadOnly = &fs.PathError{Op: "write", Path: "objects", Err: syscall.EROFS}

// acquire takes the shared lock and makes this process's mark.
func (w *writers) acquire(ctx context.Context) error {
	if err := os.MkdirAll(w.locks, 0o700); err != nil {
		return err
	}
	l := flock.New(filepath.Join(w.locks, objectsLock), flock.SetPermissions(0o600))
	if _, err := l.TryRLockContext(ctx, 10*time.Millisecond); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	mark := filepath.Join(w.locks, markPrefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(mark, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		_ = l.Unlock()
		return err
	}
	f.Close()
	w.lock, w.mark = l, mark
	return nil
}

func (w *writers) release(dirty bool) {
	w.mu.Lock()
	w.dirty = w.dirty || dirty
	w.n--
	if w.n == 0 && w.lock != nil {
		if !w.dirty {
			_ = os.Remove(w.mark)
		}
		// A dirty mark stays behind for Reclaim; this process's next
		// hold makes a new one.
		_ = w.lock.Unlock()
		w.lock, w.mark, w.dirty = nil, "", false
	}
	w.mu.Unlock()
	w.rw.RUnlock()
}

// Marked reports whether a writer that is gone may have left objects: a
// mark is on disk that no hold of this process made. (A mark of a live
// writer in another process looks the same; Reclaim finds out.)
func (d *Dir) Marked() bool {
	if d.w.locks == "" {
		return false
	}
	entries, err := os.ReadDir(d.w.locks)
	if err != nil {
		return false
	}
	d.w.mu.Lock()
	own := filepath.Base(d.w.mark)
	d.w.mu.Unlock()
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), markPrefix) && e.Name() != own {
			return true
		}
	}
	return false
}

// Exclusive runs fn while no writer holds the store, in this process or
// another. It waits up to wait for them to let go (0: only if none holds
// it now) and returns an error wrapping ErrBusy otherwise.
func (d *Dir) Exclusive(ctx context.Context, wait time.Duration, fn func() error) error {
	if d.readOnly {
		return fmt.Errorf("store: %w", errReadOnly)
	}
	w := &d.w
	deadline := time.Now().Add(wait)
	for !w.rw.TryLock() {
		if err := pause(ctx, deadline); err != nil {
			return err
		}
	}
	defer w.rw.Unlock()
	if w.locks != "" {
		if err := os.MkdirAll(w.locks, 0o700); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		l := flock.New(filepath.Join(w.locks, objectsLock), flock.SetPermissions(0o600))
		for {
			ok, err := l.TryLock()
			if err != nil {
				return fmt.Errorf("store: %w", err)
			}
			if ok {
				break
			}
			if err := pause(ctx, deadline); err != nil {
				return err
			}
		}
		defer l.Unlock()
	}
	return fn()
}

// pause waits a little, or returns ErrBusy past the deadline.
func pause(ctx context.Context, deadline time.Time) error {
	if !time.Now().Before(deadline) {
		return fmt.Errorf("store: %w", ErrBusy)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(min(20*time.Millisecond, time.Until(deadline)+time.Millisecond)):
		return nil
	}
}

// Reclaimed counts what Reclaim removed.
type Reclaimed struct {
	Objects int   // objects no record named
	Temp    int   // temp files of interrupted puts
	Bytes   int64 // their size
}

// Reclaim removes what writers that are gone left behind, while no writer
// holds the store (see Exclusive for wait): the objects leftovers returns
// — it is called under that exclusion, so what it reads of the records is
// final — and every temp file. The removals are durable when it returns,
// and the marks of the writers that are gone are cleared.
func (d *Dir) Reclaim(ctx context.Context, wait time.Duration, leftovers func(context.Context) ([]Handle, error)) (Reclaimed, error) {
	var r Reclaimed
	err := d.Exclusive(ctx, wait, func() error {
		// Every mark now is a gone writer's; those made after this
		// listing (none can be, under the lock) would not be cleared.
		var marks []string
		if d.w.locks != "" {
			entries, _ := os.ReadDir(d.w.locks)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), markPrefix) {
					marks = append(marks, filepath.Join(d.w.locks, e.Name()))
				}
			}
		}
		hs, err := leftovers(ctx)
		if err != nil {
			return err
		}
		for _, h := range hs {
			st, err := os.Lstat(d.Path(h))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil || !st.Mode().IsRegular() {
				continue // not something a writer left: check reports it
			}
			if err := d.Remove(ctx, h); err != nil {
				return err
			}
			r.Objects++
			r.Bytes += st.Size()
		}
		temps, err := os.ReadDir(d.tmpDir())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
		for _, e := range temps {
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			if err := os.Remove(filepath.Join(d.tmpDir(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("store: %w", err)
			}
			d.markDirty(d.tmpDir())
			r.Temp++
			r.Bytes += info.Size()
		}
		if err := d.Sync(ctx); err != nil {
			return err
		}
		for _, m := range marks {
			_ = os.Remove(m)
		}
		return nil
	})
	return r, err
}
