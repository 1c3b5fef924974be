package watermark

import (
	"image"
	"image/color"
	"math"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/coffer-vault/coffer/assets"
)

// oracleRotate is the general transform rotate replaced: x/image/draw's
// BiLinear over a transparent canvas of the same size.
func oracleRotate(src *image.RGBA, deg float64) *image.RGBA {
	rad := deg * math.Pi / 180
	sin, cos := math.Sin(rad), math.Cos(rad)
	w, h := float64(src.Bounds().Dx()), float64(src.Bounds().Dy())
	nw := math.Abs(w*cos) + math.Abs(h*sin)
	nh := math.Abs(w*sin) + math.Abs(h*cos)
	dst := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(nw)), int(math.Ceil(nh))))
	m := f64.Aff3{
		cos, sin, nw/2 - cos*w/2 - sin*h/2,
		-sin, cos, nh/2 + sin*w/2 - cos*h/2,
	}
	xdraw.BiLinear.Transform(dst, m, src, src.Bounds(), xdraw.Over, nil)
	return dst
}

// TestRotateMatchesBiLinear compares rotate with x/image's BiLinear on
// real watermark text blocks at several angles and sizes.
func TestRotateMatchesBiLinear(t *testing.T) {
	st, err := NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		height, angle float64
	}{{14, 30}, {30, 30}, {30, 45}, {30, -30}, {21, 75}, {44, 10}, {30, 120}} {
		s := Spec{Name: "Ann Trader", Email: "ann@example.com", Device: "vm", TraceCode: "K7Q4M-ZP2XA",
			TextHeight: tc.height, Color: color.RGBA{R: 150, G: 20, B: 30, A: 255}}
		flat, err := st.block(s)
		if err != nil {
			t.Fatal(err)
		}
		got, want := rotate(flat, tc.angle), oracleRotate(flat, tc.angle)
		if got.Rect != want.Rect {
			t.Fatalf("%+v: size %v, want %v", tc, got.Rect, want.Rect)
		}
		var sum, worst, ink int
		for i := range got.Pix {
			d := int(got.Pix[i]) - int(want.Pix[i])
			sum += abs(d)
			worst = max(worst, abs(d))
			ink += int(want.Pix[i])
		}
		mean := float64(sum) / float64(len(got.Pix))
		// Only rounding may differ.
		if mean > 0.05 || worst > 1 || ink == 0 {
			t.Errorf("height %v angle %v: mean difference %.3f, worst %d (ink %d)", tc.height, tc.angle, mean, worst, ink)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
