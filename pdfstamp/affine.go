package pdfstamp

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// affine is a PDF transformation [a b c d e f]: a point (x, y) maps to
// (a·x + c·y + e, b·x + d·y + f).
type affine [6]float64

// parseAffine reads six numbers as written in a content stream.
func parseAffine(s string) (affine, error) {
	var m affine
	f := strings.Fields(s)
	if len(f) != 6 {
		return m, fmt.Errorf("transformation %q", s)
	}
	for i := range f {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return m, fmt.Errorf("transformation %q: %w", s, err)
		}
		m[i] = v
	}
	return m, nil
}

// then returns the transformation m followed by n.
func (m affine) then(n affine) affine {
	return affine{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m affine) invert() (affine, bool) {
	det := m[0]*m[3] - m[1]*m[2]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return affine{}, false
	}
	a, b, c, d := m[3]/det, -m[1]/det, -m[2]/det, m[0]/det
	return affine{a, b, c, d, -(m[4]*a + m[5]*c), -(m[4]*b + m[5]*d)}, true
}

// box returns the bounding box of rectangle r (llx lly urx ury)
// transformed by m.
func (m affine) box(r [4]float64) [4]float64 {
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range [][2]float64{{r[0], r[1]}, {r[2], r[1]}, {r[0], r[3]}, {r[2], r[3]}} {
		x, y := m[0]*p[0]+m[2]*p[1]+m[4], m[1]*p[0]+m[3]*p[1]+m[5]
		out = [4]float64{min(out[0], x), min(out[1], y), max(out[2], x), max(out[3], y)}
	}
	return out
}
