package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Budgets coffer import is held to.
const (
	budgetImportVsAge   = 1.0 // coffer import throughput / age throughput, at least
	budgetReimportVsAge = 3.0 // age time / coffer re-import time, at least
	budgetRSSMiB        = 150 // coffer peak RSS in MiB, at most
)

// passphrase unlocks the benchmark's throwaway vault and restic repository.
const passphrase = "coffer-bench-passphrase"

// run is the outcome of one timed child process.
type run struct {
	tool   string
	secs   float64
	rssKiB int64
	out    string
}

// mbps is the throughput of r over size bytes in MB/s (10^6 bytes).
func (r run) mbps(size int64) float64 { return float64(size) / 1e6 / r.secs }

// rssMiB is the peak resident set size of r in MiB.
func (r run) rssMiB() float64 { return float64(r.rssKiB) / 1024 }

// results holds every timed run of one benchmark iteration: coffer with
// the passphrase given to each command (each pays scrypt's unlock) and in
// an unlocked session ('coffer unlock' once, untimed).
type results struct {
	age, restic, unlock, imp, reimp run
	sessImp, sessReimp              run
}

// BenchmarkImport times age, restic backup, coffer import and coffer
// re-import of the same file and prints a comparison table with budgets.
func BenchmarkImport(b *testing.B) {
	for _, bin := range []string{"age", "age-keygen", "restic"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Skipf("%s not on PATH; install the peers with: apt-get install age restic", bin)
		}
	}
	size := benchSize(b)
	root := scratchDir(b)
	input := filepath.Join(root, "input.bin")
	writeRandomFile(b, input, size)
	readFully(b, input)
	coffer := buildCoffer(b, root)
	b.ResetTimer()
	var res results
	for i := 0; i < b.N; i++ {
		res = measure(b, filepath.Join(root, fmt.Sprintf("iter%d", i)), coffer, input)
	}
	b.StopTimer()
	report(b, size, res)
}

// benchSize returns $COFFER_BENCH_SIZE in bytes, or 1 GiB.
func benchSize(b *testing.B) int64 {
	s := os.Getenv("COFFER_BENCH_SIZE")
	if s == "" {
		return 1 << 30
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("COFFER_BENCH_SIZE=%q: want a positive byte count", s)
	}
	return n
}

// scratchDir makes a directory under $COFFER_BENCH_DIR or os.TempDir()
// that is removed when the benchmark ends.
func scratchDir(b *testing.B) string {
	parent := os.Getenv("COFFER_BENCH_DIR")
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "coffer-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// writeRandomFile writes size pseudo-random bytes from a fixed-seed ChaCha8
// stream to path.
func writeRandomFile(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	src := rand.NewChaCha8([32]byte{'c', 'o', 'f', 'f', 'e', 'r'})
	w := bufio.NewWriterSize(f, 4<<20)
	if _, err := io.CopyN(w, src, size); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// readFully reads path once so every tool then reads it from a warm page
// cache; nothing is ever dropped from the cache.
func readFully(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
}

// buildCoffer builds ./cmd/coffer of the repository at ../ into dir and
// returns the binary's path.
func buildCoffer(b *testing.B, dir string) string {
	repo, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "coffer")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/coffer")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/coffer in %s: %v\n%s", repo, err, out)
	}
	return bin
}

// measure prepares each tool untimed under dir, then times age, restic,
// coffer unlock, coffer import and coffer re-import of input.
func measure(b *testing.B, dir, coffer, input string) results {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	key := filepath.Join(dir, "age-key.txt")
	untimed(b, nil, "age-keygen", "-o", key)
	recipient := strings.TrimSpace(untimed(b, nil, "age-keygen", "-y", key))
	repo := filepath.Join(dir, "restic-repo")
	resticEnv := []string{"RESTIC_PASSWORD=" + passphrase,
		"RESTIC_CACHE_DIR=" + filepath.Join(dir, "restic-cache")}
	untimed(b, resticEnv, "restic", "-r", repo, "init")
	vault := filepath.Join(dir, "vault")
	cofferEnv := []string{"COFFER_PASSPHRASE=" + passphrase}
	untimed(b, cofferEnv, coffer, "init", "--vault", vault, "--user", "a@example.com")
	untimed(b, cofferEnv, coffer, "folder", "create", "--vault", vault, "bench", "--class", "internal")
	syscall.Sync()

	var r results
	r.age = timed(b, "age", nil, "age", "-r", recipient, "-o", filepath.Join(dir, "out.age"), input)
	r.restic = timed(b, "restic backup", resticEnv, "restic", "-r", repo, "backup", input)
	r.unlock = timed(b, "coffer unlock (ls)", cofferEnv, coffer, "ls", "--vault", vault)
	imp := []string{coffer, "import", "--vault", vault, "--folder", "bench", input}
	r.imp = timed(b, "coffer import", cofferEnv, imp...)
	if strings.Contains(r.imp.out, "unchanged") {
		b.Fatalf("first import into a fresh vault said unchanged:\n%s", r.imp.out)
	}
	r.reimp = timed(b, "coffer re-import", cofferEnv, imp...)
	if !strings.Contains(r.reimp.out, "unchanged") {
		b.Errorf("re-import of the unchanged file did not say unchanged:\n%s", r.reimp.out)
	}

	// The same into a new folder (a new key: nothing dedupes) in an
	// unlocked session, without COFFER_PASSPHRASE.
	untimed(b, cofferEnv, coffer, "folder", "create", "--vault", vault, "session", "--class", "internal")
	untimed(b, cofferEnv, coffer, "unlock", "--vault", vault)
	b.Cleanup(func() { _ = exec.Command(coffer, "lock", "--vault", vault).Run() })
	syscall.Sync()
	imp = []string{coffer, "import", "--vault", vault, "--folder", "session", input}
	r.sessImp = timed(b, "coffer import (s)", nil, imp...)
	if strings.Contains(r.sessImp.out, "unchanged") {
		b.Fatalf("first import into a new folder said unchanged:\n%s", r.sessImp.out)
	}
	r.sessReimp = timed(b, "coffer re-import (s)", nil, imp...)
	if !strings.Contains(r.sessReimp.out, "unchanged") {
		b.Errorf("re-import of the unchanged file did not say unchanged:\n%s", r.sessReimp.out)
	}
	return r
}

// untimed runs argv with env added, failing the benchmark on error, and
// returns its standard output.
func untimed(b *testing.B, env []string, argv ...string) string {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// timed runs argv with env added and records its wall time and peak RSS.
// It syncs afterwards (untimed) so no tool pays for another's write-back.
func timed(b *testing.B, tool string, env []string, argv ...string) run {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out.Bytes())
	}
	r := run{tool: tool, secs: secs, out: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss // KiB on Linux
	}
	syscall.Sync()
	return r
}

// report prints the comparison table and budget verdicts and reports the
// ratios as benchmark metrics. The budgets are judged twice: with the
// passphrase given to the command, whose scrypt unlock (128 MiB, about a
// third of a second by design, see vault.ScryptWorkFactor) is in the
// figures, and in an unlocked session, which is how a user imports more
// than once in a while.
func report(b *testing.B, size int64, r results) {
	fmt.Printf("\ninput: %d bytes (%.0f MiB) pseudo-random; read once before timing, so every tool reads it from warm page cache\n",
		size, float64(size)/(1<<20))
	fmt.Printf("(s): in an unlocked session ('coffer unlock'), no passphrase given to the command\n")
	fmt.Printf("%-22s %9s %9s %13s\n", "tool", "seconds", "MB/s", "peak RSS MiB")
	for _, x := range []run{r.age, r.restic, r.imp, r.reimp, r.sessImp, r.sessReimp} {
		fmt.Printf("%-22s %9.3f %9.1f %13.1f\n", x.tool, x.secs, x.mbps(size), x.rssMiB())
	}
	fmt.Printf("%-22s %9.3f %9s %13.1f\n", "unlock", r.unlock.secs, "-", r.unlock.rssMiB())
	if net := r.imp.secs - r.unlock.secs; net > 0 {
		fmt.Printf("(coffer import minus unlock: %.3f s, %.1f MB/s)\n", net, float64(size)/1e6/net)
	}

	verdicts := func(label string, imp, reimp run) (float64, float64, float64) {
		importVsAge := r.age.secs / imp.secs
		reimportVsAge := r.age.secs / reimp.secs
		rss := max(imp.rssMiB(), reimp.rssMiB())
		fmt.Printf("\n%s\n", label)
		fmt.Printf("  coffer import / age throughput:    %6.2fx  (budget >= %.1f: %s)\n",
			importVsAge, budgetImportVsAge, verdict(importVsAge >= budgetImportVsAge))
		fmt.Printf("  coffer import / restic throughput: %6.2fx\n", r.restic.secs/imp.secs)
		fmt.Printf("  age time / coffer re-import time:  %6.2fx  (budget >= %.1f: %s)\n",
			reimportVsAge, budgetReimportVsAge, verdict(reimportVsAge >= budgetReimportVsAge))
		fmt.Printf("  coffer peak RSS:                   %6.1f MiB (budget <= %d: %s)\n",
			rss, budgetRSSMiB, verdict(rss <= budgetRSSMiB))
		return importVsAge, reimportVsAge, rss
	}
	importVsAge, reimportVsAge, rss := verdicts("passphrase given to each command (scrypt unlock included):", r.imp, r.reimp)
	sImportVsAge, sReimportVsAge, sRSS := verdicts("in an unlocked session:", r.sessImp, r.sessReimp)

	b.ReportMetric(importVsAge, "import-vs-age-x")
	b.ReportMetric(r.restic.secs/r.imp.secs, "import-vs-restic-x")
	b.ReportMetric(reimportVsAge, "reimport-vs-age-x")
	b.ReportMetric(rss, "coffer-rss-MiB")
	b.ReportMetric(r.imp.mbps(size), "import-MB/s")
	b.ReportMetric(r.unlock.secs, "unlock-s")
	b.ReportMetric(sImportVsAge, "session-import-vs-age-x")
	b.ReportMetric(sReimportVsAge, "session-reimport-vs-age-x")
	b.ReportMetric(sRSS, "session-rss-MiB")
}

// verdict renders a budget check.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
