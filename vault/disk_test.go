package vault_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
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

// noise returns n bytes that do not compress or dedupe.
func noise(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// objectFiles counts the files under objects/<kind>/ and objects/tmp.
func objectFiles(t *testing.T, dir, kind string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "objects", kind), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}

// marks lists the writer marks in locks/.
func marks(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "locks", "writer-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// assertNoLeftovers checks that every chunk file is one the index names,
// that no temp file and no writer mark is left, and that check agrees.
func assertNoLeftovers(t *testing.T, v *vault.Vault, dir string) {
	t.Helper()
	r, err := v.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.Leftovers) != 0 {
		t.Errorf("check: problems %v, leftovers %v", r.Problems, r.Leftovers)
	}
	if files := objectFiles(t, dir, "chunk"); files != r.Checked["chunk"] {
		t.Errorf("%d chunk files, the index names %d", files, r.Checked["chunk"])
	}
	if n := objectFiles(t, dir, "tmp"); n != 0 {
		t.Errorf("%d temp files left", n)
	}
	if m := marks(t, dir); len(m) != 0 {
		t.Errorf("writer marks left: %v", m)
	}
}

// TestFullDisk fills a real file system: an import that fails half-way for
// want of space leaves nothing behind, and with 0 bytes free the vault
// still unlocks, lists, reads and checks, while every write is refused
// with ErrDiskFull before anything is attempted.
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	disk := testenv.SmallDisk(t, 48<<20)
	dir := filepath.Join(disk.Dir, "vault")
	v, err := vault.Create(ctx, dir, vault.Identity{Email: "ann@example.com", Name: "Ann Trader"}, testPass)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { v.Close() }()
	f := mustFolder(t, v, "Deals", policy.Internal)
	small := []byte("term sheet, version 1\n")
	put(t, v, f, "terms.txt", small)
	kept := noise(3<<20, 1)
	put(t, v, f, "model.xlsx", kept)

	// An import of 24 MiB with 6 MiB free: several chunks are stored
	// before the disk refuses one.
	disk.Fill(6 << 20)
	before := disk.Free()
	var done int64
	_, err = v.Put(ctx, f, "big.bin", bytes.NewReader(noise(24<<20, 2)), vault.PutOptions{Progress: func(n int64) { done = n }})
	if !errors.Is(err, vault.ErrDiskFull) {
		t.Fatalf("import on a full disk: %v, want ErrDiskFull", err)
	}
	if done < before {
		t.Fatalf("the import failed after reading %d bytes, before it could fill the %d bytes free", done, before)
	}
	if !strings.Contains(err.Error(), "the disk holding the vault is full") {
		t.Errorf("message %q does not say the disk is full", err)
	}
	assertNoLeftovers(t, v, dir)
	if after := disk.Free(); after < before-(256<<10) {
		t.Errorf("%d bytes free after the failed import, %d before: it kept what it stored", after, before)
	}

	// Nothing free at all.
	v.Close()
	disk.Fill(0)
	t.Logf("%s: %d bytes free", disk.Kind, disk.Free())
	v, err = vault.Open(ctx, dir, testPass)
	if err != nil {
		t.Fatalf("unlock with 0 bytes free: %v", err)
	}
	if ro := v.ReadOnly(); !errors.Is(ro, vault.ErrDiskFull) {
		t.Errorf("ReadOnly() = %v, want ErrDiskFull", ro)
	}
	files, err := v.Files(ctx, f)
	if err != nil || len(files) != 2 {
		t.Fatalf("ls with 0 bytes free: %d files, %v", len(files), err)
	}
	vers, err := v.Versions(ctx, f, "model.xlsx")
	if err != nil || len(vers) != 1 {
		t.Fatalf("versions with 0 bytes free: %v, %v", vers, err)
	}
	if got := read(t, v, f, "model.xlsx", 1); !bytes.Equal(got, kept) {
		t.Fatal("model.xlsx does not read back with 0 bytes free")
	}
	if _, err := v.AuditEvents(ctx); err != nil {
		t.Fatalf("audit with 0 bytes free: %v", err)
	}
	assertNoLeftovers(t, v, dir)
	if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Preview, Outcome: audit.OK}); !errors.Is(err, vault.ErrDiskFull) {
		t.Errorf("audit append with 0 bytes free: %v, want ErrDiskFull", err)
	}
	if _, err := v.Put(ctx, f, "more.txt", strings.NewReader("more"), vault.PutOptions{}); !errors.Is(err, vault.ErrDiskFull) {
		t.Errorf("import with 0 bytes free: %v, want ErrDiskFull", err)
	}
	if _, err := v.CreateFolder(ctx, "Other", policy.Public); !errors.Is(err, vault.ErrDiskFull) {
		t.Errorf("folder create with 0 bytes free: %v, want ErrDiskFull", err)
	}
	second := filepath.Join(disk.Dir, "second")
	if _, err := vault.Create(ctx, second, vault.Identity{Email: "bo@example.com"}, testPass); !errors.Is(err, vault.ErrDiskFull) {
		t.Errorf("a new vault with 0 bytes free: %v, want ErrDiskFull", err)
	}
	if _, err := os.Stat(second); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the vault that could not be made is left: %v", err)
	}

	// With space again, the vault writes as before.
	v.Close()
	disk.Unfill()
	if v, err = vault.Open(ctx, dir, testPass); err != nil {
		t.Fatal(err)
	}
	if ro := v.ReadOnly(); ro != nil {
		t.Fatalf("ReadOnly() = %v once there is space", ro)
	}
	big := noise(24<<20, 2)
	put(t, v, f, "big.bin", big)
	if got := read(t, v, f, "big.bin", 1); !bytes.Equal(got, big) {
		t.Fatal("big.bin does not read back")
	}
	assertNoLeftovers(t, v, dir)

	// The same disk remounted read-only.
	v.Close()
	disk.ReadOnly(true)
	defer disk.ReadOnly(false)
	if v, err = vault.Open(ctx, dir, testPass); err != nil {
		t.Fatalf("unlock on a disk mounted read-only: %v", err)
	}
	if ro := v.ReadOnly(); !errors.Is(ro, vault.ErrReadOnly) {
		t.Fatalf("ReadOnly() = %v on a disk mounted read-only", ro)
	}
	if got := read(t, v, f, "big.bin", 1); !bytes.Equal(got, big) {
		t.Fatal("big.bin does not read back from the disk mounted read-only")
	}
	if _, err := v.Put(ctx, f, "x.txt", strings.NewReader("x"), vault.PutOptions{}); !errors.Is(err, vault.ErrReadOnly) {
		t.Errorf("import on a disk mounted read-only: %v", err)
	}
	v.Close()
}

// TestReadOnlyMedia opens a vault through a read-only bind mount: it
// unlocks, lists, reads, checks and shows its audit trail; every write
// fails with ErrReadOnly and nothing is written.
func TestReadOnlyMedia(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Confidential)
	data := noise(2<<20, 3)
	put(t, v, f, "model.xlsx", data)
	if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Import, Outcome: audit.OK}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	view := testenv.ReadOnlyView(t, dir)

	ro, err := vault.Open(ctx, view, testPass)
	if err != nil {
		t.Fatalf("unlock on read-only storage: %v", err)
	}
	defer ro.Close()
	if err := ro.ReadOnly(); !errors.Is(err, vault.ErrReadOnly) {
		t.Fatalf("ReadOnly() = %v, want ErrReadOnly", err)
	}
	files, err := ro.Files(ctx, f)
	if err != nil || len(files) != 1 {
		t.Fatalf("ls: %v, %v", files, err)
	}
	if got := read(t, ro, f, "model.xlsx", 1); !bytes.Equal(got, data) {
		t.Fatal("does not read back")
	}
	r, err := ro.Check(ctx, nil)
	if err != nil || !r.OK() {
		t.Fatalf("check: %v, %+v", err, r)
	}
	if log, err := ro.AuditEvents(ctx); err != nil || len(log.Breaks) != 0 || len(log.Events) == 0 {
		t.Fatalf("audit: %v, %+v", err, log)
	}
	_, err = ro.Put(ctx, f, "x.txt", strings.NewReader("x"), vault.PutOptions{})
	if !errors.Is(err, vault.ErrReadOnly) || !strings.Contains(err.Error(), "the vault is on read-only storage") {
		t.Errorf("import: %v, want ErrReadOnly", err)
	}
	if _, err := ro.AppendAudit(ctx, audit.Event{Action: audit.Preview, Outcome: audit.OK}); !errors.Is(err, vault.ErrReadOnly) {
		t.Errorf("audit append: %v, want ErrReadOnly", err)
	}
	if _, err := ro.ReclaimLeftovers(ctx, 0); !errors.Is(err, vault.ErrReadOnly) {
		t.Errorf("reclaim: %v, want ErrReadOnly", err)
	}
	// A wrong passphrase is still a wrong passphrase (its count cannot be
	// written; see docs/vault-format.md).
	if _, err := vault.Open(ctx, view, "not the passphrase"); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase on read-only storage: %v", err)
	}
}

// TestReadOnlyMediaWithUnmergedIndex reads a vault whose index has changes
// only in its WAL (another process has it open, or it crashed), through a
// read-only view.
func TestReadOnlyMediaWithUnmergedIndex(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t) // stays open: its WAL holds what it wrote
	f := mustFolder(t, v, "Deals", policy.Internal)
	put(t, v, f, "a.txt", []byte("alpha"))
	if st, err := os.Stat(filepath.Join(dir, "index.db-wal")); err != nil || st.Size() == 0 {
		t.Fatalf("the index has no WAL content to test with: %v", err)
	}
	view := testenv.ReadOnlyView(t, dir)
	ro, err := vault.Open(ctx, view, testPass)
	if err != nil {
		t.Fatalf("unlock on read-only storage with a WAL: %v", err)
	}
	defer ro.Close()
	if got := read(t, ro, f, "a.txt", 1); string(got) != "alpha" {
		t.Fatalf("read %q", got)
	}
}

// TestLeftoversAreReclaimedOnlyWhenNoWriterHolds plays a writer of another
// process that has stored a chunk and not yet recorded it: neither check
// --repair nor the next writer takes it while that writer lives; once it
// is gone without recording, they do.
func TestLeftoversAreReclaimedOnlyWhenNoWriterHolds(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	f := mustFolder(t, v, "Deals", policy.Internal)
	put(t, v, f, "a.txt", []byte("alpha"))

	other := otherProcess(t, dir)
	release, err := other.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending := storeChunk(t, other, "a chunk another writer stored and has yet to record")
	if _, err := v.ReclaimLeftovers(ctx, 0); !errors.Is(err, vault.ErrBusy) {
		t.Fatalf("reclaim while another writer holds the store: %v, want ErrBusy", err)
	}
	put(t, v, f, "b.txt", []byte("beta")) // a writer starting meanwhile
	if _, err := os.Stat(other.Path(pending)); err != nil {
		t.Fatalf("the live writer's chunk was taken: %v", err)
	}

	// The other writer dies: its mark stays, its chunk is a leftover.
	release(true)
	if len(marks(t, dir)) != 1 {
		t.Fatalf("marks: %v, want the gone writer's", marks(t, dir))
	}
	put(t, v, f, "c.txt", []byte("gamma")) // the next writer reclaims
	if _, err := os.Stat(other.Path(pending)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the gone writer's chunk is still there: %v", err)
	}
	assertNoLeftovers(t, v, dir)

	// Leftovers older than the marks (a vault of before this rule) go
	// with check --repair.
	stale := storeChunk(t, other, "a chunk of an import that failed long ago")
	os.WriteFile(filepath.Join(dir, "objects", "tmp", "0123456789abcdef01234567"), []byte("partial"), 0o600)
	r, err := v.ReclaimLeftovers(ctx, 0)
	if err != nil || r.Objects != 1 || r.Temp != 1 {
		t.Fatalf("reclaim: %+v, %v", r, err)
	}
	if _, err := os.Stat(other.Path(stale)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the old leftover is still there")
	}
	assertNoLeftovers(t, v, dir)
	for _, n := range []string{"a.txt", "b.txt", "c.txt"} {
		read(t, v, f, n, 1)
	}
}

// otherProcess opens the vault's object store as another process would:
// its own lock files and holds.
func otherProcess(t *testing.T, dir string) *store.Dir {
	t.Helper()
	d, err := store.OpenDirWith(filepath.Join(dir, "objects"), store.DirOptions{Locks: filepath.Join(dir, "locks")})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// storeChunk stores bytes as a chunk no index row names.
func storeChunk(t *testing.T, d *store.Dir, content string) store.Handle {
	t.Helper()
	h := store.Handle{Kind: object.KindChunk, ID: object.NewRandomID()}
	if err := d.Put(context.Background(), h, []byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestReadOnlyMediaOfAnOlderVault: a vault made before checkpoints must be
// upgraded once, which needs writing; on read-only media it is refused,
// saying so, and nothing is changed.
func TestReadOnlyMediaOfAnOlderVault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	testenv.CopyDir(t, frozenDir, dir)
	view := testenv.ReadOnlyView(t, dir)
	_, err := vault.Open(context.Background(), view, frozenPass)
	if !errors.Is(err, vault.ErrReadOnly) || !strings.Contains(err.Error(), "earlier version of Coffer") {
		t.Fatalf("open: %v, want ErrReadOnly saying it must be upgraded", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a checkpoint was written: %v", err)
	}
}
