package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
)

// viewerSettle is how long the viewer benchmark lets the neighbour
// prefetch run before turning the page, as a reader would.
const viewerSettle = 2 * time.Second

// BenchmarkViewer times what the desktop window waits for: app.Preview
// with Keep on a confidential octave.pdf in a real vault (decrypt, open,
// render, watermark, audit record), the first page of the document — its
// first frame, the draft at a third of the resolution, and the page in
// full — and the next one after a reader's pause, against pdftoppm
// rendering the same pages from a plaintext file.
func BenchmarkViewer(b *testing.B) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		b.Skip("pdftoppm not on PATH; install the peer with: apt-get install poppler-utils")
	}
	root := scratchDir(b)
	file := octavePDF(b, root)
	ctx := context.Background()
	a, err := app.Init(ctx, filepath.Join(root, "vault"), vault.Identity{Email: "bench@example.com", Name: "Bench Viewer"}, passphrase)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if _, err := a.CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		b.Fatal(err)
	}
	if _, err := a.ImportFile(ctx, "Deals", file, nil); err != nil {
		b.Fatal(err)
	}
	name := filepath.Base(file)
	// view returns the time to the page, and to its first frame: the
	// draft the window shows while the page renders, or the page.
	view := func(page int, keep bool) (took, first time.Duration) {
		start := time.Now()
		draft := func(*app.Page) { first = time.Since(start) }
		if _, err := a.Preview(ctx, "Deals", name, app.PreviewOptions{Page: page, DPI: previewDPI, Keep: keep, Draft: draft}); err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		if first == 0 {
			first = took
		}
		return took, first
	}
	view(1, false) // starts the PDF renderer (cold or warm cache: not what this measures)
	pop := func(page int) run {
		n := strconv.Itoa(page)
		timed(b, "pdftoppm", nil, "pdftoppm", "-f", n, "-l", n, "-r", strconv.Itoa(previewDPI), "-png", file, filepath.Join(root, "p"))
		return timed(b, "pdftoppm", nil, "pdftoppm", "-f", n, "-l", n, "-r", strconv.Itoa(previewDPI), "-png", file, filepath.Join(root, "p"))
	}
	b.ResetTimer()
	var open, openFirst, next, fast time.Duration
	for i := 0; i < b.N; i++ {
		page := farPage + 10*i
		a.Close() // drops the kept document and the renderer
		if a, err = app.Open(ctx, filepath.Join(root, "vault"), passphrase); err != nil {
			b.Fatal(err)
		}
		view(1, false)
		open, openFirst = view(page, true)
		time.Sleep(viewerSettle)
		next, _ = view(page+1, true)
		fast, _ = view(page+2, true) // no pause: its render started with page+1
	}
	b.StopTimer()
	popFar, popNext := pop(farPage), pop(farPage+1)
	fmt.Printf("\nviewer path: app.Preview(Keep) of %s (%d bytes) in a confidential folder at %d dpi; decrypt, open, render, watermark and a durable audit record per view\n",
		name, fileSize(b, file), previewDPI)
	fmt.Printf("%-52s %9.1f ms  (budget <= %d: %s)\n", fmt.Sprintf("open at page %d: first frame (draft) on screen", farPage), ms(openFirst), budgetFirstPageMs, verdict(ms(openFirst) <= budgetFirstPageMs))
	fmt.Printf("%-52s %9.1f ms  (budget <= %d: %s)\n", fmt.Sprintf("open at page %d: the page in full", farPage), ms(open), budgetFirstPageMs, verdict(ms(open) <= budgetFirstPageMs))
	fmt.Printf("%-52s %9.1f ms  (budget <= %d: %s)\n", fmt.Sprintf("next page (%d) after a %s pause", farPage+1, viewerSettle), ms(next), budgetNextPageMs, verdict(ms(next) <= budgetNextPageMs))
	fmt.Printf("%-52s %9.1f ms\n", fmt.Sprintf("the page after (%d) at once", farPage+2), ms(fast))
	fmt.Printf("%-52s %9.1f ms\n", fmt.Sprintf("pdftoppm page %d (2nd run)", farPage), popFar.secs*1000)
	fmt.Printf("%-52s %9.1f ms\n", fmt.Sprintf("pdftoppm page %d (2nd run)", farPage+1), popNext.secs*1000)
	fmt.Printf("coffer open / pdftoppm: %.2fx; coffer next page / pdftoppm: %.2fx\n", ms(open)/(popFar.secs*1000), ms(next)/(popNext.secs*1000))
	b.ReportMetric(ms(open), "open-ms")
	b.ReportMetric(ms(openFirst), "first-frame-ms")
	b.ReportMetric(ms(next), "next-page-ms")
	b.ReportMetric(ms(fast), "next-page-at-once-ms")
	b.ReportMetric(ms(next)/(popNext.secs*1000), "next-vs-pdftoppm-x")
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
