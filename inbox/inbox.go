// Package inbox watches a folder on disk and hands each file dropped into it
// to an importer once the file has stopped changing. Files sit in one
// subfolder per vault folder (INBOX/Deals/term-sheet.pdf goes to Deals). A
// file leaves the inbox only after its import has returned, i.e. is durable;
// a failed import leaves it where it is and is reported. Only files put in
// the inbox itself are taken: a symbolic link (to a file, or a subfolder
// that is one) is reported and left alone, never followed — a link to
// ~/.ssh would otherwise have its files imported and then deleted.
//
// Events are debounced like Syncthing's watch aggregator: a file is taken
// only when no event has touched it for the settle time, so a file still
// being copied in is not imported half-written.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/coffer-vault/coffer/vault/store"
)

// Importer imports f, a regular file of the inbox named name and examined
// as info, into the vault folder named folder. It must not close f.
type Importer func(ctx context.Context, folder, name string, f *os.File, info fs.FileInfo) error

// Event reports what happened to one file.
type Event struct {
	Folder string
	Path   string
	Err    error // nil when imported (and removed from the inbox)
}

// Watcher watches one inbox folder.
type Watcher struct {
	root    string
	dir     *os.Root // root, which no path taken leaves
	settle  time.Duration
	imp     Importer
	events  chan Event
	fsw     *fsnotify.Watcher
	mu      sync.Mutex
	pending map[string]time.Time // path → last event
}

// New watches root (creating it), importing with imp once a file has been
// quiet for settle. Subfolders present now and created later are watched.
func New(root string, settle time.Duration, imp Importer) (*Watcher, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("inbox: %w", err)
	}
	w := &Watcher{root: root, dir: dir, settle: settle, imp: imp, events: make(chan Event, 64), fsw: fsw, pending: map[string]time.Time{}}
	if err := fsw.Add(root); err != nil {
		fsw.Close()
		dir.Close()
		return nil, fmt.Errorf("inbox: %w", err)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() {
			w.addFolder(filepath.Join(root, e.Name()))
		}
	}
	return w, nil
}

// Events delivers one Event per file handled.
func (w *Watcher) Events() <-chan Event { return w.events }

// addFolder watches a folder and queues the files already in it (links
// too, to be reported).
func (w *Watcher) addFolder(dir string) {
	_ = w.fsw.Add(dir)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
			w.touch(filepath.Join(dir, e.Name()))
		}
	}
}

func (w *Watcher) touch(path string) {
	w.mu.Lock()
	w.pending[path] = time.Now()
	w.mu.Unlock()
}

// Run handles events until ctx is done, then closes the watcher and the
// Events channel.
func (w *Watcher) Run(ctx context.Context) error {
	defer close(w.events)
	defer w.dir.Close()
	defer w.fsw.Close()
	tick := time.NewTicker(w.settle / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			w.handle(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			w.emit(ctx, Event{Err: fmt.Errorf("inbox: watching %s: %w", w.root, err)})
		case <-tick.C:
			w.flush(ctx)
		}
	}
}

func (w *Watcher) handle(ev fsnotify.Event) {
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		w.mu.Lock()
		delete(w.pending, ev.Name)
		w.mu.Unlock()
		return
	}
	st, err := os.Lstat(ev.Name)
	if err != nil {
		return
	}
	switch parent := filepath.Dir(ev.Name); {
	case st.IsDir() && parent == w.root:
		w.addFolder(ev.Name)
	case (st.Mode().IsRegular() || st.Mode()&fs.ModeSymlink != 0) && filepath.Dir(parent) == w.root:
		w.touch(ev.Name)
	}
}

// flush imports every file that has been quiet for the settle time.
func (w *Watcher) flush(ctx context.Context) {
	w.mu.Lock()
	var ready []string
	for p, t := range w.pending {
		if time.Since(t) >= w.settle {
			ready = append(ready, p)
			delete(w.pending, p)
		}
	}
	w.mu.Unlock()
	for _, p := range ready {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue // editors' and copiers' temp files
		}
		folder := filepath.Base(filepath.Dir(p))
		rel, err := filepath.Rel(w.root, p)
		if err == nil {
			err = w.take(ctx, folder, rel)
		}
		w.emit(ctx, Event{Folder: folder, Path: p, Err: err})
	}
}

// take imports the file at rel (folder/name under the inbox) and removes
// it, if it is a regular file there, and still the one imported.
func (w *Watcher) take(ctx context.Context, folder, rel string) error {
	// The subfolder too must be one, not a link (os.Root follows a link
	// that stays inside the inbox: Internal -> Research would take
	// Research's files into Internal); and it is held open as a root of
	// its own, the one examined, so that swapping a link in for it later
	// changes nothing.
	sub, err := w.subfolder(filepath.Dir(rel))
	if err != nil {
		return err
	}
	defer sub.Close()
	name := filepath.Base(rel)
	f, st, err := store.OpenRegularIn(sub, name)
	if errors.Is(err, store.ErrNotRegular) || errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("not imported, and left where it is: %w (the inbox takes files put in it, never what a link points to)", err)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := w.imp(ctx, folder, name, f, st); err != nil {
		return err
	}
	// Only now, with the import durable, does the file leave; and only
	// if it is still the file imported.
	now, err := sub.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("imported, but could not remove it from the inbox: %w", err)
	case !os.SameFile(st, now):
		return errors.New("imported, but another file took its place in the inbox meanwhile, and was left there")
	}
	if err := sub.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("imported, but could not remove it from the inbox: %w", err)
	}
	return nil
}

// subfolder opens the inbox's subfolder dir as a root of its own, if it
// is a folder and not a link, and is still the folder examined once open.
func (w *Watcher) subfolder(dir string) (*os.Root, error) {
	linked := fmt.Errorf("not imported, and left where it is: %s is a link, not a folder (the inbox takes files put in it, never what a link points to)", dir)
	before, err := w.dir.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() {
		return nil, linked
	}
	sub, err := w.dir.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if now, err := sub.Stat("."); err != nil || !os.SameFile(before, now) {
		sub.Close()
		return nil, linked
	}
	return sub, nil
}

func (w *Watcher) emit(ctx context.Context, e Event) {
	select {
	case w.events <- e:
	case <-ctx.Done():
	}
}
