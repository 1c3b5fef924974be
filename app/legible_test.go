package app_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview"
)

// TestSmallPicturesAreEnlarged: a picture smaller than a watermark's
// identity block (240 × 60, a key written in it) is shown enlarged by a
// whole factor, so the mark over it can be read whole; a picture too
// narrow to carry a legible mark within the pixel limit (2 × 1,000,000)
// is refused, quickly, saying why.
func TestSmallPicturesAreEnlarged(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Desk", policy.Internal); err != nil {
		t.Fatal(err)
	}
	pic := func(w, h int) []byte {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 37)
		}
		img.SetGray(0, 0, color.Gray{Y: 0})
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, c := range []struct {
		name         string
		w, h, ww, wh int
	}{{"key.png", 240, 60, 1920, 480}, {"square.png", 500, 500, 500, 500}, {"strip.png", 2, 1_000_000, 0, 0}} {
		if _, err := a.Import(ctx, "Desk", c.name, bytes.NewReader(pic(c.w, c.h)), nil); err != nil {
			t.Fatal(err)
		}
		p, err := a.Preview(ctx, "Desk", c.name, app.PreviewOptions{})
		if c.ww == 0 {
			if !errors.Is(err, preview.ErrTooLarge) {
				t.Errorf("%s: %v, want it refused as too narrow", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Image.Bounds().Size(); got != image.Pt(c.ww, c.wh) {
			t.Errorf("%s: shown %v, want %d × %d", c.name, got, c.ww, c.wh)
		}
	}
}
