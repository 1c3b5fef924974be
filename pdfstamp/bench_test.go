package pdfstamp_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
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

// BenchmarkSniff classifies 64 MiB of random bytes (no object in them, so
// all of it is lexed) in 256 KiB writes, as an export of a large file
// that is not a PDF does while it is decrypted.
func BenchmarkSniff(b *testing.B) {
	noise := make([]byte, 64<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	noise = bytes.ReplaceAll(noise, []byte("obj"), []byte("ob_"))
	b.SetBytes(int64(len(noise)))
	for b.Loop() {
		var s pdfstamp.Sniffer
		for p := noise; len(p) > 0; p = p[min(len(p), 256<<10):] {
			s.Write(p[:min(len(p), 256<<10)])
		}
		if k := s.Kind(); k != pdfstamp.NotPDF {
			b.Fatalf("noise: %v", k)
		}
	}
}
