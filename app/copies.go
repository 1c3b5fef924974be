package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// Copies handed to other applications (Open in default app, Print) live in
// a private folder per App under the user's cache folder:
//
//	<cache>/coffer/open/copies-<random>/   0700, one per App
//	    owner.lock                          locked for as long as the App lives
//	    <random>/<document name>            one folder per copy
//
// Lock and Close remove the App's folder. A process that crashed leaves its
// folder behind with nobody holding owner.lock: the next App to start, in
// any process, removes it (removeOrphanCopies). A folder whose lock is held
// belongs to a running Coffer and is left alone.

const ownerLock = "owner.lock"

// openCopiesRoot is where the copy folders of every App live.
func openCopiesRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for copies to open: %w", err)
	}
	return filepath.Join(dir, "coffer", "open"), nil
}

// copiesDir returns this App's folder of copies, making it (and taking its
// owner lock) the first time.
func (a *App) copiesDir() (string, error) {
	a.copiesMu.Lock()
	defer a.copiesMu.Unlock()
	if a.copies != "" {
		return a.copies, nil
	}
	root, err := openCopiesRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(root, "copies-")
	if err != nil {
		return "", err
	}
	l := flock.New(filepath.Join(dir, ownerLock), flock.SetPermissions(0o600))
	if ok, err := l.TryLock(); err != nil || !ok {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("cannot lock the folder of copies %s: %v", dir, err)
	}
	a.copies, a.copiesLock = dir, l
	return dir, nil
}

// removeCopies deletes this App's copies for other applications.
func (a *App) removeCopies() {
	a.copiesMu.Lock()
	defer a.copiesMu.Unlock()
	if a.copies == "" {
		return
	}
	_ = a.copiesLock.Unlock()
	_ = os.RemoveAll(a.copies)
	a.copies, a.copiesLock = "", nil
}

// removeOrphanCopies deletes the copy folders whose owner is not running:
// its owner.lock can be taken (or it has none, as folders of versions
// before the lock). It runs at every start, so a crash leaves copies only
// until Coffer runs again.
func removeOrphanCopies() {
	root, err := openCopiesRoot()
	if err != nil {
		return
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() {
			continue
		}
		l := flock.New(filepath.Join(dir, ownerLock), flock.SetPermissions(0o600))
		ok, err := l.TryLock()
		if err != nil || !ok {
			continue // a running Coffer's, or not ours to judge
		}
		_ = l.Unlock()
		_ = os.RemoveAll(dir)
	}
}
