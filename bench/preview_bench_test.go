package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/coffer-vault/coffer/watermark"
)

// Budgets coffer's PDF preview is held to.
const (
	budgetFirstPageMs   = 200 // Open + Render page 1 + Stamp, renderer started
	budgetNextPageMs    = 50  // Render + Stamp of the next page, document open
	budgetVsPdftoppm    = 1.0 // coffer time / pdftoppm time for one page, at most
	budgetPreviewRSSMiB = 300 // peak RSS after 200 pages, at most
)

// Preview benchmark parameters. Pages are 1-based, as in pdftoppm and mutool.
const (
	previewDPI  = 150
	rssDPI      = 110
	rssPages    = 200
	farPage     = 700
	octavePath  = "usr/share/doc/octave/octave.pdf" // inside octave-doc
	octaveDebPk = "octave-doc"
)

// previewSpec is the watermark stamped on every page.
var previewSpec = watermark.Spec{
	Name: "Bench Viewer", Email: "viewer@example.com", Device: "bench-host",
	Time: time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC), TraceCode: "BENCH-0001",
}

// step is the wall time of one coffer step and the parts of it spent in
// Open, Render, Stamp and PNG encoding (page 1 only).
type step struct{ total, open, render, stamp, png time.Duration }

// previewResults holds every measurement of one benchmark iteration.
type previewResults struct {
	pages                        int
	coldStart, warmStart, stampr time.Duration
	page1, pageFar, pageNext     step
	seq                          step    // rssPages pages at rssDPI
	seqDone                      int     // pages of seq that rendered and stamped
	hwmMiB, phaseHWMMiB          float64 // phaseHWMMiB < 0: reset unsupported
	phaseBaseMiB                 float64 // VmRSS when VmHWM was reset
	peerBaseMiB                  float64 // largest VmRSS of this process at a peer's start
	poppler1, popplerFar         run
	mutool1, mutoolFar           run
	lastImage                    *image.RGBA // the page openRenderStamp rendered last
}

// BenchmarkPreviewPDF times coffer's in-process PDF preview (PDFium in a
// wazero sandbox plus watermark) against pdftoppm and mutool on octave.pdf.
func BenchmarkPreviewPDF(b *testing.B) {
	for _, bin := range []string{"pdftoppm", "mutool"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Skipf("%s not on PATH; install the peers with: apt-get install poppler-utils mupdf-tools", bin)
		}
	}
	root := scratchDir(b)
	file := octavePDF(b, root)
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var res previewResults
	for i := 0; i < b.N; i++ {
		res = measurePreview(b, filepath.Join(root, fmt.Sprintf("iter%d", i)), file, data)
	}
	b.StopTimer()
	reportPreview(b, file, len(data), res)
}

// octavePDF returns $COFFER_BENCH_PDF, or octave.pdf extracted from the
// octave-doc package fetched with apt-get download into dir.
func octavePDF(b *testing.B, dir string) string {
	if p := os.Getenv("COFFER_BENCH_PDF"); p != "" {
		if _, err := os.Stat(p); err != nil {
			b.Fatalf("COFFER_BENCH_PDF: %v", err)
		}
		return p
	}
	for _, bin := range []string{"apt-get", "dpkg"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Skipf("%s not on PATH to fetch %s; set COFFER_BENCH_PDF to a copy of octave.pdf", bin, octaveDebPk)
		}
	}
	dl := exec.Command("apt-get", "download", octaveDebPk)
	dl.Dir = dir
	if out, err := dl.CombinedOutput(); err != nil {
		b.Skipf("apt-get download %s failed (%v); set COFFER_BENCH_PDF to a copy of octave.pdf\n%s", octaveDebPk, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, octaveDebPk+"_*.deb"))
	if len(debs) != 1 {
		b.Fatalf("apt-get download %s left %d .deb files in %s", octaveDebPk, len(debs), dir)
	}
	tree := filepath.Join(dir, "octave-doc")
	untimed(b, nil, "dpkg", "-x", debs[0], tree)
	p := filepath.Join(tree, octavePath)
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("%s has no %s: %v", debs[0], octavePath, err)
	}
	return p
}

// measurePreview runs every coffer and peer measurement with a fresh
// compilation cache under dir.
func measurePreview(b *testing.B, dir, file string, data []byte) previewResults {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	var res previewResults
	res.poppler1, res.mutool1 = measurePeers(b, dir, file, 1, &res)
	res.popplerFar, res.mutoolFar = measurePeers(b, dir, file, farPage, &res)
	r := startRenderer(b, filepath.Join(dir, "wazero-cache"), &res)
	defer r.Close()
	start := time.Now()
	st, err := watermark.NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...) // as the app
	if err != nil {
		b.Fatal(err)
	}
	res.stampr = time.Since(start)
	measurePages(b, r, st, data, &res)
	measureSequential(b, r, st, data, &res)
	return res
}

// startRenderer fills cacheDir with a first (cold) renderer, closes it and
// returns a second one started from the warm cache, recording both times.
func startRenderer(b *testing.B, cacheDir string, res *previewResults) *pdf.Renderer {
	ctx := context.Background()
	opts := pdf.Options{CacheDir: cacheDir, CacheKey: make([]byte, pdf.CacheKeySize)}
	rand.Read(opts.CacheKey)
	start := time.Now()
	cold, err := pdf.NewRenderer(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	res.coldStart = time.Since(start)
	if err := cold.Close(); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	r, err := pdf.NewRenderer(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	res.warmStart = time.Since(start)
	return r
}

// measurePages times page 1 and page farPage (each Open + Render + Stamp)
// and page farPage+1 rendered next on the same document.
func measurePages(b *testing.B, r *pdf.Renderer, st *watermark.Stamper, data []byte, res *previewResults) {
	d, took := openRenderStamp(b, r, st, data, 1, res)
	res.page1, res.pages = took, d.PageCount()
	// What `coffer preview` does next: the page as a PNG file.
	var png bytes.Buffer
	start := time.Now()
	if err := preview.EncodePNG(&png, res.lastImage); err != nil {
		b.Fatal(err)
	}
	res.page1.png = time.Since(start)
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	if res.pages <= farPage {
		b.Fatalf("input has %d pages; the benchmark needs more than %d", res.pages, farPage)
	}
	d, res.pageFar = openRenderStamp(b, r, st, data, farPage, res)
	defer d.Close()
	start = time.Now()
	if _, err := renderStamp(d, st, farPage+1, previewDPI, &res.pageNext); err != nil {
		b.Fatal(err)
	}
	res.pageNext.total = time.Since(start)
}

// openRenderStamp opens data and renders and stamps page (1-based) at
// previewDPI, returning the open document and the times taken.
func openRenderStamp(b *testing.B, r *pdf.Renderer, st *watermark.Stamper, data []byte, page int, res *previewResults) (*pdf.Document, step) {
	var t step
	start := time.Now()
	d, err := r.Open(context.Background(), data)
	if err != nil {
		b.Fatal(err)
	}
	t.open = time.Since(start)
	if res.lastImage, err = renderStamp(d, st, page, previewDPI, &t); err != nil {
		b.Fatal(errJoinClose(err, d))
	}
	t.total = time.Since(start)
	return d, t
}

// errJoinClose closes d and returns err with any close error appended.
func errJoinClose(err error, d *pdf.Document) error {
	if cerr := d.Close(); cerr != nil {
		return fmt.Errorf("%w (close: %v)", err, cerr)
	}
	return err
}

// renderStamp renders page (1-based) of d at dpi and stamps the watermark,
// adding the time of each to t.
func renderStamp(d *pdf.Document, st *watermark.Stamper, page int, dpi float64, t *step) (*image.RGBA, error) {
	start := time.Now()
	img, err := d.Render(context.Background(), page-1, dpi)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", page, err)
	}
	mid := time.Now()
	t.render += mid.Sub(start)
	// A new trace code each time, as each view has: the sprite is drawn anew.
	spec := previewSpec
	spec.TraceCode = fmt.Sprintf("BENCH-%04d", page)
	if err := st.Stamp(img, spec); err != nil {
		return nil, fmt.Errorf("page %d: stamp: %w", page, err)
	}
	t.stamp += time.Since(mid)
	return img, nil
}

// measureSequential renders and stamps pages 1..rssPages at rssDPI on one
// document, discarding the images, and records peak RSS: over the process
// since the peers ran, and since a reset of VmHWM (after returning free
// heap to the OS) just before the run.
func measureSequential(b *testing.B, r *pdf.Renderer, st *watermark.Stamper, data []byte, res *previewResults) {
	before := procStatusMiB(b, "VmHWM:")
	debug.FreeOSMemory()
	res.phaseHWMMiB = -1
	resetOK := resetPeakRSS()
	res.phaseBaseMiB = procStatusMiB(b, "VmRSS:")
	start := time.Now()
	d, err := r.Open(context.Background(), data)
	if err != nil {
		b.Fatal(err)
	}
	for p := 1; p <= rssPages; p++ {
		if _, err := renderStamp(d, st, p, rssDPI, &res.seq); err != nil {
			b.Errorf("sequential run: %v", err)
			continue
		}
		res.seqDone++
	}
	res.seq.total = time.Since(start)
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	after := procStatusMiB(b, "VmHWM:")
	res.hwmMiB = max(before, after)
	if resetOK {
		res.phaseHWMMiB = after
	}
}

// resetPeakRSS sets this process's VmHWM to its current VmRSS and reports
// whether the kernel allowed it.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatusMiB reads a kB field of /proc/self/status, such as "VmHWM:",
// in MiB.
func procStatusMiB(b *testing.B, field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("%s %q: %v", field, v, err)
			}
			return float64(kib) / 1024
		}
	}
	b.Fatalf("no %s in /proc/self/status (err %v)", field, sc.Err())
	return 0
}

// measurePeers runs pdftoppm and mutool on page (1-based) of file twice
// each at previewDPI and returns the second run of each. A child's peak RSS
// starts at this process's VmHWM (the child shares its memory until exec),
// so VmHWM is reset before each run and the floor kept in res.
func measurePeers(b *testing.B, dir, file string, page int, res *previewResults) (poppler, mutool run) {
	n, dpi := strconv.Itoa(page), strconv.Itoa(previewDPI)
	prefix := filepath.Join(dir, "pdftoppm-"+n)
	out := filepath.Join(dir, "mutool-"+n+".png")
	peer := func(tool string, argv ...string) run {
		resetPeakRSS()
		res.peerBaseMiB = max(res.peerBaseMiB, procStatusMiB(b, "VmHWM:"))
		return timed(b, tool+" page "+n, nil, argv...)
	}
	for range 2 {
		poppler = peer("pdftoppm", "pdftoppm", "-f", n, "-l", n, "-r", dpi, "-png", file, prefix)
		mutool = peer("mutool", "mutool", "draw", "-r", dpi, "-o", out, file, n)
	}
	if pngs, _ := filepath.Glob(prefix + "*.png"); len(pngs) != 1 {
		b.Errorf("pdftoppm page %s wrote %d PNG files", n, len(pngs))
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		b.Errorf("mutool page %s wrote no PNG: %v", n, err)
	}
	return poppler, mutool
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportPreview prints the comparison table and budget verdicts and
// reports the key figures as benchmark metrics.
func reportPreview(b *testing.B, file string, size int, r previewResults) {
	fmt.Printf("\ninput: %s (%d bytes, %d pages), held in memory by coffer; %d dpi unless noted\n",
		file, size, r.pages, previewDPI)
	fmt.Println("peers: wall time of the 2nd of two runs, including PNG encoding and writing; coffer: in process, image kept in memory (page 1 also encoded as PNG)")
	fmt.Printf("%-46s %10s %10s %10s %13s\n", "step", "ms", "render ms", "stamp ms", "peak RSS MiB")
	row := func(name string, t step) {
		render, stamp := "-", "-"
		if t.render+t.stamp > 0 {
			render, stamp = fmt.Sprintf("%.1f", ms(t.render)), fmt.Sprintf("%.1f", ms(t.stamp))
		}
		fmt.Printf("%-46s %10.1f %10s %10s %13s\n", name, ms(t.total), render, stamp, "-")
	}
	row("coffer NewRenderer, cold (fills cache)", step{total: r.coldStart})
	row("coffer NewRenderer, warm cache", step{total: r.warmStart})
	row("coffer NewStamper", step{total: r.stampr})
	row("coffer page 1: Open+Render+Stamp", r.page1)
	row(fmt.Sprintf("coffer page %d: Open+Render+Stamp", farPage), r.pageFar)
	row(fmt.Sprintf("coffer page %d after %d: Render+Stamp", farPage+1, farPage), r.pageNext)
	row(fmt.Sprintf("coffer pages 1-%d @%d dpi: Open+Render+Stamp", rssPages, rssDPI), r.seq)
	for _, x := range []run{r.poppler1, r.mutool1, r.popplerFar, r.mutoolFar} {
		fmt.Printf("%-46s %10.1f %10s %10s %13.1f\n", x.tool, x.secs*1000, "-", "-", x.rssMiB())
	}
	if r.seqDone > 0 {
		fmt.Printf("(sequential run: %d of %d pages ok, %.1f ms/page)\n",
			r.seqDone, rssPages, ms(r.seq.total)/float64(r.seqDone))
	}
	fmt.Printf("(peer peak RSS cannot be below this process's RSS when it started them: %.1f MiB)\n", r.peerBaseMiB)
	printStages(r)
	printPreviewBudgets(b, r)
}

// printStages prints where a one-shot preview of page 1 spends its time
// in process, as `coffer preview` does after the unlock (which
// BenchmarkPreviewCLI times): start PDFium from the warm cache, parse the
// fonts, open, render, watermark with a new trace code, encode the PNG.
func printStages(r previewResults) {
	stages := []struct {
		name string
		d    time.Duration
	}{
		{"NewRenderer, warm cache", r.warmStart},
		{"NewStamper (fonts as the app)", r.stampr},
		{"Open (parse)", r.page1.open},
		{"Render page 1", r.page1.render},
		{"Stamp (new trace code)", r.page1.stamp},
		{"EncodePNG", r.page1.png},
	}
	var sum time.Duration
	for _, st := range stages {
		sum += st.d
	}
	fmt.Printf("\none-shot page 1 in process, by stage (%.1f ms in all; pdftoppm %.1f ms, mutool %.1f ms, each a whole process):\n",
		ms(sum), r.poppler1.secs*1000, r.mutool1.secs*1000)
	for _, st := range stages {
		fmt.Printf("  %-32s %8.1f ms %5.1f %%\n", st.name, ms(st.d), 100*float64(st.d)/float64(sum))
	}
}

// printPreviewBudgets prints derived figures with their budget verdicts
// and reports them as metrics.
func printPreviewBudgets(b *testing.B, r previewResults) {
	start := r.warmStart + r.stampr
	first, firstCold := ms(r.page1.total), ms(r.page1.total+start+r.page1.png)
	next := ms(r.pageNext.total)
	pop1, popFar := r.poppler1.secs*1000, r.popplerFar.secs*1000
	far, farCold := ms(r.pageFar.total), ms(r.pageFar.total+start)
	fmt.Println()
	fmt.Printf("first watermarked page ready, renderer started:   %7.1f ms  (budget <= %d: %s)\n",
		first, budgetFirstPageMs, verdict(first <= budgetFirstPageMs))
	fmt.Printf("  incl. warm NewRenderer + NewStamper + PNG:      %7.1f ms\n", firstCold)
	fmt.Printf("next page (%d after %d), Render+Stamp:          %7.1f ms  (budget <= %d: %s)\n",
		farPage+1, farPage, next, budgetNextPageMs, verdict(next <= budgetNextPageMs))
	fmt.Printf("coffer / pdftoppm, page 1:   %5.2fx renderer started, %5.2fx incl. NewRenderer, fonts, PNG\n",
		first/pop1, firstCold/pop1)
	fmt.Printf("coffer / pdftoppm, page %d: %5.2fx renderer started, %5.2fx incl. NewRenderer  (budget <= %.1f incl. NewRenderer: %s)\n",
		farPage, far/popFar, farCold/popFar, budgetVsPdftoppm, verdict(farCold/popFar <= budgetVsPdftoppm))
	fmt.Printf("coffer / mutool, page 1:     %5.2fx renderer started, %5.2fx incl. NewRenderer, fonts, PNG\n",
		first/(r.mutool1.secs*1000), firstCold/(r.mutool1.secs*1000))
	fmt.Printf("coffer / mutool, page %d:   %5.2fx renderer started, %5.2fx incl. NewRenderer\n",
		farPage, far/(r.mutoolFar.secs*1000), farCold/(r.mutoolFar.secs*1000))
	fmt.Printf("peak RSS (VmHWM, test process after the peers):   %7.1f MiB (budget <= %d: %s)\n",
		r.hwmMiB, budgetPreviewRSSMiB, verdict(r.hwmMiB <= budgetPreviewRSSMiB))
	if r.phaseHWMMiB >= 0 {
		fmt.Printf("  VmHWM reset before the %d-page run (RSS %.1f): %7.1f MiB (budget <= %d: %s)\n",
			rssPages, r.phaseBaseMiB, r.phaseHWMMiB, budgetPreviewRSSMiB, verdict(r.phaseHWMMiB <= budgetPreviewRSSMiB))
		b.ReportMetric(r.phaseHWMMiB, "seq-rss-MiB")
	}

	b.ReportMetric(first, "first-page-ms")
	b.ReportMetric(firstCold, "first-page-incl-start-ms")
	b.ReportMetric(next, "next-page-ms")
	b.ReportMetric(ms(r.warmStart), "renderer-warm-ms")
	b.ReportMetric(first/pop1, "page1-vs-pdftoppm-x")
	b.ReportMetric(far/popFar, "page700-vs-pdftoppm-x")
	b.ReportMetric(farCold/popFar, "page700-incl-start-vs-pdftoppm-x")
	b.ReportMetric(r.hwmMiB, "rss-MiB")
}
