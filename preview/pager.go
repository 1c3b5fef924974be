package preview

import (
	"container/list"
	"context"
	"errors"
	"image"
	"sync"
)

// Pager serves the pages of one open Document to a viewer: pages are
// rendered on demand, the neighbours of the page shown are rendered in the
// background, and rendered pages are kept in a cache bounded in bytes (the
// least recently shown go first). Pages are returned unwatermarked and must
// be stamped per view by the caller; the cache never leaves memory.
type Pager struct {
	doc   Document
	dpi   float64
	limit int

	mu      sync.Mutex
	used    int
	lru     *list.List            // of *cached, most recent first
	pages   map[int]*list.Element // page → element
	pending map[int]chan struct{} // pages being rendered
	closed  bool
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

type cached struct {
	page int
	img  *image.RGBA
}

// NewPager serves doc at dpi with a cache of at most limit bytes.
func NewPager(doc Document, dpi float64, limit int) *Pager {
	ctx, stop := context.WithCancel(context.Background())
	return &Pager{doc: doc, dpi: dpi, limit: limit, lru: list.New(), pages: map[int]*list.Element{},
		pending: map[int]chan struct{}{}, ctx: ctx, stop: stop}
}

// Page returns page (0-based), rendering it if it is not cached, and starts
// rendering its neighbours. The image is shared: copy it before drawing.
func (p *Pager) Page(ctx context.Context, page int) (*image.RGBA, error) {
	img, err := p.Get(ctx, page)
	if err != nil {
		return nil, err
	}
	p.Around(page)
	return img, nil
}

// Get is Page without the neighbours: a viewer that still has work to do
// on the page (watermark it, record the view) calls Around once the page
// is on screen, so that the neighbours' renders do not compete with that
// work for the processor.
func (p *Pager) Get(ctx context.Context, page int) (*image.RGBA, error) {
	return p.get(ctx, page)
}

// Around starts rendering the neighbours of page in the background.
func (p *Pager) Around(page int) {
	for _, n := range []int{page + 1, page - 1} {
		if n >= 0 && n < p.doc.Pages() {
			p.prefetch(n)
		}
	}
}

// ErrPagerClosed is returned by a Pager after Close.
var ErrPagerClosed = errors.New("preview: pager closed")

func (p *Pager) get(ctx context.Context, page int) (*image.RGBA, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPagerClosed
		}
		if el, ok := p.pages[page]; ok {
			p.lru.MoveToFront(el)
			p.mu.Unlock()
			return el.Value.(*cached).img, nil
		}
		wait, busy := p.pending[page]
		if !busy {
			done := make(chan struct{})
			p.pending[page] = done
			p.mu.Unlock()
			img, err := p.doc.Render(ctx, page, p.dpi)
			p.finish(page, img, err, done)
			return img, err
		}
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// finish stores a rendered page and evicts the least recently used pages
// until the cache fits its limit (the new page always stays). A page that
// finishes after Close is handed to its caller but not kept.
func (p *Pager) finish(page int, img *image.RGBA, err error, done chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, page)
	close(done)
	if err != nil || p.closed {
		return
	}
	p.pages[page] = p.lru.PushFront(&cached{page: page, img: img})
	p.used += len(img.Pix)
	for p.used > p.limit && p.lru.Len() > 1 {
		el := p.lru.Back()
		c := el.Value.(*cached)
		p.lru.Remove(el)
		delete(p.pages, c.page)
		p.used -= len(c.img.Pix)
	}
}

func (p *Pager) prefetch(page int) {
	p.mu.Lock()
	_, have := p.pages[page]
	_, busy := p.pending[page]
	if have || busy || p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1) // under mu, so never concurrent with Close's Wait
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		_, _ = p.get(p.ctx, page)
	}()
}

// Has reports whether page (0-based) is kept or being rendered: Page
// will have it soon, and a viewer has no need of a draft.
func (p *Pager) Has(page int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, have := p.pages[page]
	_, busy := p.pending[page]
	return have || busy
}

// Draft renders page (0-based) at dpi, typically a fraction of the
// Pager's, for a viewer to show while Page renders it in full: the
// page's content is parsed once and drawn with a ninth of the pixels at a
// third of the resolution. The draft is neither kept nor prefetched
// around; it is the caller's to draw on.
func (p *Pager) Draft(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPagerClosed
	}
	p.wg.Add(1) // under mu, so never concurrent with Close's Wait: Close waits for the draft
	p.mu.Unlock()
	defer p.wg.Done()
	return p.doc.Render(ctx, page, dpi)
}

// Cached returns the bytes held by the cache.
func (p *Pager) Cached() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// Close stops prefetching, drops the cache and closes the document. A
// render in flight for a caller finishes (the document serialises it with
// Close) but its page is not kept; later calls return ErrPagerClosed.
func (p *Pager) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.stop()
	p.wg.Wait()
	p.mu.Lock()
	p.lru.Init()
	p.pages, p.used = map[int]*list.Element{}, 0
	p.mu.Unlock()
	return p.doc.Close()
}
