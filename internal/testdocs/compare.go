package testdocs

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Word is a word of a reference page and its box, in points (pixels at
// 72 dpi).
type Word struct {
	Text string
	Box  image.Rectangle
}

// Reference renders page (from 1) of LibreOffice's own PDF of data (PDF)
// with poppler's pdftoppm at 72 dpi, in grey, and returns it with the
// page's words (pdftotext -bbox).
func Reference(t testing.TB, data []byte, ext string, page int) (*image.Gray, []Word) {
	t.Helper()
	pdf := PDF(t, data, ext)
	n := strconv.Itoa(page)
	cmd := exec.Command("pdftoppm", "-f", n, "-l", n, "-r", "72", "-gray", "-png", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftoppm: %v (make test-deps installs poppler-utils)", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Rect, img, img.Bounds().Min, draw.Src)
	cmd = exec.Command("pdftotext", "-f", n, "-l", n, "-bbox", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	html, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var words []Word
	re := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
	for _, m := range re.FindAllStringSubmatch(string(html), -1) {
		f := func(s string) int { v, _ := strconv.ParseFloat(s, 64); return int(v) }
		words = append(words, Word{m[5], image.Rect(f(m[1]), f(m[2]), f(m[3])+1, f(m[4])+1)})
	}
	return g, words
}

// Boxes returns the boxes of the words that contain text.
func Boxes(words []Word, text string) []image.Rectangle {
	var out []image.Rectangle
	for _, w := range words {
		if strings.Contains(w.Text, text) {
			out = append(out, w.Box)
		}
	}
	return out
}

// Ink reports whether a pixel is dark: luminance below 110 of 255.
func Ink(r, g, b uint8) bool { return 299*int(r)+587*int(g)+114*int(b) < 110*1000 }

// CompareInk measures how the text of a rendered page matches a
// reference, over the boxes of the reference's words (grown by 2 pixels):
// recall is the share of the reference's dark pixels that are dark in got
// within a pixel, precision the share of got's dark pixels that are dark in
// the reference within a pixel. (Hairlines are left out: renderers
// anti-alias them differently.)
func CompareInk(got *image.RGBA, want *image.Gray, words []Word) (recall, precision float64) {
	darkGot := func(x, y int) bool {
		if !(image.Point{x, y}.In(got.Rect)) {
			return false
		}
		i := got.PixOffset(x, y)
		return Ink(got.Pix[i], got.Pix[i+1], got.Pix[i+2])
	}
	darkWant := func(x, y int) bool {
		return image.Pt(x, y).In(want.Rect) && want.GrayAt(x, y).Y < 110
	}
	near := func(dark func(x, y int) bool, x, y int) bool {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if dark(x+dx, y+dy) {
					return true
				}
			}
		}
		return false
	}
	var nWant, hitWant, nGot, hitGot int
	counted := map[image.Point]bool{}
	for _, w := range words {
		b := w.Box.Inset(-2)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if counted[image.Pt(x, y)] {
					continue
				}
				counted[image.Pt(x, y)] = true
				if darkWant(x, y) {
					nWant++
					if near(darkGot, x, y) {
						hitWant++
					}
				}
				if darkGot(x, y) {
					nGot++
					if near(darkWant, x, y) {
						hitGot++
					}
				}
			}
		}
	}
	return float64(hitWant) / float64(max(nWant, 1)), float64(hitGot) / float64(max(nGot, 1))
}

// InkIn counts the dark pixels of img inside r.
func InkIn(img *image.RGBA, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := img.PixOffset(x, y)
			if Ink(img.Pix[i], img.Pix[i+1], img.Pix[i+2]) {
				n++
			}
		}
	}
	return n
}
