package pdfstamp_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/coffer-vault/coffer/pdfstamp"
)

// BenchmarkStampLarge stamps a large PDF ($COFFER_BENCH_PDF, e.g.
// octave.pdf from Debian's octave-doc, 1,158 pages) with the render check
// of 2 pages (the first and last: about the cost of pdfcpu alone) and of
// the default sample; the difference is what the check costs.
func BenchmarkStampLarge(b *testing.B) {
	path := os.Getenv("COFFER_BENCH_PDF")
	if path == "" {
		b.Skip("set COFFER_BENCH_PDF to a large PDF (octave.pdf from Debian's octave-doc)")
	}
	in, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	r := renderer(b)
	for _, checked := range []int{2, pdfstamp.DefaultMaxChecked} {
		b.Run(fmt.Sprintf("checked=%d", checked), func(b *testing.B) {
			for b.Loop() {
				if _, err := pdfstamp.Stamp(context.Background(), in, spec(), pdfstamp.Options{Renderer: r, MaxChecked: checked}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
