package pdfstamp_test

import (
	"context"
	"fmt"
	"image"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/rawpdf"
	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/coffer-vault/coffer/watermark"
)

// shared is one PDFium renderer for the test binary: compiling it is the
// slow part (once per test binary, in memory). TestMain closes it.
var shared struct {
	once sync.Once
	r    *pdf.Renderer
	err  error
}

func TestMain(m *testing.M) {
	// pdfstamp keeps pdfcpu's form of the stamp font in the user cache.
	cache, err := os.MkdirTemp("", "pdfstamp-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(cache)
	if shared.r != nil {
		shared.r.Close()
	}
	os.Exit(code)
}

func renderer(t testing.TB) *pdf.Renderer {
	t.Helper()
	shared.once.Do(func() {
		shared.r, shared.err = pdf.NewRenderer(context.Background(), pdf.Options{})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.r
}

func spec() watermark.Spec {
	return watermark.Spec{Name: "Ann 100% Trader", Email: "ann@example.com", Device: "vm",
		Time: time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC), TraceCode: "K7Q4M-ZP2XA"}
}

// render renders page (0-based) of data with PDFium so that its longer
// side is about px pixels.
func render(t testing.TB, data []byte, page int, px float64) *image.RGBA {
	t.Helper()
	ctx := context.Background()
	doc, err := renderer(t).Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	w, h, err := doc.PageSize(page)
	if err != nil {
		t.Fatal(err)
	}
	img, err := doc.Render(ctx, page, px*72/max(w, h))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// stampRed counts pixels of the stamp's colour, red over anything light
// (the stamp is #961E28 at 30% opacity: about 223,187,190 over white).
func stampRed(img *image.RGBA) (n int, box image.Rectangle) {
	b := img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if int(c.R)-int(c.G) >= 20 && int(c.R)-int(c.B) >= 20 {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, box
}

// letter is a US Letter media box.
var letter = [4]float64{0, 0, 612, 792}

// drawing is page content that shows where the page is and which way up:
// a green frame just inside box and a blue F.
func drawing(box [4]float64) []byte {
	x, y := box[0]+(box[2]-box[0])*0.25, box[1]+(box[3]-box[1])*0.4
	s := (box[2] - box[0]) * 0.3
	return fmt.Appendf(nil, "0 0.6 0 RG 4 w %g %g %g %g re S 0 0 1 rg %g %g %g %g re f %g %g %g %g re f %g %g %g %g re f",
		box[0]+6, box[1]+6, box[2]-box[0]-12, box[3]-box[1]-12,
		x, y, s*0.2, s, x, y+s*0.8, s*0.8, s*0.2, x, y+s*0.4, s*0.5, s*0.15)
}

// onePage is a document of one page.
func onePage(p rawpdf.Page, catalog string, extra func(d *rawpdf.Doc, p *rawpdf.Page)) []byte {
	var d rawpdf.Doc
	if p.Content == nil {
		box := p.MediaBox
		if p.CropBox != nil {
			box = *p.CropBox
		}
		p.Content = drawing(box)
	}
	if extra != nil {
		extra(&d, &p)
	}
	return d.Bytes(d.Pages(catalog, p))
}
