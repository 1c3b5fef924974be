package pdfstamp_test

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/internal/rawpdf"
)

// viewers are the other renderers a stamped copy will meet: poppler
// (Evince, Okular, most Linux viewers) and MuPDF (SumatraPDF, zathura).
// Each renders page 1 of a file to a PNG whose longer side is about 500
// pixels, honouring the crop box and drawing annotations.
var viewers = []struct {
	name, bin string
	args      func(in, out string) []string
}{
	{"poppler", "pdftoppm", func(in, out string) []string {
		return []string{"-cropbox", "-scale-to", "500", "-png", "-singlefile", in, out[:len(out)-len(".png")]}
	}},
	{"mupdf", "mutool", func(in, out string) []string {
		return []string{"draw", "-q", "-w", "500", "-h", "500", "-o", out, in, "1"}
	}},
}

// TestStampShowsInOtherViewers renders every generated layout, stamped,
// with poppler and MuPDF, and checks the stamp shows there as it does in
// PDFium. The tools come with `make test-deps` (poppler-utils,
// mupdf-tools); without them the test is skipped.
func TestStampShowsInOtherViewers(t *testing.T) {
	for _, v := range viewers {
		if _, err := exec.LookPath(v.bin); err != nil {
			t.Skipf("%s not installed (apt-get install poppler-utils mupdf-tools, or make test-deps)", v.bin)
		}
	}
	dir := t.TempDir()
	out := os.Getenv("COFFER_STAMP_PNG")
	for _, l := range layouts() {
		res := stamp(t, l.pdf)
		for _, v := range viewers {
			t.Run(v.name+"/"+l.name, func(t *testing.T) {
				before := viewerRender(t, v.bin, v.args, dir, l.pdf)
				after := viewerRender(t, v.bin, v.args, dir, res.PDF)
				if out != "" {
					writePNG(t, filepath.Join(out, v.name+"-"+fileName(l.name)+".png"), after)
				}
				// Sizes are compared in PDFium only: poppler 22 clips a crop
				// box that sticks out of the media box wrongly, and Stamp
				// clips it as the standard says.
				red0, _ := stampRed(before)
				red, where := stampRed(after)
				if area := after.Rect.Dx() * after.Rect.Dy(); red-red0 < area/1000 {
					t.Errorf("%d stamp-red pixels on the stamped page, %d before, of %d", red, red0, area)
				}
				if where.Dx() < after.Rect.Dx()/2 && where.Dy() < after.Rect.Dy()/2 {
					t.Errorf("the stamp spans only %v of a %v page", where, after.Rect)
				}
			})
		}
	}
}

func viewerRender(t *testing.T, bin string, args func(in, out string) []string, dir string, pdf []byte) *image.RGBA {
	t.Helper()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(out)
	// MuPDF exits 1 after errors in a page's content even when it drew
	// the page: the picture, not the status, says what a reader sees.
	msg, err := exec.Command(bin, args(in, out)...).CombinedOutput()
	data, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatalf("%s: %v (%v)\n%s", bin, rerr, err, msg)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba
}

// TestStampReadableOnDark: on a black page, and on a page of the stamp's
// own red, the stamp's letters are outlined in a light colour, in PDFium,
// poppler and MuPDF: the red alone was 45/255 over black, and nothing at
// all over its own colour (a band painted there hid the trace code).
func TestStampReadableOnDark(t *testing.T) {
	for _, v := range viewers {
		if _, err := exec.LookPath(v.bin); err != nil {
			t.Skipf("%s not installed (apt-get install poppler-utils mupdf-tools, or make test-deps)", v.bin)
		}
	}
	dir := t.TempDir()
	for _, bg := range []struct{ name, fill string }{{"black", "0 g"}, {"stamp red", "0.588 0.118 0.157 rg"}} {
		// The band covers the page's middle third, where the trace code
		// runs; the stamp's start stays on white, so the check passes.
		page := onePage(rawpdf.Page{MediaBox: letter, Content: []byte(bg.fill + " 0 264 612 264 re f")}, "", nil)
		res := stamp(t, page)
		band := func(img *image.RGBA) int { // light pixels in the band
			n := 0
			b := img.Rect
			for y := b.Min.Y + b.Dy()*4/10; y < b.Min.Y+b.Dy()*6/10; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if c := img.RGBAAt(x, y); min(c.R, c.G, c.B) >= 60 {
						n++
					}
				}
			}
			return n
		}
		renders := map[string]func([]byte) *image.RGBA{"pdfium": func(pdf []byte) *image.RGBA { return render(t, pdf, 0, 500) }}
		for _, v := range viewers {
			renders[v.name] = func(pdf []byte) *image.RGBA { return viewerRender(t, v.bin, v.args, dir, pdf) }
		}
		for name, r := range renders {
			before, after := band(r(page)), band(r(res.PDF))
			if area := 500 * 500 / 5; after-before < area/400 {
				t.Errorf("%s, %s band: %d light pixels of the stamp's outline in the band (%d before)", name, bg.name, after, before)
			}
		}
	}
}
