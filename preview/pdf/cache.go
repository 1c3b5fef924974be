package pdf

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The compiled PDFium module is native machine code, run inside the
// unlocked process. wazero's own disk cache checks a cached module only
// against a CRC, so anyone who can write the cache folder could replace it
// with code of their own; and its cache API can neither verify a file
// before loading it nor take one from memory. So this package keeps its
// own cache:
//
//   - each file wazero wrote is stored sealed: an HMAC-SHA-256 tag, keyed
//     by a key the caller holds (Options.CacheKey), over the file's name
//     and content, then the content;
//   - at start, wazero is given a private folder made for this start in
//     the temp folder (0700, a fresh random name; a process that can write
//     only the cache folder cannot reach it). Every sealed file is read
//     into memory and checked; only one that passes reaches wazero, by the
//     same name in that folder. On Linux the name is a named pipe (FIFO)
//     that the checked bytes are written into once wazero opens it, so
//     that wazero decodes and validates the module (some 40 ms) while the
//     file is read and checked, and nothing is written to disk; elsewhere
//     the checked file is written there before wazero starts. A file that
//     fails is deleted, and PDFium is compiled anew;
//   - once the module is compiled, files wazero added to the private folder
//     are sealed into the cache, and the folder is removed.
//
// The key may come after the start began (Start, then Starting.Finish):
// wazero then waits at the pipe, having decoded and validated the module,
// and reads nothing until the key has checked the file.
//
// A process running as the user at the moment of a start could still race
// the private folder; such a process can already read the user's files.

const (
	// CacheKeySize is the length of Options.CacheKey in bytes.
	CacheKeySize = 32
	// maxCacheFiles and maxCacheFileSize bound what is read from the cache
	// folder at start (PDFium compiles to one file of about 22 MB).
	maxCacheFiles    = 8
	maxCacheFileSize = 256 << 20
	// cacheLabel separates this use of the caller's key from any other.
	cacheLabel = "coffer pdfium compile cache v1"
	// sealedPrefix starts the name of each key's folder in the cache folder.
	sealedPrefix = "v1-"
)

// sealedCache is the cache folder of one Renderer start.
type sealedCache struct {
	root  string // Options.CacheDir
	stage string // the private folder handed to wazero

	keyOnce sync.Once
	dir     string // where the sealed files live: root/v1-<key id>
	mac     []byte // HMAC key derived from the caller's key
	keyErr  error

	mu     sync.Mutex
	staged map[string]fs.FileInfo // files put in stage, by slash-separated relative name (nil info: fed through a pipe)
	feeds  []*feed
}

// newSealedCache makes the private folder of a start. Close removes it.
func newSealedCache(root string) (*sealedCache, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp("", "coffer-pdfium-")
	if err != nil {
		return nil, err
	}
	return &sealedCache{root: root, stage: stage, staged: map[string]fs.FileInfo{}}, nil
}

// setKey derives the sealing key and the key's folder; only the first
// call counts.
func (c *sealedCache) setKey(key []byte) error {
	c.keyOnce.Do(func() {
		mac, err := hkdf.Key(sha256.New, key, nil, cacheLabel, 32)
		if err != nil {
			c.keyErr = err
			return
		}
		// Caches sealed under another key (another vault) live beside this
		// one instead of failing its checks.
		id := hmac.New(sha256.New, mac)
		id.Write([]byte("key id"))
		c.mac, c.dir = mac, filepath.Join(c.root, sealedPrefix+hex.EncodeToString(id.Sum(nil)[:8]))
		c.keyErr = os.MkdirAll(c.dir, 0o700)
	})
	return c.keyErr
}

// stageFiles checks the sealed files of the key's folder and writes those
// that pass to the private folder (where there are no pipes). setKey
// comes first.
func (c *sealedCache) stageFiles() error {
	n := 0
	return filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(c.dir, path)
		if err != nil {
			return err
		}
		n++
		content, free, ok := c.open(path, filepath.ToSlash(rel), d, n)
		defer free()
		if !ok {
			return os.Remove(path)
		}
		dst := filepath.Join(c.stage, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(dst, content, 0o600); err != nil {
			return err
		}
		fi, err := os.Stat(dst)
		c.mu.Lock()
		c.staged[filepath.ToSlash(rel)] = fi
		c.mu.Unlock()
		return err
	})
}

// open reads the nth sealed file and returns its content if its tag is
// right for name, and the func that frees the content's memory once it
// has been used (always set; call it in any case).
func (c *sealedCache) open(path, name string, d fs.DirEntry, n int) (content []byte, free func(), ok bool) {
	free = func() {}
	if !d.Type().IsRegular() || n > maxCacheFiles {
		return nil, free, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, free, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < sha256.Size || fi.Size() > maxCacheFileSize+sha256.Size {
		return nil, free, false
	}
	// One buffer of the file's size (growing one as it is read cost a
	// copy of 22 MB and the page faults of twice that), in huge pages:
	// the 5,600 first touches of 4 KiB pages took some 60 ms of the
	// start, on the core that the vault's decryption needs meanwhile.
	sealed, free := hugeBuffer(int(fi.Size()))
	if _, err := io.ReadFull(f, sealed); err != nil {
		return nil, free, false
	}
	if extra, _ := f.Read(make([]byte, 1)); extra != 0 {
		return nil, free, false // it grew while read
	}
	tag, content := sealed[:sha256.Size], sealed[sha256.Size:]
	return content, free, hmac.Equal(tag, c.tag(name, content))
}

// tag authenticates content stored under name.
func (c *sealedCache) tag(name string, content []byte) []byte {
	h := hmac.New(sha256.New, c.mac)
	h.Write([]byte(cacheLabel))
	h.Write([]byte{0})
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(content)
	return h.Sum(nil)
}

// save seals the files wazero added to the private folder (or replaced:
// it writes a new file and renames it over the old). They are read from
// that folder, which only this process can write. When wazero added one,
// it compiled anew (another wazero version, another CPU, or a sealed file
// that failed), so every other sealed file is stale and removed.
func (c *sealedCache) save() error {
	var added []string
	err := filepath.WalkDir(c.stage, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(c.stage, path)
		if err != nil {
			return err
		}
		if before, ok := c.staged[filepath.ToSlash(rel)]; ok && before != nil {
			if now, err := os.Stat(path); err != nil || os.SameFile(before, now) {
				return err
			}
		}
		added = append(added, rel)
		return nil
	})
	if err != nil || len(added) == 0 {
		return err
	}
	for _, rel := range added {
		content, err := os.ReadFile(filepath.Join(c.stage, rel))
		if err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(c.dir, rel), append(c.tag(filepath.ToSlash(rel), content), content...)); err != nil {
			return err
		}
	}
	return c.removeStale(added)
}

// removeStale removes every sealed file of the key's folder but keep (and
// the temporary files of a concurrent save), then the folders it emptied.
// It runs once wazero compiled anew: what the folder held before was for
// another module or wazero version (an older Coffer's), or failed. Files
// fed through a pipe that wazero never opened count too: left, each would
// be read and checked at every start for nothing (22 MB each).
func (c *sealedCache) removeStale(keep []string) error {
	var dirs []string
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(c.dir, path)
		switch {
		case err != nil:
			return err
		case d.IsDir():
			if rel != "." {
				dirs = append(dirs, path)
			}
			return nil
		case strings.HasPrefix(d.Name(), ".") || slices.Contains(keep, rel):
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	for _, dir := range slices.Backward(dirs) {
		_ = os.Remove(dir) // only where it is now empty
	}
	return err
}

// stagedNames returns the names of the files handed to wazero.
func (c *sealedCache) stagedNames() []string {
	names := make([]string, 0, len(c.staged))
	for name := range c.staged {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// writeAtomic writes data to path through a temporary file in the same
// folder, synced and renamed, so a reader never sees half a file.
func writeAtomic(path string, data []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".seal-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Close removes the private folder (the pipes included).
func (c *sealedCache) Close() error {
	if err := os.RemoveAll(c.stage); err != nil {
		return fmt.Errorf("removing %s: %w", c.stage, err)
	}
	return nil
}
