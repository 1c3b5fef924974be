package pdf_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/preview/pdf"
)

// TestTimings measures NewRenderer with a cold and a warm compilation cache,
// Open, and renders at 150 dpi. It needs COFFER_PDF_TIMINGS=1 because the
// cold compilation alone takes seconds.
func TestTimings(t *testing.T) {
	if os.Getenv("COFFER_PDF_TIMINGS") == "" {
		t.Skip("set COFFER_PDF_TIMINGS=1 to measure")
	}
	ctx := context.Background()
	dir := t.TempDir()
	newR := func(name string) *pdf.Renderer {
		start := time.Now()
		r, err := pdf.NewRenderer(ctx, pdf.Options{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("NewRenderer %s: %v", name, time.Since(start))
		return r
	}
	cold := newR("cold (empty cache)")
	cold.Close()
	r := newR("warm (cache hit)")
	defer r.Close()

	path := filepath.Join(corpusDir(t), "reportlab-userguide.pdf")
	data := readFile(t, path)
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
