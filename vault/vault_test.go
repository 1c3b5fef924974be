package vault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

const testPass = "correct horse battery staple"

func corpus(t testing.TB) string { return testenv.Corpus(t) }

func corpusFiles(t testing.TB) []string { return testenv.CorpusFiles(t) }

func newVault(t testing.TB) (*vault.Vault, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(context.Background(), dir, vault.Identity{Email: "ann@example.com", Name: "Ann Trader"}, testPass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, dir
}

func mustFolder(t testing.TB, v *vault.Vault, name string, class policy.Class) vault.Folder {
	t.Helper()
	f, err := v.CreateFolder(context.Background(), name, class)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func put(t testing.TB, v *vault.Vault, f vault.Folder, name string, data []byte) vault.Version {
	t.Helper()
	ver, err := v.Put(context.Background(), f, name, bytes.NewReader(data), vault.PutOptions{})
	if err != nil {
		t.Fatalf("put %q: %v", name, err)
	}
	return ver
}

func read(t testing.TB, v *vault.Vault, f vault.Folder, name string, seq int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := v.WriteTo(context.Background(), &buf, f, name, seq); err != nil {
		t.Fatalf("read %q v%d: %v", name, seq, err)
	}
	return buf.Bytes()
}

func TestCorpusRoundTrip(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	f := mustFolder(t, v, "Research", policy.Internal)
	want := map[string][]byte{}
	for _, p := range corpusFiles(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ver := put(t, v, f, filepath.Base(p), data)
		if ver.Seq != 1 || ver.Size != int64(len(data)) {
			t.Errorf("%s: got version %d size %d", p, ver.Seq, ver.Size)
		}
		want[filepath.Base(p)] = data
	}
	files, err := v.Files(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("listed %d files, imported %d", len(files), len(want))
	}
	for _, fi := range files {
		if !bytes.Equal(read(t, v, f, fi.Name, 0), want[fi.Name]) {
			t.Errorf("%s: content differs after round trip", fi.Name)
		}
		if fi.Size != int64(len(want[fi.Name])) || fi.Versions != 1 || fi.Author != "ann@example.com" {
			t.Errorf("%s: listed as %+v", fi.Name, fi)
		}
	}
	byName := map[string]string{}
	for _, fi := range files {
		byName[fi.Name] = fi.Type
	}
	if byName["asy-latex.pdf"] != "application/pdf" || byName["debian-logo-256.png"] != "image/png" {
		t.Errorf("media types: %v", byName)
	}
}

func TestVersionsAndRestore(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Confidential)
	v1 := []byte("term sheet draft 1")
	v2 := []byte("term sheet draft 2, revised price")
	put(t, v, f, "terms.txt", v1)
	if ver := put(t, v, f, "terms.txt", v1); !ver.Unchanged || ver.Seq != 1 {
		t.Fatalf("re-import of same content: %+v", ver)
	}
	if ver := put(t, v, f, "terms.txt", v2); ver.Seq != 2 || ver.Unchanged {
		t.Fatalf("second version: %+v", ver)
	}
	r, err := v.Restore(ctx, f, "terms.txt", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 || r.RestoredFrom != 1 {
		t.Fatalf("restore: %+v", r)
	}
	if got := read(t, v, f, "terms.txt", 0); !bytes.Equal(got, v1) {
		t.Errorf("current after restore = %q", got)
	}
	if got := read(t, v, f, "terms.txt", 2); !bytes.Equal(got, v2) {
		t.Errorf("version 2 = %q", got)
	}
	vers, err := v.Versions(ctx, f, "terms.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(vers) != 3 || vers[1].Parent != vers[0].ID || vers[2].Parent != vers[1].ID {
		t.Fatalf("history is not a chain: %+v", vers)
	}
	if _, err := v.Restore(ctx, f, "terms.txt", 9); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("restore of a missing version: %v", err)
	}
}

func TestEmptyAndSparseFiles(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	f := mustFolder(t, v, "Misc", policy.Public)
	if ver := put(t, v, f, "empty", nil); ver.Size != 0 {
		t.Fatalf("empty: %+v", ver)
	}
	if got := read(t, v, f, "empty", 0); len(got) != 0 {
		t.Fatalf("empty read back %d bytes", len(got))
	}
	size := int64(256 << 20)
	if testing.Short() {
		size = 32 << 20
	}
	path := filepath.Join(t.TempDir(), "sparse")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt([]byte("a needle in the middle"), size/2); err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	ver, err := v.Put(ctx, f, "sparse", fh, vault.PutOptions{})
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ver.Size != size {
		t.Fatalf("sparse size %d", ver.Size)
	}
	// Runs of zeroes dedupe: far less than the file is stored.
	if ver.NewBytes > 16<<20 {
		t.Errorf("stored %d new bytes for a sparse file of %d", ver.NewBytes, size)
	}
	h := sha256.New()
	if _, err := v.WriteTo(ctx, h, f, "sparse", 0); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(path)
	if sum := sha256.Sum256(want); !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Error("sparse file differs after round trip")
	}
}

func TestWrongPassphrase(t *testing.T) {
	v, dir := newVault(t)
	v.Close()
	if _, err := vault.Open(context.Background(), dir, "not it"); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	v2, err := vault.Open(context.Background(), dir, testPass)
	if err != nil {
		t.Fatal(err)
	}
	v2.Close()
	if _, err := vault.Open(context.Background(), t.TempDir(), testPass); !errors.Is(err, vault.ErrNotVault) {
		t.Fatalf("empty dir: %v", err)
	}
}

// TestNothingReadableOnDisk scans every byte the vault wrote for the names
// and contents it holds.
func TestNothingReadableOnDisk(t *testing.T) {
	v, dir := newVault(t)
	f := mustFolder(t, v, "ProjectNightingale", policy.Restricted)
	secrets := []string{"ProjectNightingale", "ann@example.com", "Ann Trader", "merger-target-list.txt",
		"ACME to acquire Globex at 42 per share", "Apache License", "LICENSE-2.0"}
	put(t, v, f, "merger-target-list.txt", []byte(strings.Repeat("ACME to acquire Globex at 42 per share\n", 100)))
	data, err := os.ReadFile(filepath.Join(corpus(t), "text", "Apache-2.0.txt"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, v, f, "Apache-2.0.txt", data)
	put(t, v, f, "Apache-2.0.txt", append(data, "\n(amended)"...))
	if _, err := v.AppendAudit(context.Background(), auditExport(f)); err != nil {
		t.Fatal(err)
	}
	scanned := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		for _, s := range secrets {
			for _, form := range [][]byte{[]byte(s), utf16le(s)} {
				if bytes.Contains(b, form) {
					t.Errorf("%s contains %q", p, s)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 8 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func TestHostileNames(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t)
	f := mustFolder(t, v, "Inbox", policy.Internal)
	names := []string{"../../etc/passwd", "/etc/shadow", "a\x00b", "line\nbreak\r", strings.Repeat("ä", 150),
		"CON", "NUL.txt", "com1.pdf", "Résumé.pdf", "\u202Egnp.exe", " padded ", "..", "."}
	for i, n := range names {
		put(t, v, f, n, []byte{byte(i)})
	}
	files, err := v.Files(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, fi := range files {
		got[fi.Name] = true
	}
	for i, n := range names {
		if !got[n] {
			t.Errorf("%q not listed", n)
		}
		if b := read(t, v, f, n, 0); !bytes.Equal(b, []byte{byte(i)}) {
			t.Errorf("%q: content %v", n, b)
		}
	}
	// NFC and NFD spellings are the same file.
	if ver := put(t, v, f, "Re\u0301sume\u0301.pdf", []byte("x")); ver.Seq != 2 {
		t.Errorf("NFD spelling made a new file: %+v", ver)
	}
	for _, bad := range []string{"", "\xff\xfe", strings.Repeat("x", vault.MaxNameBytes+1)} {
		if _, err := v.Put(ctx, f, bad, bytes.NewReader(nil), vault.PutOptions{}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	for _, bad := range []string{"a/b", "tab\there", " lead", ""} {
		if _, err := v.CreateFolder(ctx, bad, policy.Public); err == nil {
			t.Errorf("folder name %q accepted", bad)
		}
	}
}

func TestParallelImportIsDeterministic(t *testing.T) {
	v, _ := newVault(t)
	f := mustFolder(t, v, "Models", policy.Internal)
	data := make([]byte, 12<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	first := put(t, v, f, "model.xlsx", data)
	if first.NewChunks < 5 {
		t.Fatalf("12 MiB gave only %d chunks", first.NewChunks)
	}
	// One byte changed in the middle: only the chunks around it are new.
	data[6<<20] ^= 1
	second := put(t, v, f, "model.xlsx", data)
	if second.NewBytes > 4<<20 || second.NewChunks > 2 {
		t.Errorf("1-byte edit stored %d new bytes in %d chunks", second.NewBytes, second.NewChunks)
	}
	if !bytes.Equal(read(t, v, f, "model.xlsx", 0), data) {
		t.Error("content differs")
	}
}
