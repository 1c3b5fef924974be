package pdfstamp

import (
	"fmt"
	"image"
	"slices"
	"strings"
	"testing"
)

// TestSamplePages: every page of a short document; of a long one the
// first and last, the first page of each layout, and an even spread, max
// pages in all, each once, in order.
func TestSamplePages(t *testing.T) {
	letter := pageInfo{geometry: geometry{media: [4]float64{0, 0, 612, 792}, visible: [4]float64{0, 0, 612, 792}}}
	rotated, cropped := letter, letter
	rotated.rotate = 90
	cropped.visible = [4]float64{36, 36, 576, 756}
	for _, n := range []int{1, 2, 24, 25, 1000, 1158} {
		info := make([]pageInfo, n+1)
		for i := range info {
			info[i] = letter
		}
		special := map[int]bool{}
		if n > 500 {
			info[500], info[777] = rotated, cropped
			special[500], special[777] = true, true
		}
		got := samplePages(info, 24)
		if want := min(n, 24); len(got) != want {
			t.Errorf("%d pages: %d checked, want %d: %v", n, len(got), want, got)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("%d pages: %v not in order or repeated", n, got)
		}
		for p := range special {
			special[1], special[n] = true, true
			if !slices.Contains(got, p) {
				t.Errorf("%d pages: page %d (first of its layout) not checked: %v", n, p, got)
			}
		}
		if n == 1000 && (got[0] != 1 || got[len(got)-1] != 1000 || got[len(got)/2] < 250 || got[len(got)/2] > 750) {
			t.Errorf("1000 pages: %v is not spread over the document", got)
		}
	}
}

// TestCompare checks the pixel rule on synthetic renders: the stamp's
// ink must show, and nothing much may change elsewhere.
func TestCompare(t *testing.T) {
	const w, h = 200, 100
	page := func(fill func(x, y int) uint8) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				v := fill(x, y)
				copy(img.Pix[y*img.Stride+x*4:], []uint8{v, v, v, 255})
			}
		}
		return img
	}
	inStamp := func(x, y int) bool { return y >= 40 && y < 60 && x >= 20 && x < 180 }
	ref := page(func(x, y int) uint8 {
		if inStamp(x, y) {
			return 180
		}
		return 255
	})
	orig := page(func(x, y int) uint8 { return uint8(x) })
	stamped := func(shown func(x, y int) bool, stray func(x, y int) bool) *image.RGBA {
		return page(func(x, y int) uint8 {
			switch {
			case inStamp(x, y) && shown(x, y):
				return uint8(x) + 40
			case stray(x, y):
				return uint8(x) + 100
			}
			return uint8(x)
		})
	}
	all := func(x, y int) bool { return true }
	none := func(x, y int) bool { return false }
	for _, c := range []struct {
		name    string
		stamped *image.RGBA
		want    string // "" for no error, else part of the message
	}{
		{"the stamp shows", stamped(all, none), ""},
		{"hidden", stamped(none, none), "0% of the stamp shows"},
		{"half hidden", stamped(func(x, y int) bool { return x < 100 }, none), "50% of the stamp shows"},
		{"mostly shown", stamped(func(x, y int) bool { return x < 150 }, none), ""},
		{"the page changed elsewhere", stamped(all, func(x, y int) bool { return y > 80 }), "changed"},
		{"changed right beside the stamp", stamped(all, func(x, y int) bool { return (y == 61 || y == 38) && x >= 20 && x < 180 }), ""},
		{"another size", page(func(x, y int) uint8 { return 0 }).SubImage(image.Rect(0, 0, 10, 10)).(*image.RGBA), "size"},
	} {
		err := compare(c.stamped, orig, ref)
		if got := fmt.Sprint(err); (c.want == "") != (err == nil) || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	white := page(func(x, y int) uint8 { return 255 })
	if err := compare(orig, orig, white); err == nil || !strings.Contains(err.Error(), "ink") {
		t.Errorf("a reference without ink: %v", err)
	}
}
