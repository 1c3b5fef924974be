package watermark

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/coffer-vault/coffer/assets"
)

// TestPlacesScaleWithArea: the blocks visited to cover a page grow with
// its area and its edges, not with the square of its diagonal. A strip of
// 4 × 1,000,000 pixels visited some 10^10 blocks before (hours of work for
// a 76 KB PNG); a square page is covered as before, with every block that
// meets it.
func TestPlacesScaleWithArea(t *testing.T) {
	st, err := NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Name: "Ann Trader", Email: "ann@example.com", Device: "vm", TraceCode: "K7Q4M-ZP2XA",
		TextHeight: 14, Color: color.RGBA{R: 150, G: 20, B: 30, A: 255}, Opacity: 0.22, Angle: 30}
	sp, err := st.makeSprite(s)
	if err != nil {
		t.Fatal(err)
	}
	du, dv := float64(sp.flatW)*1.05, float64(sp.flatH)
	for _, b := range []image.Rectangle{
		image.Rect(0, 0, 4, 1_000_000), image.Rect(0, 0, 1_000_000, 4), image.Rect(0, 0, 2000, 2000), image.Rect(-50, 30, 850, 1130),
	} {
		n, meeting := 0, 0
		for p := range sp.places(b, s.Angle) {
			n++
			if image.Rect(p.X, p.Y, p.X+sp.w, p.Y+sp.h).Overlaps(b) {
				meeting++
			}
		}
		w, h := float64(b.Dx()), float64(b.Dy())
		bound := 2*(w+float64(sp.w))*(h+float64(sp.h))/(du*dv) + 4*(w+h)/math.Min(du, dv) + 16
		if float64(n) > bound {
			t.Errorf("%v: %d blocks visited, want at most %.0f", b, n, bound)
		}
		if meeting == 0 || meeting < n/4 {
			t.Errorf("%v: %d of %d blocks visited meet the page", b, meeting, n)
		}
	}
}
