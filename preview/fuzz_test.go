package preview_test

import (
	"context"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview"
)

// FuzzOpen hands arbitrary bytes to every renderer but PDF (fuzzed in
// preview/pdf): opening and rendering page 1 must never panic, and a page
// must never exceed the pixel limit.
func FuzzOpen(f *testing.F) {
	names := []string{"x.png", "x.txt", "x.csv", "x.xlsx", "x.md", "x.gif"}
	fonts, err := preview.NewTextFonts()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		name := names[int(kind)%len(names)]
		const limit = 2_000_000
		d, err := preview.Open(context.Background(), data, "", name, preview.Options{MaxPixels: limit, Text: fonts})
		if err != nil {
			return
		}
		defer d.Close()
		if d.Pages() < 1 {
			t.Fatalf("%s: %d pages", name, d.Pages())
		}
		img, err := d.Render(context.Background(), 0, 36)
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > limit {
			t.Fatalf("%s: rendered %v over the limit", name, b)
		}
	})
}

func TestFuzzSeedsPresent(t *testing.T) { testenv.CheckFuzzSeeds(t) }
