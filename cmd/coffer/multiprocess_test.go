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
