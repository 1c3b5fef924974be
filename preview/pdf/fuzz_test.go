package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/preview/pdf"
)

const fuzzSeedDir = "testdata/fuzz/FuzzOpen"

// FuzzOpen opens arbitrary bytes and renders page 0 of whatever opens. Every
// failure must be one of the package's classified errors, never a panic, a
// trap escaping as an unclassified error, or a hang past the timeout.
func FuzzOpen(f *testing.F) {
	r := newRenderer(f, pdf.Options{Timeout: 2 * time.Second, MaxPixels: 1 << 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		doc, err := r.Open(ctx, data)
		if err != nil {
			if !isClassified(err, pdf.ErrNotPDF, pdf.ErrCorrupt, pdf.ErrPassword, pdf.ErrTooLarge) {
				t.Fatalf("Open: unclassified error: %v", err)
			}
			return
		}
		defer doc.Close()
		if doc.PageCount() < 1 {
			t.Fatalf("opened with %d pages", doc.PageCount())
		}
		img, err := doc.Render(ctx, 0, 18)
		if err != nil {
			if !isClassified(err, pdf.ErrCorrupt, pdf.ErrTooLarge) {
				t.Fatalf("Render: unclassified error: %v", err)
			}
			return
		}
		if img.Bounds().Empty() {
			t.Fatal("Render returned an empty image")
		}
	})
}

func isClassified(err error, targets ...error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func TestFuzzSeedsPresent(t *testing.T) {
	entries, err := os.ReadDir(fuzzSeedDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(fuzzSeedDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("go test fuzz v1\n[]byte(")) {
			t.Errorf("%s is not a Go fuzz corpus file", e.Name())
			continue
		}
		n++
	}
	if n < 5 {
		t.Fatalf("%d seeds in %s, want at least 5", n, fuzzSeedDir)
	}
}
