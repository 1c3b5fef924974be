package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliRounds is how many times each command runs, the four interleaved, so
// that load from other processes falls on all of them alike.
const cliRounds = 9

// proc is one run of a child process: wall time and CPU time (user +
// system) in milliseconds.
type proc struct{ wall, cpu float64 }

// BenchmarkPreviewCLI times the one-shot `coffer preview --page 1 --dpi
// 150` of octave.pdf (internal class: a file may be written) as a user
// runs it — a new process that unlocks the vault, starts PDFium from its
// sealed compile cache, decrypts, opens, renders, watermarks, records the
// view and writes a PNG — against `pdftoppm -f 1 -l 1 -r 150 -png` and
// `mutool draw -r 150` on the same plaintext file. `coffer ls` on the same
// vault times the unlock alone, so that the share of the PDF work can be
// told apart from the passphrase's scrypt; the same preview of a second
// vault in an unlocked session ('coffer unlock') runs without it. Every
// command runs cliRounds
// times, interleaved; medians are compared. The compile cache lives in a
// fresh XDG_CACHE_HOME, filled by one untimed preview first.
func BenchmarkPreviewCLI(b *testing.B) {
	for _, bin := range []string{"pdftoppm", "mutool"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Skipf("%s not on PATH; install the peers with: apt-get install poppler-utils mupdf-tools", bin)
		}
	}
	root := scratchDir(b)
	file := octavePDF(b, root)
	coffer := buildCoffer(b, root)
	vault := filepath.Join(root, "vault")
	env := []string{"COFFER_PASSPHRASE=" + passphrase, "XDG_CACHE_HOME=" + filepath.Join(root, "cache")}
	untimed(b, env, coffer, "init", "--vault", vault, "--user", "bench@example.com", "--name", "Bench Viewer")
	untimed(b, env, coffer, "folder", "create", "--vault", vault, "Docs", "--class", "internal")
	untimed(b, env, coffer, "import", "--vault", vault, "--folder", "Docs", file)
	// A second vault in an unlocked session ('coffer unlock'): its
	// commands open it without scrypt.
	session := filepath.Join(root, "session-vault")
	untimed(b, env, coffer, "init", "--vault", session, "--user", "bench@example.com", "--name", "Bench Viewer")
	untimed(b, env, coffer, "folder", "create", "--vault", session, "Docs", "--class", "internal")
	untimed(b, env, coffer, "import", "--vault", session, "--folder", "Docs", file)
	untimed(b, env, coffer, "unlock", "--vault", session)
	b.Cleanup(func() { _ = exec.Command(coffer, "lock", "--vault", session).Run() })
	dpi := strconv.Itoa(previewDPI)
	out := filepath.Join(root, "coffer.png")
	cmds := map[string][]string{
		"coffer preview": {coffer, "preview", "--vault", vault, "Docs/" + filepath.Base(file), "--page", "1", "--dpi", dpi, "--out", out, "--force"},
		"coffer ls":      {coffer, "ls", "--vault", vault},
		"coffer preview (s)": {coffer, "preview", "--vault", session, "Docs/" + filepath.Base(file), "--page", "1", "--dpi", dpi,
			"--out", filepath.Join(root, "coffer-s.png"), "--force"},
		"pdftoppm": {"pdftoppm", "-f", "1", "-l", "1", "-r", dpi, "-png", file, filepath.Join(root, "pdftoppm")},
		"mutool":   {"mutool", "draw", "-r", dpi, "-o", filepath.Join(root, "mutool.png"), file, "1"},
	}
	order := []string{"coffer preview", "pdftoppm", "coffer ls", "coffer preview (s)", "mutool"}
	for _, name := range order { // untimed: fills the compile cache and the page cache
		child(b, env, cmds[name])
	}
	b.ResetTimer()
	runs := map[string][]proc{}
	for i := 0; i < b.N*cliRounds; i++ {
		for k := range order { // rotate who goes first
			name := order[(i+k)%len(order)]
			runs[name] = append(runs[name], child(b, env, cmds[name]))
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		b.Fatalf("coffer preview wrote no PNG: %v", err)
	}

	med := func(name string) proc { return median(runs[name]) }
	cp, ls, pop, mu, cs := med("coffer preview"), med("coffer ls"), med("pdftoppm"), med("mutool"), med("coffer preview (s)")
	fmt.Printf("\n`coffer preview` of page 1 of %s at %s dpi to PNG, a new process each time, against its peers on the plaintext file;\n", filepath.Base(file), dpi)
	fmt.Printf("each command %d times, interleaved; medians (min–max wall)\n", len(runs["pdftoppm"]))
	fmt.Printf("%-34s %9s %9s %17s\n", "command", "wall ms", "CPU ms", "wall range ms")
	for _, name := range order {
		r, lo, hi := med(name), slices.MinFunc(runs[name], byWall), slices.MaxFunc(runs[name], byWall)
		fmt.Printf("%-34s %9.1f %9.1f %8.1f–%-8.1f\n", name, r.wall, r.cpu, lo.wall, hi.wall)
	}
	net := proc{cp.wall - ls.wall, cp.cpu - ls.cpu}
	fmt.Printf("%-34s %9.1f %9.1f\n", "coffer preview minus coffer ls", net.wall, net.cpu)
	fmt.Println()
	fmt.Printf("coffer preview / pdftoppm: %5.2fx wall, %5.2fx CPU  (budget <= %.1f: %s)\n",
		cp.wall/pop.wall, cp.cpu/pop.cpu, budgetVsPdftoppm, verdict(cp.wall/pop.wall <= budgetVsPdftoppm))
	fmt.Printf("coffer preview / mutool:   %5.2fx wall, %5.2fx CPU\n", cp.wall/mu.wall, cp.cpu/mu.cpu)
	fmt.Printf("without the unlock (preview minus ls) / pdftoppm: %5.2fx wall, %5.2fx CPU; / mutool: %5.2fx wall, %5.2fx CPU\n",
		net.wall/pop.wall, net.cpu/pop.cpu, net.wall/mu.wall, net.cpu/mu.cpu)
	fmt.Printf("in an unlocked session (s) / pdftoppm: %5.2fx wall, %5.2fx CPU  (budget <= %.1f: %s); / mutool: %5.2fx wall\n",
		cs.wall/pop.wall, cs.cpu/pop.cpu, budgetVsPdftoppm, verdict(cs.wall/pop.wall <= budgetVsPdftoppm), cs.wall/mu.wall)
	fmt.Printf("load average at the end: %s\n", loadAverage())
	b.ReportMetric(cp.wall, "preview-ms")
	b.ReportMetric(ls.wall, "unlock-ms")
	b.ReportMetric(cp.wall/pop.wall, "preview-vs-pdftoppm-x")
	b.ReportMetric(cp.cpu/pop.cpu, "preview-cpu-vs-pdftoppm-x")
	b.ReportMetric(net.wall/pop.wall, "after-unlock-vs-pdftoppm-x")
	b.ReportMetric(cp.wall/mu.wall, "preview-vs-mutool-x")
	b.ReportMetric(cs.wall/pop.wall, "session-preview-vs-pdftoppm-x")
	b.ReportMetric(cs.cpu/pop.cpu, "session-preview-cpu-vs-pdftoppm-x")
}

// child runs argv with env added and returns its wall and CPU time.
func child(b *testing.B, env []string, argv []string) proc {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	p := proc{wall: ms(wall)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.cpu = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
	}
	return p
}

func byWall(a, b proc) int { return int(a.wall*1000) - int(b.wall*1000) }

// median returns the median wall time and, separately, the median CPU time.
func median(ps []proc) proc {
	walls, cpus := make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		walls[i], cpus[i] = p.wall, p.cpu
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	return proc{walls[len(walls)/2], cpus[len(cpus)/2]}
}

// loadAverage is /proc/loadavg's first three fields, or "?".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
