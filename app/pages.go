package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// pagerCacheBytes bounds the rendered, unwatermarked pages a viewer keeps
// of the document on screen: a dozen A4 pages at 150 dpi.
const pagerCacheBytes = 96 << 20

// ErrClosed is returned by an App's methods after Lock or Close.
var ErrClosed = errors.New("the vault is locked")

// viewing is the document a viewer has open (PreviewOptions.Keep): its
// plaintext stays in memory, parsed, with the neighbours of the page shown
// rendered ahead, so turning a page is a stamp, not a decrypt-parse-render.
// Only one document is kept; opening another, Lock and Close drop it.
type viewing struct {
	mu      sync.Mutex
	closed  bool // the App is closed: keep nothing more
	version object.ID
	dpi     float64
	pager   *preview.Pager
	pages   int
}

// kept returns the kept pager if it shows ver at dpi.
func (v *viewing) kept(ver object.ID, dpi float64) (*preview.Pager, int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil, 0, ErrClosed
	}
	if v.pager != nil && v.version == ver && v.dpi == dpi {
		return v.pager, v.pages, nil
	}
	return nil, 0, nil
}

// keep installs a newly opened document, unless another caller installed
// the same one meanwhile (then doc is closed and theirs returned) or the
// App closed (then doc is closed).
func (v *viewing) keep(ver object.ID, dpi float64, doc preview.Document) (*preview.Pager, int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		doc.Close()
		return nil, 0, ErrClosed
	}
	if v.pager != nil && v.version == ver && v.dpi == dpi {
		doc.Close()
		return v.pager, v.pages, nil
	}
	v.dropLocked()
	v.version, v.dpi, v.pages = ver, dpi, doc.Pages()
	v.pager = preview.NewPager(doc, dpi, pagerCacheBytes)
	return v.pager, v.pages, nil
}

// drop closes p if it is still the kept pager.
func (v *viewing) drop(p *preview.Pager) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pager == p {
		v.dropLocked()
	}
}

func (v *viewing) dropLocked() {
	if v.pager != nil {
		_ = v.pager.Close()
		v.pager, v.version = nil, object.ID{}
	}
}

// close drops the kept document for good.
func (v *viewing) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closed = true
	v.dropLocked()
}

// renderKept renders a page through the kept document, opening it if it
// is not kept, and returns a copy the caller may stamp. A kept document
// that fails (its PDF sandbox killed by a timeout, say) is dropped and
// opened again once.
//
// When draft is not nil and the page is neither kept nor being rendered,
// the page is first rendered at draftDPI(opts.DPI) and handed to draft,
// whose error ends the call; a draft that fails to render is skipped.
//
// The caller calls around once the page is on its way to the screen: it
// starts rendering the neighbours, which would otherwise compete with
// the watermark and the audit record for the processor.
func (a *App) renderKept(ctx context.Context, f vault.Folder, ver vault.Version, opts PreviewOptions, draft func(img *image.RGBA, dpi float64, pages int) error) (*image.RGBA, int, func(), error) {
	for attempt := 0; ; attempt++ {
		p, pages, err := a.view.kept(ver.ID, opts.DPI)
		if err != nil {
			return nil, 0, nil, err
		}
		fresh := p == nil
		if fresh {
			// Decrypting and parsing happen outside the viewer's lock.
			doc, release, err := a.openDocument(ctx, f, ver)
			if err != nil {
				return nil, 0, nil, err
			}
			p, pages, err = a.view.keep(ver.ID, opts.DPI, doc)
			release() // doc is kept (Close closes it first) or closed
			if err != nil {
				return nil, 0, nil, err
			}
		}
		if opts.Page > pages {
			return nil, 0, nil, fmt.Errorf("%s has %d pages: %w", display.Name(ver.Name), pages, preview.ErrPage)
		}
		if dpi := draftDPI(opts.DPI); draft != nil && dpi > 0 && !p.Has(opts.Page-1) {
			if img, err := p.Draft(ctx, opts.Page-1, dpi); err == nil {
				if err := draft(img, dpi, pages); err != nil {
					return nil, 0, nil, err
				}
				draft = nil // shown: not again if the document is opened anew
			}
		}
		img, err := p.Get(ctx, opts.Page-1)
		if err != nil {
			// A document whose sandbox died (a timeout, perhaps on a
			// prefetched page) is opened again once; other errors, such
			// as a page too large to render, would only repeat.
			dead := errors.Is(err, pdf.ErrClosed) || errors.Is(err, preview.ErrPagerClosed)
			if dead {
				a.view.drop(p)
			}
			if dead && !fresh && attempt == 0 && ctx.Err() == nil {
				continue
			}
			return nil, 0, nil, fmt.Errorf("%s page %d: %w", display.Name(ver.Name), opts.Page, err)
		}
		out := image.NewRGBA(img.Rect)
		copy(out.Pix, img.Pix)
		return out, pages, func() { p.Around(opts.Page - 1) }, nil
	}
}
