package vault_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

func auditExport(f vault.Folder) audit.Event {
	return audit.Event{Action: audit.Export, Outcome: audit.Blocked, Folder: f.ID.String(), Reason: "restricted"}
}

// firstObject returns the path of one stored object of kind.
func firstObject(t testing.TB, dir string, kind object.Kind) string {
	t.Helper()
	var found string
	root := filepath.Join(dir, "objects", kind.String())
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && found == "" {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no %v object in %s", kind, dir)
	}
	return found
}

func flipByte(t testing.TB, path string, at func(size int) int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at(len(b))] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsEveryFlippedByte damages one object of each kind, in the
// header, the body and the signature, and expects Check to name it and
// reads of what depends on it to fail.
func TestCheckFindsEveryFlippedByte(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Confidential)
	put(t, v, f, "one.txt", bytes.Repeat([]byte("first document "), 1000))
	v.Close()

	positions := map[string]func(int) int{
		"header":    func(int) int { return 5 + 1 + 3 }, // inside the ID
		"body":      func(n int) int { return object.HeaderSize + (n-object.HeaderSize)/2 },
		"last byte": func(n int) int { return n - 1 },
	}
	for _, kind := range object.Kinds {
		for where, at := range positions {
			t.Run(kind.String()+"/"+where, func(t *testing.T) {
				copyTo := filepath.Join(t.TempDir(), "v")
				testenv.CopyDir(t, dir, copyTo)
				path := firstObject(t, copyTo, kind)
				flipByte(t, path, at)
				v, err := vault.Open(ctx, copyTo, testPass)
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				r, err := v.Check(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK() {
					t.Fatalf("flipped byte in %s not detected", path)
				}
				name := filepath.Base(path)
				named := false
				for _, p := range r.Problems {
					named = named || strings.Contains(p.Object, name)
				}
				if !named {
					t.Errorf("problems %+v do not name %s", r.Problems, name)
				}
				if kind == object.KindChunk || kind == object.KindManifest {
					var buf bytes.Buffer
					folder, err := v.Folder(ctx, "Deals")
					if err != nil {
						t.Fatal(err)
					}
					if _, err := v.WriteTo(ctx, &buf, folder, "one.txt", 0); !errors.Is(err, vault.ErrDamaged) {
						t.Errorf("read of damaged file: %v", err)
					}
				}
			})
		}
	}
}

// TestCheckReportsWhatIsUnaffected damages one file's chunk and expects the
// other files to be reported intact and readable.
func TestCheckReportsWhatIsUnaffected(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	f := mustFolder(t, v, "Research", policy.Internal)
	put(t, v, f, "a.txt", []byte("alpha"))
	b := put(t, v, f, "b.txt", []byte("bravo"))
	put(t, v, f, "c.txt", []byte("charlie"))
	r, err := v.Check(ctx, nil)
	if err != nil || !r.OK() || r.Intact != 3 {
		t.Fatalf("clean vault: %+v, %v", r, err)
	}
	m, err := v.Versions(ctx, f, "b.txt")
	if err != nil || len(m) != 1 || m[0].ID != b.ID {
		t.Fatal(m, err)
	}
	// Remove b's only chunk.
	chunkID := chunkOf(t, v, f, "b.txt")
	if err := v.Objects().Remove(ctx, store.Handle{Kind: object.KindChunk, ID: chunkID}); err != nil {
		t.Fatal(err)
	}
	r, err = v.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Intact != 2 || len(r.Damaged) != 1 || !strings.Contains(r.Damaged[0], "b.txt") {
		t.Fatalf("report: %+v", r)
	}
	if got := read(t, v, f, "a.txt", 0); string(got) != "alpha" {
		t.Error(got)
	}
}

// chunkOf finds the chunk a one-chunk file uses, by elimination: the only
// chunk whose removal makes the file unreadable.
func chunkOf(t testing.TB, v *vault.Vault, f vault.Folder, name string) object.ID {
	t.Helper()
	ctx := context.Background()
	var ids []object.ID
	_ = v.Objects().List(ctx, object.KindChunk, func(id object.ID, _ int64) error {
		ids = append(ids, id)
		return nil
	})
	for _, id := range ids {
		h := store.Handle{Kind: object.KindChunk, ID: id}
		data, err := v.Objects().Get(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		_ = v.Objects().Remove(ctx, h)
		var buf bytes.Buffer
		_, err = v.WriteTo(ctx, &buf, f, name, 0)
		if perr := v.Objects().Put(ctx, h, data); perr != nil {
			t.Fatal(perr)
		}
		if err != nil {
			return id
		}
	}
	t.Fatalf("no chunk of %s found", name)
	return object.ID{}
}

func TestIndexOfAnotherVaultIsRefused(t *testing.T) {
	ctx := context.Background()
	a, dirA := newVault(t)
	b, dirB := newVault(t)
	a.Close()
	b.Close()
	idx, err := os.ReadFile(filepath.Join(dirB, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirA, "index.db"), idx, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ctx, dirA, testPass); !errors.Is(err, vault.ErrTampered) {
		t.Fatalf("foreign index: %v", err)
	}
}

func TestSwappedConfigIsRefused(t *testing.T) {
	ctx := context.Background()
	a, dirA := newVault(t)
	b, dirB := newVault(t)
	a.Close()
	b.Close()
	cfg, err := os.ReadFile(filepath.Join(dirB, "coffer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirA, "coffer.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ctx, dirA, testPass); !errors.Is(err, vault.ErrTampered) {
		t.Fatalf("swapped config: %v", err)
	}
}
