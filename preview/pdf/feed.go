package pdf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// A feed hands one sealed file to wazero through a named pipe in the
// private folder: it waits for the key, checks the file, then writes the
// checked bytes into the pipe once wazero opens it — or nothing, so that
// wazero reads an empty file and fails, when the file failed its check.
type feed struct {
	rel  string // slash-separated name, in the key's folder and in the private folder
	pipe string // its path in the private folder
	stop chan struct{}
	done chan struct{}

	stopped atomic.Bool
	bad     bool // the sealed file was missing or failed its check: wazero got nothing
}

// candidates returns the names the sealed files have in any key's folder
// (the key, hence its folder, may not be known yet), and starts reading
// each file into the page cache: the key usually comes from a passphrase
// whose scrypt takes some 300 ms, time enough to read the 22 MB that
// would otherwise be read from disk after it (a first preview since boot).
func (c *sealedCache) candidates() (map[string]bool, error) {
	dirs, err := os.ReadDir(c.root)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() || !strings.HasPrefix(d.Name(), sealedPrefix) {
			continue
		}
		base := filepath.Join(c.root, d.Name())
		err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || len(names) >= maxCacheFiles {
				return err
			}
			rel, err := filepath.Rel(base, path)
			if err == nil && !strings.HasPrefix(d.Name(), ".") { // not a writeAtomic temp file
				names[filepath.ToSlash(rel)] = true
				prefetch(path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}

// startFeeds makes a pipe in the private folder for each of names and
// starts feeding each once keyed is closed. It returns false where there
// are no pipes (then stageFiles is the way) or nothing to feed.
func (c *sealedCache) startFeeds(names map[string]bool, keyed <-chan struct{}, key func() ([]byte, bool)) (bool, error) {
	if !havePipes {
		return false, nil
	}
	for rel := range names {
		f := &feed{rel: rel, pipe: filepath.Join(c.stage, filepath.FromSlash(rel)), stop: make(chan struct{}), done: make(chan struct{})}
		if err := os.MkdirAll(filepath.Dir(f.pipe), 0o700); err != nil {
			c.stopFeeds()
			return false, err
		}
		if err := mkfifo(f.pipe); err != nil {
			c.stopFeeds()
			return false, err
		}
		c.feeds = append(c.feeds, f)
		go f.run(c, keyed, key)
	}
	return len(c.feeds) > 0, nil
}

// run feeds f once keyed is closed, with key's answer: the key, or that
// the start was abandoned.
func (f *feed) run(c *sealedCache, keyed <-chan struct{}, key func() ([]byte, bool)) {
	defer close(f.done)
	select {
	case <-keyed:
	case <-f.stop:
		return
	}
	var content []byte
	if k, ok := key(); ok && c.setKey(k) == nil {
		path := filepath.Join(c.dir, filepath.FromSlash(f.rel))
		if fi, err := os.Lstat(path); err == nil {
			var free func()
			var ok bool
			content, free, ok = c.open(path, f.rel, fs.FileInfoToDirEntry(fi), 1)
			// After the write below, never before: a write from an unmapped
			// buffer fails quietly (EFAULT, and PDFium is compiled again), and
			// one from an address mapped anew would carry unchecked bytes.
			defer free()
			if !ok {
				content = nil
				_ = os.Remove(path)
			}
		}
	}
	f.bad = content == nil
	if f.stopped.Load() {
		return
	}
	// Blocks until wazero, or stopFeeds, opens the pipe for reading.
	w, err := os.OpenFile(f.pipe, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer w.Close()
	if content == nil || f.stopped.Load() {
		return // wazero reads an empty file: it fails, and the start compiles anew
	}
	growPipe(w)
	if _, err := w.Write(content); err == nil {
		c.mu.Lock()
		c.staged[f.rel] = nil
		c.mu.Unlock()
	}
}

// stopFeeds ends every feed, once wazero is done with the pipes: a feed
// still waiting for the key stops waiting, and one waiting for a reader
// (wazero did not want its file: another wazero version's) is let go by a
// reader that reads nothing.
func (c *sealedCache) stopFeeds() {
	for _, f := range c.feeds {
		f.stopped.Store(true)
		close(f.stop)
	}
	for _, f := range c.feeds {
		for {
			select {
			case <-f.done:
			case <-time.After(time.Millisecond):
				if r, err := os.OpenFile(f.pipe, os.O_RDONLY|nonblock, 0); err == nil {
					r.Close()
				}
				continue
			}
			break
		}
	}
}

// starved reports whether a feed had nothing to give wazero.
func (c *sealedCache) starved() bool {
	for _, f := range c.feeds {
		if f.bad {
			return true
		}
	}
	return false
}

// removeFeeds removes the pipes, so that a second start compiles.
func (c *sealedCache) removeFeeds() error {
	var errs []error
	for _, f := range c.feeds {
		if err := os.Remove(f.pipe); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	c.feeds = nil
	return errors.Join(errs...)
}
