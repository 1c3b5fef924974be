package app

import (
	"context"
	"fmt"
	"image"
	"sync"

	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// pagerCacheBytes bounds the rendered, unwatermarked pages a viewer keeps
// of the document on screen: a dozen A4 pages at 150 dpi.
const pagerCacheBytes = 96 << 20

// viewing is the document a viewer has open (PreviewOptions.Keep): its
// plaintext stays in memory, parsed, with the neighbours of the page shown
// rendered ahead, so turning a page is a stamp, not a decrypt-parse-render.
// Only one document is kept; opening another, Lock and Close drop it.
type viewing struct {
	mu      sync.Mutex
	version object.ID
	dpi     float64
	pager   *preview.Pager
	pages   int
}

// pager returns the pager of ver at dpi, opening the document if it is not
// the one kept.
func (a *App) pager(ctx context.Context, f vault.Folder, ver vault.Version, dpi float64) (*preview.Pager, int, error) {
	v := &a.view
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pager != nil && v.version == ver.ID && v.dpi == dpi {
		return v.pager, v.pages, nil
	}
	v.closeLocked()
	doc, err := a.openDocument(ctx, f, ver)
	if err != nil {
		return nil, 0, err
	}
	v.version, v.dpi, v.pages = ver.ID, dpi, doc.Pages()
	v.pager = preview.NewPager(doc, dpi, pagerCacheBytes)
	return v.pager, v.pages, nil
}

// closeLocked drops the kept document; v.mu is held.
func (v *viewing) closeLocked() {
	if v.pager != nil {
		_ = v.pager.Close()
		v.pager, v.version = nil, object.ID{}
	}
}

// close drops the kept document.
func (v *viewing) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closeLocked()
}

// renderKept renders a page through the kept document and returns a copy
// the caller may stamp.
func (a *App) renderKept(ctx context.Context, f vault.Folder, ver vault.Version, opts PreviewOptions) (*image.RGBA, int, error) {
	p, pages, err := a.pager(ctx, f, ver, opts.DPI)
	if err != nil {
		return nil, 0, err
	}
	if opts.Page > pages {
		return nil, 0, fmt.Errorf("%s has %d pages: %w", ver.Name, pages, preview.ErrPage)
	}
	img, err := p.Page(ctx, opts.Page-1)
	if err != nil {
		return nil, 0, fmt.Errorf("%s page %d: %w", ver.Name, opts.Page, err)
	}
	out := image.NewRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	return out, pages, nil
}
