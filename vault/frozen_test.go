package vault_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

var freeze = flag.Bool("freeze", false, "write testdata/frozen-v1 (only when it does not exist)")

const frozenDir = "testdata/frozen-v1"
const frozenPass = "frozen vault v1 passphrase"

// frozenFiles is what the frozen vault holds: folder → name → versions.
var frozenFiles = []struct {
	folder   string
	class    policy.Class
	name     string
	versions []string
}{
	{"Public", policy.Public, "hello.txt", []string{"Hello, frozen vault v1.\n"}},
	{"Deals", policy.Confidential, "terms.txt", []string{"price: 40\n", "price: 42\n"}},
	{"Deals", policy.Confidential, "../escape.txt", []string{"a hostile name, stored as a name\n"}},
	{"Deals", policy.Confidential, "model.bin", []string{frozenRandom(1600 << 10)}},
}

// frozenRandom returns n deterministic pseudo-random bytes: large enough to
// span several chunks.
func frozenRandom(n int) string {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{'f', 'r', 'o', 'z', 'e', 'n'}).Read(b)
	return string(b)
}

// TestFrozenVaultV1 opens a vault written by format version 1 and committed
// to the repository: every later build must read it unchanged.
func TestFrozenVaultV1(t *testing.T) {
	ctx := context.Background()
	if *freeze {
		writeFrozen(t)
	}
	if _, err := os.Stat(filepath.Join(frozenDir, "coffer.json")); err != nil {
		t.Fatalf("the frozen vault is missing: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "v")
	testenv.CopyDir(t, frozenDir, dir) // opening appends to the audit log
	v, err := vault.Open(ctx, dir, frozenPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	r, err := v.Check(ctx, nil)
	if err != nil || !r.OK() || len(r.Leftovers) != 0 {
		t.Fatalf("check of the frozen vault: %+v %v", r, err)
	}
	total := 0
	for _, ff := range frozenFiles {
		f, err := v.Folder(ctx, ff.folder)
		if err != nil {
			t.Fatal(err)
		}
		if f.Class != ff.class {
			t.Errorf("%s: class %s", ff.folder, f.Class)
		}
		vers, err := v.Versions(ctx, f, ff.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(vers) != len(ff.versions) {
			t.Fatalf("%s/%s: %d versions", ff.folder, ff.name, len(vers))
		}
		for i, want := range ff.versions {
			if got := read(t, v, f, ff.name, i+1); string(got) != want {
				t.Errorf("%s/%s v%d: %.40q", ff.folder, ff.name, i+1, got)
			}
			total++
		}
	}
	if r.Intact != total {
		t.Errorf("check counted %d intact versions, want %d", r.Intact, total)
	}
}

func writeFrozen(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := os.Stat(frozenDir); err == nil {
		t.Fatalf("%s exists: a frozen vault is never rewritten", frozenDir)
	}
	v, err := vault.Create(ctx, frozenDir, vault.Identity{Email: "frozen@example.com", Name: "Frozen Vault"}, frozenPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	folders := map[string]vault.Folder{}
	for _, ff := range frozenFiles {
		f, ok := folders[ff.folder]
		if !ok {
			f = mustFolder(t, v, ff.folder, ff.class)
			folders[ff.folder] = f
		}
		for _, content := range ff.versions {
			put(t, v, f, ff.name, []byte(content))
		}
	}
}
