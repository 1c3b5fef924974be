package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestSeveralProcessesOnOneVault runs real coffer processes on one vault at
// once: readers during a long import must not disturb it (opening a vault
// used to empty objects/tmp under the writer), and imports of one name at
// once must all land as versions (they used to fail with "version 2:
// already exists").
func TestSeveralProcessesOnOneVault(t *testing.T) {
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "multi@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "internal")
	src := t.TempDir()
	big := filepath.Join(src, "big.bin")
	data := make([]byte, 256<<20) // long enough (seconds) for the others to run meanwhile
	rand.NewChaCha8([32]byte{1}).Read(data)
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// A long import, and readers and other writers while it runs.
	long := coffer(bin, "import", "--vault", dir, "--folder", "Deals", big)
	var longOut bytes.Buffer
	long.Stdout, long.Stderr = &longOut, &longOut
	if err := long.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustRun(t, bin, "ls", "--vault", dir, "--folder", "Deals")
		small := filepath.Join(src, fmt.Sprintf("small-%d.txt", i))
		os.WriteFile(small, []byte(fmt.Sprintf("small file %d\n", i)), 0o600)
		mustRun(t, bin, "import", "--vault", dir, "--folder", "Deals", small)
	}
	if err := long.Wait(); err != nil {
		t.Fatalf("the long import failed while others used the vault: %v\n%s", err, longOut.Bytes())
	}

	// Six processes import six different contents under one name at once.
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	outs := make([][]byte, writers)
	for i := range writers {
		p := filepath.Join(src, fmt.Sprintf("w%d", i), "terms.txt")
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(fmt.Sprintf("terms from writer %d\n", i)), 0o600)
		wg.Go(func() {
			outs[i], errs[i] = coffer(bin, "import", "--vault", dir, "--folder", "Deals", p).CombinedOutput()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	var versions []struct {
		Seq int `json:"seq"`
	}
	out := mustRun(t, bin, "versions", "--vault", dir, "Deals/terms.txt", "--json")
	if err := json.Unmarshal(out, &versions); err != nil {
		t.Fatalf("versions --json: %v\n%s", err, out)
	}
	if len(versions) != writers {
		t.Fatalf("%d versions of terms.txt, want one per writer (%d)", len(versions), writers)
	}
	mustRun(t, bin, "check", "--vault", dir)
	exported := filepath.Join(t.TempDir(), "big.bin")
	mustRun(t, bin, "export", "--vault", dir, "Deals/big.bin", "--out", exported)
	if b, err := os.ReadFile(exported); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the long import does not read back: %v", err)
	}
}

// TestSameNameImportsWithReaders: processes importing different contents
// under one name while others list the vault, round after round. Every
// import that said it landed is a version holding its content, exactly
// once; check finds nothing to repair, and nobody reports a repair. (Each
// open used to adopt a live writer's manifest before the writer recorded
// it: the writer then removed it, and versions reported imported were
// gone, the vault damaged.)
func TestSameNameImportsWithReaders(t *testing.T) {
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "race@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "F", "--class", "internal")
	// Readers open fast in a session; where the kernel keyring is refused
	// they take the passphrase instead.
	_ = coffer(bin, "unlock", "--vault", dir).Run()
	t.Cleanup(func() { _ = coffer(bin, "lock", "--vault", dir).Run() })
	src := t.TempDir()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var readerErrs []string
	var mu sync.Mutex
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				args := []string{"ls", "--vault", dir, "--folder", "F"}
				if r == 1 {
					args = []string{"versions", "--vault", dir, "F/doc.bin"}
				}
				out, _ := coffer(bin, args...).CombinedOutput()
				if bytes.Contains(out, []byte("put back in line")) || bytes.Contains(out, []byte("damaged")) {
					mu.Lock()
					readerErrs = append(readerErrs, string(out))
					mu.Unlock()
				}
			}
		})
	}
	const writers, rounds = 6, 3
	want := map[string]bool{}
	for round := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			p := filepath.Join(src, fmt.Sprintf("r%d-w%d", round, w), "doc.bin")
			content := fmt.Sprintf("round %d writer %d %s\n", round, w, bytes.Repeat([]byte{'x'}, 4096*w))
			os.MkdirAll(filepath.Dir(p), 0o700)
			os.WriteFile(p, []byte(content), 0o600)
			want[content] = true
			wg.Go(func() {
				if out, err := coffer(bin, "import", "--vault", dir, "--folder", "F", p).CombinedOutput(); err != nil {
					t.Errorf("round %d writer %d: %v\n%s", round, w, err, out)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	readers.Wait()
	for _, e := range readerErrs {
		t.Errorf("a reader reported a repair or damage during normal use:\n%s", e)
	}
	out := mustRun(t, bin, "check", "--vault", dir)
	if bytes.Contains(out, []byte("put back")) {
		t.Errorf("check repaired something:\n%s", out)
	}
	var versions []struct {
		Seq int `json:"version"`
	}
	if err := json.Unmarshal(mustRun(t, bin, "versions", "--vault", dir, "F/doc.bin", "--json"), &versions); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, v := range versions {
		p := filepath.Join(t.TempDir(), "v")
		mustRun(t, bin, "export", "--vault", dir, "F/doc.bin", "--version", fmt.Sprint(v.Seq), "--out", p)
		b, _ := os.ReadFile(p)
		got[string(b)]++
	}
	for c := range want {
		if got[c] != 1 {
			t.Errorf("%.20q… is in %d versions, want 1", c, got[c])
		}
	}
	if len(versions) != len(want) {
		t.Errorf("%d versions of doc.bin, want %d (one per import)", len(versions), len(want))
	}
}
