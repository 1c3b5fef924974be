package testdocs

import (
	"bytes"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/fsnotify/fsnotify"
)

// Writable returns the folders where a process of this user would put a
// file: the temp folder ($TMPDIR), /tmp, /var/tmp, /dev/shm, the runtime
// folder, the home, cache and config folders, and extra; folders inside
// another listed one are dropped.
func Writable(extra ...string) []string {
	dirs := append([]string{os.TempDir(), "/tmp", "/var/tmp", "/dev/shm", os.Getenv("XDG_RUNTIME_DIR")}, extra...)
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, home)
	}
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, d)
	}
	if d, err := os.UserConfigDir(); err == nil {
		dirs = append(dirs, d)
	}
	var out []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		out = append(out, filepath.Clean(d))
	}
	slices.Sort(out)
	out = slices.Compact(out)
	var roots []string
	for _, d := range out {
		if len(roots) > 0 && within(d, roots[len(roots)-1]) {
			continue
		}
		roots = append(roots, d)
	}
	return roots
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// Needles returns the forms text takes in a file: UTF-8, UTF-16 in both
// byte orders, and the hexadecimal UTF-16BE a PDF writes strings in.
func Needles(text string) [][]byte {
	u := utf16.Encode([]rune(text))
	le, be := make([]byte, 2*len(u)), make([]byte, 2*len(u))
	for i, c := range u {
		le[2*i], le[2*i+1] = byte(c), byte(c>>8)
		be[2*i], be[2*i+1] = byte(c>>8), byte(c)
	}
	return [][]byte{[]byte(text), le, be, []byte(strings.ToUpper(hex.EncodeToString(be)))}
}

// maxScanned bounds the bytes read of one file.
const maxScanned = 256 << 20

// Watch looks for needles in the files of some folder trees: while it
// runs, every file created or written in them (inotify on every folder,
// folders created meanwhile included) is read; when it stops, every file
// modified since it started is read too.
type Watch struct {
	roots   []string
	needles [][]byte
	start   time.Time
	w       *fsnotify.Watcher

	mu   sync.Mutex
	hits map[string]bool
	seen int // files read
	done chan struct{}
}

// WatchFor starts watching roots for needles.
func WatchFor(t testing.TB, roots []string, needles ...[]byte) *Watch {
	t.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	sw := &Watch{roots: roots, needles: needles, start: time.Now().Add(-2 * time.Second), w: w,
		hits: map[string]bool{}, done: make(chan struct{})}
	for _, r := range roots {
		sw.addTree(r)
	}
	go sw.loop()
	return sw
}

// addTree watches dir and the folders under it.
func (sw *Watch) addTree(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			_ = sw.w.Add(p)
		}
		return nil
	})
}

func (sw *Watch) loop() {
	defer close(sw.done)
	for {
		select {
		case ev, ok := <-sw.w.Events:
			if !ok {
				return
			}
			if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
				continue
			}
			st, err := os.Lstat(ev.Name)
			switch {
			case err != nil:
			case st.IsDir():
				sw.addTree(ev.Name)
				sw.scanTree(ev.Name, time.Time{})
			case st.Mode().IsRegular():
				sw.scanFile(ev.Name)
			}
		case _, ok := <-sw.w.Errors:
			if !ok {
				return
			}
		}
	}
}

// scanTree reads the files under dir modified at or after since.
func (sw *Watch) scanTree(dir string, since time.Time) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && !info.ModTime().Before(since) {
			sw.scanFile(p)
		}
		return nil
	})
}

// scanFile reads p if it is a regular file. Other processes' tests
// replace files by named pipes (a pipe planted where a chunk was): a name
// listed as a regular file may be a pipe by the time it is opened, and a
// blocking open of a pipe with no writer never returns. So the open does
// not block, and what it opened is checked before it is read.
func (sw *Watch) scanFile(p string) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return
	}
	data, _ := io.ReadAll(io.LimitReader(f, maxScanned))
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.seen++
	for _, n := range sw.needles {
		if bytes.Contains(data, n) {
			sw.hits[p] = true
		}
	}
}

// Stop ends the watch, reads every file modified since it started, and
// returns the files that held a needle, and how many files were read.
func (sw *Watch) Stop() (hits []string, read int) {
	sw.w.Close()
	<-sw.done
	for _, r := range sw.roots {
		sw.scanTree(r, sw.start)
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for p := range sw.hits {
		hits = append(hits, p)
	}
	slices.Sort(hits)
	return hits, sw.seen
}
