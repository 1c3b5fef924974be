package testenv_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// TestCorpusInRepository: every document SOURCES.md lists is in the
// repository's testdata, and nothing else is.
func TestCorpusInRepository(t *testing.T) {
	dir := testenv.Corpus(t)
	root := testenv.RepoRoot(t)
	if rel, err := filepath.Rel(root, dir); err != nil || rel != filepath.Join("testdata", "corpus") {
		t.Fatalf("corpus at %s, want testdata/corpus in the repository %s", dir, root)
	}
	files := testenv.CorpusFiles(t)
	if len(files) != 9 {
		t.Errorf("%d corpus files, want the 9 SOURCES.md lists", len(files))
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
