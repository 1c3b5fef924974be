// Package testenv finds what tests need from outside the repository: the
// shared corpus of real documents, and the repository root.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, searching up from the
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Corpus returns the shared corpus of real documents: $COFFER_CORPUS, or
// shared/corpus beside the repository.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("COFFER_CORPUS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Fatalf("testenv: the shared corpus is missing at %s: set COFFER_CORPUS", dir)
	}
	return dir
}

// CorpusFiles returns every document of the corpus.
func CorpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(Corpus(t), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && filepath.Base(p) != "SOURCES.md" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil || len(files) < 5 {
		t.Fatalf("testenv: corpus has %d files: %v", len(files), err)
	}
	return files
}

// CopyDir copies the tree at src to dst (files 0600, directories 0700), so
// a test can damage a copy of a vault.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
