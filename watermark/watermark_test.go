package watermark_test

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/watermark"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata")

func stamper(t testing.TB) *watermark.Stamper {
	t.Helper()
	st, err := watermark.NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func spec() watermark.Spec {
	return watermark.Spec{Name: "Ann Trader", Email: "ann@example.com", Device: "laptop-7",
		Time: time.Date(2026, 11, 22, 21, 3, 0, 0, time.UTC), TraceCode: "K7Q4-MZP2X"}
}

func white(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	return img
}

// TestCoversEveryCell stamps pages of several sizes and orientations and
// checks that every cell of a 6×6 grid over the page holds watermark
// pixels: no part of a page can be cropped out unmarked.
func TestCoversEveryCell(t *testing.T) {
	st := stamper(t)
	for _, size := range []image.Point{{1240, 1754}, {1754, 1240}, {612, 792}, {2480, 3508}, {400, 300}, {3000, 500}} {
		img := white(size.X, size.Y)
		if err := st.Stamp(img, spec()); err != nil {
			t.Fatal(err)
		}
		const n = 6
		for gy := range n {
			for gx := range n {
				cell := image.Rect(size.X*gx/n, size.Y*gy/n, size.X*(gx+1)/n, size.Y*(gy+1)/n)
				if marked(img, cell) == 0 {
					t.Errorf("%v page: cell (%d,%d) %v has no watermark", size, gx, gy, cell)
				}
			}
		}
		// Semi-transparent: nothing is painted fully over.
		if dark := darkest(img); dark < 100 {
			t.Errorf("%v page: a pixel is as dark as %d; the watermark must stay see-through", size, dark)
		}
	}
}

func marked(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := img.RGBAAt(x, y); c.G < 235 {
				n++
			}
		}
	}
	return n
}

func darkest(img *image.RGBA) uint8 {
	d := uint8(255)
	for i := 0; i < len(img.Pix); i += 4 {
		d = min(d, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
	}
	return d
}

// TestGolden compares a stamped page with a reviewed image, with a
// tolerance for font rasterisation differences between platforms.
func TestGolden(t *testing.T) {
	img := white(620, 877)
	if err := stamper(t).Stamp(img, spec()); err != nil {
		t.Fatal(err)
	}
	golden(t, img, filepath.Join("testdata", "a4-75dpi.png"))
}

// TestGoldenDarkPage compares a stamped page, black above and a colour
// gradient below, with a reviewed image: light text on the black, dark or
// light by the colour under it on the gradient.
func TestGoldenDarkPage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 620, 877))
	for y := range 877 {
		for x := range 620 {
			c := color.RGBA{A: 255}
			if y >= 500 {
				c = color.RGBA{R: uint8(x * 255 / 619), G: uint8((y - 500) * 255 / 376), B: 128, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	if err := stamper(t).Stamp(img, spec()); err != nil {
		t.Fatal(err)
	}
	golden(t, img, filepath.Join("testdata", "a4-75dpi-dark.png"))
}

// TestNamesInEveryScript stamps pages for users named in every script
// the fonts promise, Korean included: each is drawn (shaped, in bidi
// order) without a missing glyph; the Chinese, Arabic and Korean ones
// match reviewed images. A name with a letter no font has (an emoji) is
// refused, naming the letter.
func TestNamesInEveryScript(t *testing.T) {
	st := stamper(t)
	plain := white(620, 877)
	if err := st.Stamp(plain, spec()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"陈美玲", "Łucja Wąs-Øster", "Νίκος Παπαδόπουλος", "Дмитрий Шостакович", "محمد الأحمد", "דוד בן-גוריון", "山田 はなこ", "Nguyễn Văn Đức", "김민준"} {
		s := spec()
		s.Name = name
		img := white(620, 877)
		if err := st.Stamp(img, s); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if n, n0 := marked(img, img.Rect), marked(plain, plain.Rect); n < n0/2 {
			t.Errorf("%s: %d marked pixels, %d with a Latin name", name, n, n0)
		}
		switch name {
		case "陈美玲":
			golden(t, img, filepath.Join("testdata", "a4-75dpi-chinese.png"))
		case "محمد الأحمد":
			golden(t, img, filepath.Join("testdata", "a4-75dpi-arabic.png"))
		case "김민준":
			golden(t, img, filepath.Join("testdata", "a4-75dpi-korean.png"))
		}
	}
	s := spec()
	s.Name = "Ann 😀"
	err := st.Stamp(white(100, 100), s)
	if !errors.Is(err, watermark.ErrNoGlyph) || !strings.Contains(err.Error(), "U+1F600") {
		t.Errorf("a name with an emoji: %v, want ErrNoGlyph naming U+1F600", err)
	}
}

// golden compares img with the reviewed image at path (-update rewrites
// it: look at it before committing).
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
	if mean := float64(diff) / float64(pixels); mean > 1.0 || off > pixels/200 {
		t.Errorf("%s: differs from golden: mean %.2f per pixel, %d pixels off", path, mean, off)
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestRefusesAnonymousSpec(t *testing.T) {
	st := stamper(t)
	img := white(100, 100)
	for _, s := range []watermark.Spec{{}, {Name: "Ann"}, {TraceCode: "X"}} {
		if err := st.Stamp(img, s); err == nil {
			t.Errorf("%+v stamped", s)
		}
	}
	if _, err := watermark.NewStamper([]byte("not a font")); err == nil {
		t.Error("bad font accepted")
	}
}

func BenchmarkStampA4At150DPI(b *testing.B) {
	st := stamper(b)
	img := white(1240, 1754)
	for b.Loop() {
		if err := st.Stamp(img, spec()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStampNewTraceCode stamps A4 pages at 150 dpi with a new trace
// code each time, as every view in the app has: the sprite is redrawn.
func BenchmarkStampNewTraceCode(b *testing.B) {
	st := stamper(b)
	img := white(1240, 1754)
	s := spec()
	n := 0
	for b.Loop() {
		n++
		s.TraceCode = fmt.Sprintf("T%04d-XXXXX", n)
		if err := st.Stamp(img, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewStamper makes the stamper as the app does (Go Bold and the
// fallbacks for other scripts) and stamps one page with it: what a new
// `coffer preview` process pays before its first watermark. The fallback
// fonts (CJK and Hangul, megabytes of outlines) are parsed only when a
// name needs them, so this stays near BenchmarkStampNewTraceCode's cost.
func BenchmarkNewStamper(b *testing.B) {
	img := white(1240, 1754)
	s := spec()
	for b.Loop() {
		st, err := watermark.NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Stamp(img, s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMinTextHeight: a viewer that shows a small page shrunk asks for a
// larger least line height, and gets text drawn larger: its strokes run
// longer along a row of pixels.
func TestMinTextHeight(t *testing.T) {
	st := stamper(t)
	meanRun := func(min float64) float64 {
		img := white(300, 420) // A4 at 36 dpi: 1/40 of it is under 12 pixels
		s := spec()
		s.MinTextHeight = min
		if err := st.Stamp(img, s); err != nil {
			t.Fatal(err)
		}
		runs, inked := 0, 0
		for y := 0; y < 420; y++ {
			in := false
			for x := 0; x < 300; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				ink := r>>8 < 250 || g>>8 < 250 || b>>8 < 250
				if ink {
					inked++
					if !in {
						runs++
					}
				}
				in = ink
			}
		}
		return float64(inked) / float64(runs)
	}
	small, large := meanRun(0), meanRun(30)
	if large < 1.3*small {
		t.Errorf("strokes run %.1f pixels at the default least height, %.1f at 30: want the text larger", small, large)
	}
}

// TestLongValuesAreCut: a name the user chose, thousands of letters long,
// cannot push the address, time and trace code out of the mark nor make
// it too large to draw (5,000 letters ran a preview out of memory): each
// value is cut at its limit, ending in "…", and the page is stamped.
func TestLongValuesAreCut(t *testing.T) {
	s := spec()
	s.Name = strings.Repeat("Mallory ", 625)
	s.Email = strings.Repeat("m", 300) + "@example.com"
	s.Device = strings.Repeat("d", 100)
	lines := s.Lines()
	want := []int{watermark.MaxName + len(" <>") + watermark.MaxEmail, watermark.MaxDevice + utf8.RuneCountInString(" · 2026-11-22 21:03 UTC")}
	for i, w := range want {
		if n := utf8.RuneCountInString(lines[i]); n != w {
			t.Errorf("line %d has %d characters, want %d: %q", i+1, n, w, lines[i])
		}
	}
	if !strings.HasPrefix(lines[0], "Mallory Mallory") || !strings.Contains(lines[0], "… <mmm") || !strings.HasSuffix(lines[0], "…>") {
		t.Errorf("first line %q", lines[0])
	}
	if lines[2] != "trace "+s.TraceCode {
		t.Errorf("trace line %q", lines[2])
	}
	if err := stamper(t).Stamp(white(1240, 1754), s); err != nil {
		t.Fatal(err)
	}
	short := spec()
	short.Name = strings.Repeat("é", watermark.MaxName)
	if got := short.Lines()[0]; !strings.HasPrefix(got, short.Name+" <") {
		t.Errorf("a name of exactly %d letters was cut: %q", watermark.MaxName, got)
	}
}
