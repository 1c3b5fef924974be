package watermark_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/coffer-vault/coffer/watermark"
)

// solid returns a w × h page of one colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func lum(r, g, b uint32) float64 { return 0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b) }

// survivingContrast stamps page, then treats it as a leak would: scales it
// to half size and saves it as a JPEG of quality 60. It returns the
// difference in mean luminance (0..255) between the pixels the watermark
// covers at least half and the pixels two or more pixels away from any of
// it, in the decoded JPEG.
func survivingContrast(t *testing.T, st *watermark.Stamper, page *image.RGBA) float64 {
	t.Helper()
	stamped := image.NewRGBA(page.Rect)
	copy(stamped.Pix, page.Pix)
	if err := st.Stamp(stamped, spec()); err != nil {
		t.Fatal(err)
	}
	// Where the watermark is: the pixels stamping changed.
	mask := image.NewAlpha(page.Rect)
	for i := 0; i < len(page.Pix); i += 4 {
		d := 0
		for c := range 3 {
			d = max(d, absInt(int(page.Pix[i+c])-int(stamped.Pix[i+c])))
		}
		if d > 2 {
			mask.Pix[i/4] = 255
		}
	}
	half := image.Rect(0, 0, page.Rect.Dx()/2, page.Rect.Dy()/2)
	small := image.NewRGBA(half)
	xdraw.BiLinear.Scale(small, half, stamped, stamped.Rect, xdraw.Src, nil)
	smallMask := image.NewAlpha(half)
	xdraw.BiLinear.Scale(smallMask, half, mask, mask.Rect, xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var ink, bare float64
	var nInk, nBare int
	for y := 2; y < half.Dy()-2; y++ {
		for x := 2; x < half.Dx()-2; x++ {
			r, g, b, _ := got.At(x, y).RGBA()
			l := lum(r>>8, g>>8, b>>8)
			switch {
			case smallMask.AlphaAt(x, y).A >= 128:
				ink += l
				nInk++
			case clear(smallMask, x, y):
				bare += l
				nBare++
			}
		}
	}
	if nInk < 1000 || nBare < 1000 {
		t.Fatalf("%d watermark pixels and %d bare ones: the measure measures nothing", nInk, nBare)
	}
	d := ink/float64(nInk) - bare/float64(nBare)
	if d < 0 {
		d = -d
	}
	return d
}

// clear reports whether no pixel within 2 of (x, y) is watermarked.
func clear(m *image.Alpha, x, y int) bool {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			if m.AlphaAt(x+dx, y+dy).A != 0 {
				return false
			}
		}
	}
	return true
}

func absInt(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// TestLegibleOnDarkPages: the watermark stands out as much from a black,
// a dark-blue or a mid-grey page as from a white one, and still does after
// the page is scaled to half size and saved as a JPEG of quality 60 (a
// photo or a forwarded screenshot). Measured: about 26 levels on each now;
// the dark-red mark alone, as the watermark was, measured 26.4 on white but
// 5.6 on black, 1.4 on dark blue and 10.7 on mid-grey.
func TestLegibleOnDarkPages(t *testing.T) {
	st := stamper(t)
	const minContrast = 20 // of 255 levels of luminance
	for name, c := range map[string]color.RGBA{
		"white":     {255, 255, 255, 255},
		"black":     {0, 0, 0, 255},
		"dark blue": {10, 25, 80, 255},
		"mid grey":  {128, 128, 128, 255},
	} {
		page := solid(1240, 1754, c) // A4 at 150 dpi
		if got := survivingContrast(t, st, page); got < minContrast {
			t.Errorf("%s page: the watermark differs by %.1f levels from the page after scaling and JPEG, want at least %d", name, got, minContrast)
		} else {
			t.Logf("%s page: %.1f levels", name, got)
		}
	}
}

// TestLegibleOnBusyPages: on random noise, on a checkerboard of the mark's
// own two tones and on stripes of its colour, the mark still stands out
// after the page is halved and saved as a JPEG of quality 60. Its tone was
// chosen pixel by pixel, so on such pages it flipped with every pixel and
// the letters dissolved (a review could not see the mark on noise at all);
// it is now chosen from each letter's neighbourhood.
func TestLegibleOnBusyPages(t *testing.T) {
	st := stamper(t)
	mark := spec()
	mark.Color = color.RGBA{R: 150, G: 20, B: 30, A: 255} // the default, which Tones needs set
	onLight, onDark, _ := mark.Tones()
	const w, h = 600, 800
	noise := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.UintN(256))
		if i%4 == 3 {
			noise.Pix[i] = 255
		}
	}
	checker, stripes := solid(w, h, onLight), solid(w, h, color.RGBA{255, 255, 255, 255})
	for y := range h {
		for x := range w {
			if (x+y)%2 == 0 {
				checker.SetRGBA(x, y, onDark)
			}
			if x%4 < 2 {
				stripes.SetRGBA(x, y, onLight)
			}
		}
	}
	// Measured before: 0.1, 0.0 and 0.1 levels; now about 3.6, 22 and 19.
	// Noise stays the weakest: a tint over it, not yet an outline.
	for name, c := range map[string]struct {
		page *image.RGBA
		min  float64
	}{"noise": {noise, 3}, "checkerboard of the two tones": {checker, 12}, "stripes of its colour": {stripes, 12}} {
		if d := survivingContrast(t, st, c.page); d < c.min {
			t.Errorf("%s: the mark differs by %.1f levels of luminance from the page around it, want %v or more", name, d, c.min)
		} else {
			t.Logf("%s: %.1f levels", name, d)
		}
	}
}
