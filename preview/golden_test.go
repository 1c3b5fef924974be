package preview

import (
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata")

// TestGoldenMixedScripts compares a page in every script, emoji included,
// with a reviewed image, with a tolerance for rasterisation differences.
func TestGoldenMixedScripts(t *testing.T) {
	d, err := openText([]byte(mixed), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	img, err := d.Render(context.Background(), 0, 96)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, img, filepath.Join("testdata", "text-mixed-96dpi.png"))
}

// golden compares img with the reviewed image at path (-update rewrites
// it: look at it before committing). A text page is mostly white, so it
// fails when the mean difference exceeds half a level per pixel or more
// than 0.05% of the pixels (a few letters) are off by more than 48 levels
// (of 765, summed over R, G and B).
func golden(t *testing.T, img *image.RGBA, path string) {
	t.Helper()
	if *update {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden image: %v (run with -update and look at it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("golden is %v, got %v", want.Bounds(), img.Bounds())
	}
	var diff, off int
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r1, g1, b1, _ := want.At(x, y).RGBA()
			c := img.RGBAAt(x, y)
			d := absDiff(r1>>8, uint32(c.R)) + absDiff(g1>>8, uint32(c.G)) + absDiff(b1>>8, uint32(c.B))
			diff += int(d)
			if d > 48 {
				off++
			}
		}
	}
	pixels := img.Bounds().Dx() * img.Bounds().Dy()
	if mean := float64(diff) / float64(pixels); mean > 0.5 || off > pixels/2000 {
		t.Errorf("%s: differs from golden: mean %.2f per pixel, %d pixels off", path, mean, off)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
