package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// objectPaths lists the stored objects of a kind in a vault.
func objectPaths(t *testing.T, dir, kind string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, "objects", kind), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// runWithin fails the test if coffer does not return within d: a named
// pipe used to hang export, check and import forever.
func runWithin(t *testing.T, d time.Duration, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- run(t, pass, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("coffer %v hangs", args)
		return result{}
	}
}

// TestNamedPipesNeverHang plants a FIFO where an object should be, and
// imports a FIFO: each gets a clear error at once.
func TestNamedPipesNeverHang(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), "terms.txt")
	os.WriteFile(src, []byte("terms\n"), 0o600)
	ok(t, "import", "--vault", dir, "--folder", "Public", src)
	for _, p := range objectPaths(t, dir, "chunk") {
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("no named pipes here: %v", err)
		}
	}
	r := runWithin(t, 20*time.Second, "export", "--vault", dir, "Public/terms.txt", "--out", filepath.Join(t.TempDir(), "x"))
	if r.code != 1 || !strings.Contains(r.stderr, "named pipe") {
		t.Errorf("export of a planted pipe: exit %d: %s", r.code, r.stderr)
	}
	r = runWithin(t, 20*time.Second, "check", "--vault", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "named pipe") {
		t.Errorf("check of a planted pipe: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	fifo := filepath.Join(t.TempDir(), "pipe.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runWithin(t, 20*time.Second, "import", "--vault", dir, "--folder", "Public", fifo)
	if r.code != 1 || !strings.Contains(r.stderr, "named pipe") {
		t.Errorf("import of a pipe: exit %d: %s", r.code, r.stderr)
	}
}

// TestPreviewOutNeedsForce: like export, preview does not overwrite a file
// at --out unless asked.
func TestPreviewOutNeedsForce(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), "note.txt")
	os.WriteFile(src, []byte("a note\n"), 0o600)
	ok(t, "import", "--vault", dir, "--folder", "Public", src)
	out := filepath.Join(t.TempDir(), "page.png")
	os.WriteFile(out, []byte("keep me"), 0o600)
	r := expect(t, 1, "preview", "--vault", dir, "Public/note.txt", "--out", out)
	if !strings.Contains(r.stderr, "--force") {
		t.Errorf("message: %s", r.stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("preview overwrote an existing file")
	}
	expect(t, 0, "preview", "--vault", dir, "Public/note.txt", "--out", out, "--force")
	if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "\x89PNG") {
		t.Fatal("--force did not write the page")
	}
}

// TestAuditRedact: --redact keeps confidential names out of what goes to a
// SIEM, IDs in.
func TestAuditRedact(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), "Project Falcon term sheet.txt")
	os.WriteFile(src, []byte("terms\n"), 0o600)
	ok(t, "import", "--vault", dir, "--folder", "Confidential", src)
	expect(t, 3, "export", "--vault", dir, "Confidential/Project Falcon term sheet.txt", "--out", filepath.Join(t.TempDir(), "x"))
	plain := ok(t, "audit", "--vault", dir, "--cef")
	if !strings.Contains(plain, "Falcon") {
		t.Fatalf("the unredacted trail should name the file:\n%s", plain)
	}
	for _, format := range []string{"--cef", "--json"} {
		out := ok(t, "audit", "--vault", dir, format, "--redact")
		if strings.Contains(out, "Falcon") || strings.Contains(out, "Confidential") {
			t.Errorf("%s --redact names the document:\n%s", format, out)
		}
		if !strings.Contains(out, "export") {
			t.Errorf("%s --redact lost the events:\n%s", format, out)
		}
	}
}

// TestIndexIsPrivate: index.db and its WAL are the owner's only.
func TestIndexIsPrivate(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	for _, f := range []string{"index.db", "checkpoint", "unlock.json", "coffer.json"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", f, st.Mode().Perm())
		}
	}
}
