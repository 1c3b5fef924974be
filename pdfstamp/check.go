package pdfstamp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/internal/rawpdf"
	"github.com/coffer-vault/coffer/preview"
)

// The render check: a stamped page is rendered with PDFium next to the
// same page unstamped and next to a blank page of the same boxes and
// rotation carrying the same stamp (the reference, which says where the
// stamp's ink is). The stamp shows if, where the reference has ink, the
// stamped render differs from the unstamped one. A page whose stamp is
// hidden (optional content turned off, an opaque annotation over it, a
// clip left behind by the page's content) fails; so does a page that
// stamping changed away from the stamp.
const (
	// checkPixels is the longer side, in pixels, of the renders compared:
	// enough for the stamp's strokes to be a few pixels wide on any page
	// size, small enough to render fast.
	checkPixels = 640
	// inkLevel is how far from white (largest channel difference, 0-255)
	// a reference pixel must be to count as the stamp's ink. On white the
	// stamp's core differs by about 68.
	inkLevel = 32
	// shownLevel is how far a stamped pixel must differ from the unstamped
	// one for the stamp to show there. The stamp over black differs by
	// about 45.
	shownLevel = 10
	// MinShown is the share of the stamp's ink that must show on every
	// checked page. Where the page is the stamp's own colour the stamp
	// cannot show, so it is not 1.
	MinShown = 0.6
	// strayLevel and maxStray bound what stamping may change away from
	// the stamp: pixels that differ by strayLevel or more, more than two
	// pixels from any ink, are at most maxStray of the page.
	strayLevel = 48
	maxStray   = 0.002
)

// DefaultMaxChecked is how many pages Stamp renders to check when
// Options.MaxChecked is 0. A document with more pages has its first and
// last pages checked, the first page of every distinct layout (boxes and
// rotation), and pages spread evenly between. What a page's content or
// annotations do cannot hide the stamp's topmost annotation (see
// stampPages), so pages that differ only there need no check of their own.
const DefaultMaxChecked = 24

// samplePages returns the 1-based pages to check, in order: every page if
// there are at most max; else the first and last, the first page of each
// distinct layout, and pages spread evenly, at most max in all (at least
// the first and last).
func samplePages(info []pageInfo, max int) []int {
	n := len(info) - 1
	if n <= max {
		all := make([]int, n)
		for i := range all {
			all[i] = i + 1
		}
		return all
	}
	picked := map[int]bool{1: true, n: true}
	seen := map[pageInfo]bool{}
	for p := 1; p <= n && len(picked) < max; p++ {
		if !seen[info[p]] {
			seen[info[p]] = true
			picked[p] = true
		}
	}
	for i, r := 1, max-len(picked); i <= r; i++ {
		picked[1+(n-1)*i/(r+1)] = true
	}
	pages := make([]int, 0, len(picked))
	for p := 1; p <= n; p++ {
		if picked[p] {
			pages = append(pages, p)
		}
	}
	return pages
}

// reference builds a PDF of blank pages, one per distinct geometry of the
// checked pages, stamped by st, and says which of its pages (0-based)
// stands for each checked page.
func (st *stamper) reference(info []pageInfo, pages []int) ([]byte, map[int]int, error) {
	index := map[geometry]int{}
	of := map[int]int{}
	var blank []rawpdf.Page
	for _, p := range pages {
		g := info[p].geometry
		if _, ok := index[g]; !ok {
			index[g] = len(blank)
			crop := g.visible
			blank = append(blank, rawpdf.Page{MediaBox: g.media, CropBox: &crop, Rotate: g.rotate})
		}
		of[p] = index[g]
	}
	var doc rawpdf.Doc
	root := doc.Pages("", blank...)
	var out bytes.Buffer
	err := withPDFCPU(func(conf *model.Configuration) error {
		ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(doc.Bytes(root)), conf)
		if err != nil {
			return err
		}
		if _, err := st.stampPages(ctx); err != nil {
			return err
		}
		return api.WriteContext(ctx, &out)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pdfstamp: the reference stamp: %w", err)
	}
	return out.Bytes(), of, nil
}

// check renders pages of the stamped copy, the original and the reference
// and fails unless the stamp shows on each.
func (st *stamper) check(ctx context.Context, r preview.PDFOpener, orig, stamped []byte, info []pageInfo, pages []int) error {
	ref, refPage, err := st.reference(info, pages)
	if err != nil {
		return err
	}
	docs := make([]preview.Document, 3)
	for i, data := range [][]byte{stamped, orig, ref} {
		if docs[i], err = r.OpenPDF(ctx, data); err != nil {
			err = fmt.Errorf("pdfstamp: opening the %s for the render check: %w", []string{"stamped copy", "original", "reference stamp"}[i], err)
			break
		}
		defer docs[i].Close()
	}
	if err != nil {
		return err
	}
	if got := docs[0].Pages(); got != len(info)-1 {
		return fmt.Errorf("%w: the stamped copy has %d pages, the original %d", ErrNotVisible, got, len(info)-1)
	}
	for _, p := range pages {
		w, h := info[p].shown()
		dpi := checkPixels * 72 / max(w, h)
		var img [3]*image.RGBA
		for i, at := range []int{p - 1, p - 1, refPage[p]} {
			if img[i], err = docs[i].Render(ctx, at, dpi); err != nil {
				return fmt.Errorf("pdfstamp: page %d: rendering for the check: %w", p, err)
			}
		}
		if err := compare(img[0], img[1], img[2]); err != nil {
			return fmt.Errorf("%w: page %d: %w", ErrNotVisible, p, err)
		}
	}
	return nil
}

// compare checks a stamped render against the unstamped one and the
// reference (all the same size): enough of the reference's ink must show,
// and nothing much may have changed away from it.
func compare(stamped, orig, ref *image.RGBA) error {
	b := stamped.Rect
	if orig.Rect != b || ref.Rect != b {
		return fmt.Errorf("renders differ in size: %v stamped, %v unstamped, %v reference", b, orig.Rect, ref.Rect)
	}
	w, h := b.Dx(), b.Dy()
	near := make([]bool, w*h) // within two pixels of any trace of the stamp
	ink, shown := 0, 0
	for y := range h {
		for x := range w {
			i := y*ref.Stride + x*4
			level := 255 - min(ref.Pix[i], ref.Pix[i+1], ref.Pix[i+2])
			if level > 4 {
				for yy := max(0, y-2); yy <= min(h-1, y+2); yy++ {
					for xx := max(0, x-2); xx <= min(w-1, x+2); xx++ {
						near[yy*w+xx] = true
					}
				}
			}
			if level < inkLevel {
				continue
			}
			ink++
			if diff(stamped.Pix[i:i+3], orig.Pix[i:i+3]) >= shownLevel {
				shown++
			}
		}
	}
	if ink < 50 {
		return fmt.Errorf("the reference stamp has only %d pixels of ink in a %d×%d render", ink, w, h)
	}
	if share := float64(shown) / float64(ink); share < MinShown {
		return fmt.Errorf("%.0f%% of the stamp shows, at least %.0f%% must", 100*share, 100*MinShown)
	}
	stray := 0
	for y := range h {
		for x := range w {
			i := y*stamped.Stride + x*4
			if !near[y*w+x] && diff(stamped.Pix[i:i+3], orig.Pix[i:i+3]) >= strayLevel {
				stray++
			}
		}
	}
	if float64(stray) > maxStray*float64(w*h) {
		return fmt.Errorf("stamping changed %d pixels away from the stamp", stray)
	}
	return nil
}

// diff is the largest difference between two RGB pixels' channels.
func diff(a, b []uint8) uint8 {
	d := uint8(0)
	for c := range 3 {
		if a[c] > b[c] {
			d = max(d, a[c]-b[c])
		} else {
			d = max(d, b[c]-a[c])
		}
	}
	return d
}

var errNoRenderer = errors.New("pdfstamp: no renderer to check the stamp with")
