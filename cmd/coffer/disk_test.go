package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

// run runs coffer and returns its exit code, stdout and stderr.
func run(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := coffer(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("coffer %v: %v", args, err)
	return 0, "", ""
}

// expectRefused runs coffer, which must exit 1 saying words.
func expectRefused(t *testing.T, bin, words string, args ...string) {
	t.Helper()
	code, _, stderr := run(t, bin, args...)
	if code != 1 || !strings.Contains(stderr, words) {
		t.Errorf("coffer %v: exit %d, stderr %q; want exit 1 saying %q", args[0], code, stderr, words)
	}
}

// expectOK runs coffer, which must succeed, and returns its stdout.
func expectOK(t *testing.T, bin string, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, bin, args...)
	if code != 0 {
		t.Fatalf("coffer %v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}

func writeNoise(t *testing.T, path string, n int, seed byte) {
	t.Helper()
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskCommands runs the real binary on a small disk that fills up:
// an import that runs out of space half-way says so, exits 1 and leaves no
// chunk behind; with 0 bytes free ls, versions, audit and check work, and
// preview and import are refused saying why.
func TestFullDiskCommands(t *testing.T) {
	bin := buildCoffer(t)
	disk := testenv.SmallDisk(t, 48<<20)
	dir := filepath.Join(disk.Dir, "vault")
	src := t.TempDir()
	mustRun(t, bin, "init", "--vault", dir, "--user", "full@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "internal")
	notes := filepath.Join(src, "notes.txt")
	os.WriteFile(notes, []byte("margin 4.2%\n"), 0o600)
	mustRun(t, bin, "import", "--vault", dir, "--folder", "Deals", notes)

	big := filepath.Join(src, "big.bin")
	writeNoise(t, big, 24<<20, 7)
	disk.Fill(6 << 20)
	expectRefused(t, bin, "the disk holding the vault is full", "import", "--vault", dir, "--folder", "Deals", big)
	var report struct {
		Leftovers []string `json:"leftovers"`
		Checked   map[string]int
	}
	if err := json.Unmarshal([]byte(expectOK(t, bin, "check", "--vault", dir, "--json")), &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Leftovers) != 0 || countFiles(filepath.Join(dir, "objects", "chunk")) != report.Checked["chunk"] {
		t.Errorf("after the failed import: leftovers %v, %d chunk files for %d chunks",
			report.Leftovers, countFiles(filepath.Join(dir, "objects", "chunk")), report.Checked["chunk"])
	}

	disk.Fill(0)
	if out := expectOK(t, bin, "ls", "--vault", dir, "--folder", "Deals"); !strings.Contains(out, "notes.txt") || strings.Contains(out, "big.bin") {
		t.Errorf("ls with 0 bytes free:\n%s", out)
	}
	expectOK(t, bin, "versions", "--vault", dir, "Deals/notes.txt")
	expectOK(t, bin, "check", "--vault", dir)
	page := filepath.Join(t.TempDir(), "page.png")
	expectRefused(t, bin, "the disk holding the vault is full", "preview", "--vault", dir, "Deals/notes.txt", "--out", page)
	if _, err := os.Stat(page); !errors.Is(err, os.ErrNotExist) {
		t.Error("a page was written although its view could not be recorded")
	}
	small := filepath.Join(src, "small.txt")
	os.WriteFile(small, []byte("a new file\n"), 0o600)
	expectRefused(t, bin, "the disk holding the vault is full", "import", "--vault", dir, "--folder", "Deals", small)

	disk.Unfill()
	mustRun(t, bin, "import", "--vault", dir, "--folder", "Deals", big)
}

// TestReadOnlyCommands runs the real binary on a vault seen through a
// read-only bind mount.
func TestReadOnlyCommands(t *testing.T) {
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "ro@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "internal")
	notes := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notes, []byte("margin 4.2%\n"), 0o600)
	mustRun(t, bin, "import", "--vault", dir, "--folder", "Deals", notes)
	view := testenv.ReadOnlyView(t, dir)

	code, out, stderr := run(t, bin, "ls", "--vault", view, "--folder", "Deals")
	if code != 0 || !strings.Contains(out, "notes.txt") {
		t.Fatalf("ls: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "the vault is on read-only storage") {
		t.Errorf("ls does not warn that the unlock is not on record: %q", stderr)
	}
	expectOK(t, bin, "versions", "--vault", view, "Deals/notes.txt")
	expectOK(t, bin, "audit", "--vault", view)
	expectOK(t, bin, "check", "--vault", view)
	expectRefused(t, bin, "the vault is on read-only storage", "preview", "--vault", view, "Deals/notes.txt", "--out", filepath.Join(t.TempDir(), "p.png"))
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte("another file\n"), 0o600)
	expectRefused(t, bin, "the vault is on read-only storage", "import", "--vault", view, "--folder", "Deals", other)
	expectRefused(t, bin, "the vault is on read-only storage", "check", "--vault", view, "--repair")
}

// TestCheckRepairReclaimsAKilledImport kills an import half-way: check
// lists what it left, check --repair removes it, and the vault is whole.
func TestCheckRepairReclaimsAKilledImport(t *testing.T) {
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "kill@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "internal")
	big := filepath.Join(t.TempDir(), "big.bin")
	writeNoise(t, big, 64<<20, 8)
	chunks := filepath.Join(dir, "objects", "chunk")
	cmd := coffer(bin, "import", "--vault", dir, "--folder", "Deals", big)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	defer close(quit)
	select {
	case <-afterChunks(chunks, 4, quit):
		cmd.Process.Kill()
		cmd.Wait()
	case <-time.After(time.Minute):
		t.Fatal("the import stored no chunks in a minute")
	}
	out := expectOK(t, bin, "check", "--vault", dir)
	if !strings.Contains(out, "left over") {
		t.Fatalf("check does not list what the killed import left:\n%s", out)
	}
	out = expectOK(t, bin, "check", "--vault", dir, "--repair")
	if !strings.Contains(out, "Removed ") || strings.Contains(out, "Removed 0 leftover objects") {
		t.Errorf("check --repair:\n%s", out)
	}
	if n := countFiles(chunks); n != 0 {
		t.Errorf("%d chunk files after --repair; the vault has no version", n)
	}
	if out := expectOK(t, bin, "check", "--vault", dir); strings.Contains(out, "left over") {
		t.Errorf("check after --repair:\n%s", out)
	}
}
