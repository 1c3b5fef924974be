// Package testenv finds what tests need: the repository root, and the
// corpus of real documents in its testdata.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// Corpus returns the corpus of real documents kept in the repository,
// testdata/corpus, failing the test when it is missing: the tests need
// nothing outside the repository.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Fatalf("testenv: the test corpus is missing at %s (it is part of the repository: restore it with 'git checkout -- testdata')", dir)
	}
	return dir
}

// CorpusFiles returns every document of the corpus: those its SOURCES.md
// lists, each of which must be there. A document it does not list fails
// the test too, so that none comes in without its origin and licence.
func CorpusFiles(t testing.TB) []string {
	t.Helper()
	dir := Corpus(t)
	listed, err := corpusListed(dir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	var files []string
	for _, rel := range listed {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("testenv: the test corpus lacks %s, listed in its SOURCES.md (restore it with 'git checkout -- testdata')", rel)
		}
		files = append(files, p)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type().IsRegular() && rel != "SOURCES.md" && !slices.Contains(listed, filepath.ToSlash(rel)) {
			return fmt.Errorf("%s is not listed in SOURCES.md: add its origin and licence there", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: the test corpus: %v", err)
	}
	return files
}

// corpusListed returns the files named in the first column of the table
// in dir/SOURCES.md.
func corpusListed(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| ") {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if name == "file" || strings.Trim(name, "-") == "" {
			continue
		}
		files = append(files, name)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s/SOURCES.md lists no files", dir)
	}
	return files, nil
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
