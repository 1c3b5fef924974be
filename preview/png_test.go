package preview_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/coffer-vault/coffer/preview"
)

// page makes an opaque w × h image like a watermarked page: white, with
// noise in part of it so that deflate has work to do and rows differ.
func page(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		v := uint8(255)
		if rng.IntN(5) == 0 {
			v = uint8(rng.IntN(256))
		}
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v/2, 255-v, 255
	}
	return img
}

// roundTrip encodes img with EncodePNG, decodes it with image/png and
// compares every pixel, as colours (so premultiplied alpha is accounted for).
func roundTrip(t *testing.T, img *image.RGBA) {
	t.Helper()
	var buf bytes.Buffer
	if err := preview.EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("image/png cannot read the file: %v", err)
	}
	if got.Bounds().Size() != img.Bounds().Size() {
		t.Fatalf("size %v, want %v", got.Bounds().Size(), img.Bounds().Size())
	}
	off := got.Bounds().Min.Sub(img.Bounds().Min)
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			want := color.NRGBAModel.Convert(img.At(x, y))
			if have := color.NRGBAModel.Convert(got.At(x+off.X, y+off.Y)); have != want {
				t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, have, want)
			}
		}
	}
}

func TestEncodePNGOpaque(t *testing.T) {
	// 700 × 500 × 3 bytes spans several IDAT chunks even deflated.
	for _, size := range []image.Point{{1, 1}, {3, 2}, {700, 500}} {
		roundTrip(t, page(size.X, size.Y))
	}
}

func TestEncodePNGSubImage(t *testing.T) {
	img := page(64, 48).SubImage(image.Rect(5, 7, 50, 40)).(*image.RGBA)
	roundTrip(t, img)
}

func TestEncodePNGTransparent(t *testing.T) {
	img := page(40, 30)
	img.SetRGBA(3, 4, color.RGBA{R: 10, G: 20, B: 30, A: 128})
	img.SetRGBA(39, 29, color.RGBA{})
	roundTrip(t, img)
}

func TestEncodePNGEmpty(t *testing.T) {
	if err := preview.EncodePNG(&bytes.Buffer{}, image.NewRGBA(image.Rect(0, 0, 0, 5))); err == nil {
		t.Error("an empty image was encoded")
	}
}

// BenchmarkEncodePNG compares EncodePNG with image/png on an A4 page at
// 150 dpi.
func BenchmarkEncodePNG(b *testing.B) {
	img := page(1240, 1754)
	for _, c := range []struct {
		name string
		enc  func(*bytes.Buffer) error
	}{
		{"EncodePNG", func(w *bytes.Buffer) error { return preview.EncodePNG(w, img) }},
		{"image-png", func(w *bytes.Buffer) error { return png.Encode(w, img) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := c.enc(&buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
