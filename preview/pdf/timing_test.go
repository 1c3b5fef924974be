package pdf_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/preview/pdf"
)

// TestTimings measures the first page of a document as a process sees it
// (NewRenderer, Open, Render page 1 at 110 dpi) with PDFium compiled in
// memory, with an empty authenticated cache (compile and seal) and with a
// full one (check and load), then Open and renders on a started renderer.
// It needs COFFER_PDF_TIMINGS=1 because each compilation takes seconds.
func TestTimings(t *testing.T) {
	if os.Getenv("COFFER_PDF_TIMINGS") == "" {
		t.Skip("set COFFER_PDF_TIMINGS=1 to measure")
	}
	ctx := context.Background()
	path := filepath.Join(corpusDir(t), "reportlab-userguide.pdf")
	data := readFile(t, path)
	key := make([]byte, pdf.CacheKeySize)
	rand.Read(key)
	cache := pdf.Options{CacheDir: t.TempDir(), CacheKey: key}
	firstPage := func(name string, opts pdf.Options) *pdf.Renderer {
		start := time.Now()
		r, err := pdf.NewRenderer(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		started := time.Since(start)
		doc, err := r.Open(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := doc.Render(ctx, 0, 110); err != nil {
			t.Fatal(err)
		}
		doc.Close()
		t.Logf("%-44s NewRenderer %7.1f ms, first page on screen %7.1f ms", name, ms(started), ms(time.Since(start)))
		return r
	}
	firstPage("compiled in memory, no cache:", pdf.Options{}).Close()
	firstPage("empty authenticated cache (compile, seal):", cache).Close()
	firstPage("full authenticated cache (check, load):", cache).Close()
	r := firstPage("full authenticated cache, again:", cache)
	defer r.Close()

	for range 3 {
		start := time.Now()
		doc, err := r.Open(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		opened := time.Since(start)
		last := doc.PageCount() - 1
		start = time.Now()
		if _, err := doc.Render(ctx, 0, 150); err != nil {
			t.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		img, err := doc.Render(ctx, last, 150)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%d bytes, %d pages): Open %v, Render page 1 @150dpi %v, Render page %d @150dpi %v (%v)",
			filepath.Base(path), len(data), doc.PageCount(), opened, first, last+1, time.Since(start), img.Bounds().Size())
		doc.Close()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
