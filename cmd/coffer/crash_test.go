package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
)

const crashPass = "crash test passphrase"

// built is the real binary, built once for all the tests of the package:
// linking it takes seconds, about as long as most of these tests.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildCoffer returns the real binary, built on first use.
func buildCoffer(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "coffer-test-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "coffer")
		cmd := exec.Command("go", "build", "-o", built.bin, "./cmd/coffer")
		cmd.Dir = testenv.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func coffer(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "COFFER_PASSPHRASE="+crashPass)
	return cmd
}

func mustRun(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	out, err := coffer(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("coffer %v: %v\n%s", args, err, out)
	}
	return out
}

type imported struct {
	name string
	seq  int
	sum  [32]byte
}

// TestKillDuringImport kills `coffer import` with SIGKILL at random moments
// and then demands that `coffer check` passes and that every import that
// had reported success reads back intact. COFFER_LONG=1 runs 200 rounds.
func TestKillDuringImport(t *testing.T) {
	rounds := 6
	if os.Getenv("COFFER_LONG") != "" {
		rounds = 200
	}
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "crash@example.com")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Deals", "--class", "confidential")
	mustRun(t, bin, "folder", "create", "--vault", dir, "Public", "--class", "public")
	src := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("COFFER_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("COFFER_CRASH_SEED=%d reproduces this run's choices", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	var done []imported
	killed := 0
	objects := filepath.Join(dir, "objects", "chunk")
	for round := range rounds {
		name := fmt.Sprintf("doc-%03d.bin", round)
		if round%3 == 2 {
			name = "shared.bin" // a new version of one file
		}
		data := make([]byte, (16+rng.IntN(48))<<20)
		var key [32]byte
		fillRandom(rng, key[:])
		rand.NewChaCha8(key).Read(data)
		path := filepath.Join(src, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := coffer(bin, "import", "--vault", dir, "--folder", "Public", path)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Even rounds run to completion; odd rounds are killed once the
		// import has stored a random number of new chunks (up to half the
		// file's size in MiB: fewer than it has, at ~1 MiB a chunk; the
		// vault is then between chunks, or between a chunk's rename and
		// the next). Watching the vault rather than
		// the clock keeps the kill inside the import on a loaded machine.
		var kill <-chan struct{}
		quit := make(chan struct{})
		if round%2 == 1 {
			kill = afterChunks(objects, 1+rng.IntN(max(1, len(data)>>21)), quit)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("round %d: import failed without a kill: %v\n%s", round, err, out.String())
			}
			done = append(done, imported{name: name, seq: currentSeq(t, bin, dir, "Public/"+name), sum: sha256.Sum256(data)})
		case <-kill:
			_ = cmd.Process.Kill()
			<-exited
			killed++
		}
		close(quit)
		checkVault(t, bin, dir, round)
	}
	for _, d := range done {
		out := filepath.Join(t.TempDir(), "out")
		mustRun(t, bin, "export", "--vault", dir, "Public/"+d.name, "--version", strconv.Itoa(d.seq), "--out", out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(b) != d.sum {
			t.Errorf("%s version %d: content changed after crashes", d.name, d.seq)
		}
	}
	t.Logf("%d rounds: %d killed mid-import, %d completed and verified", rounds, killed, len(done))
	if killed < rounds/4 {
		t.Errorf("only %d of %d rounds were interrupted: the kill window misses the import", killed, rounds)
	}
}

// afterChunks closes the returned channel once n more chunk objects exist
// under dir than when it was called, polling every few milliseconds; it
// stops when quit closes.
func afterChunks(dir string, n int, quit <-chan struct{}) <-chan struct{} {
	fire := make(chan struct{})
	base := countFiles(dir)
	go func() {
		for countFiles(dir) < base+n {
			select {
			case <-time.After(3 * time.Millisecond):
			case <-quit:
				return
			}
		}
		close(fire)
	}()
	return fire
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func currentSeq(t *testing.T, bin, dir, path string) int {
	t.Helper()
	var vers []struct {
		Version int
		Current bool
	}
	if err := json.Unmarshal(mustRun(t, bin, "versions", "--vault", dir, path, "--json"), &vers); err != nil {
		t.Fatal(err)
	}
	for _, v := range vers {
		if v.Current {
			return v.Version
		}
	}
	t.Fatalf("%s has no current version", path)
	return 0
}

func checkVault(t *testing.T, bin, dir string, round int) {
	t.Helper()
	out, err := coffer(bin, "check", "--vault", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("round %d: check after kill: %v\n%s", round, err, out)
	}
}

// TestQuietStderrUnderCLocale runs a command with the C locale, as on
// servers and in CI: the GUI toolkit linked into the binary must not log
// to stderr (see internal/locale).
func TestQuietStderrUnderCLocale(t *testing.T) {
	bin := buildCoffer(t)
	dir := filepath.Join(t.TempDir(), "vault")
	mustRun(t, bin, "init", "--vault", dir, "--user", "c@example.com")
	for _, env := range [][]string{{"LANG=C"}, {"LANG=", "LC_ALL=POSIX"}, {"LANG=C.UTF-8"}} {
		cmd := coffer(bin, "ls", "--vault", dir)
		cmd.Env = append(cmd.Env, append([]string{"LC_ALL=", "LC_MESSAGES="}, env...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if stderr.Len() > 0 {
			t.Errorf("%v: stderr %q", env, stderr.String())
		}
	}
}
