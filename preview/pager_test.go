package preview_test

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/preview"
)

// counted wraps a real document and counts renders per page.
type counted struct {
	preview.Document
	mu    sync.Mutex
	calls map[int]int
}

func (c *counted) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	c.mu.Lock()
	c.calls[page]++
	c.mu.Unlock()
	return c.Document.Render(ctx, page, dpi)
}

func (c *counted) count(page int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[page]
}

func TestPagerCachesAndPrefetches(t *testing.T) {
	doc, err := preview.Open(context.Background(), []byte(strings.Repeat("a line of a long report\n", 58*20)), "text/plain", "r.txt", preview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &counted{Document: doc, calls: map[int]int{}}
	pageBytes := 595 * 842 * 4 // one page at 72 dpi
	p := preview.NewPager(c, 72, 3*pageBytes)
	defer p.Close()
	ctx := context.Background()
	if _, err := p.Page(ctx, 5); err != nil {
		t.Fatal(err)
	}
	// The neighbours are rendered in the background.
	deadline := time.Now().Add(5 * time.Second)
	for (c.count(4) == 0 || c.count(6) == 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if c.count(4) != 1 || c.count(6) != 1 {
		t.Fatalf("neighbours rendered %d and %d times", c.count(4), c.count(6))
	}
	// Showing a prefetched page does not render it again.
	if _, err := p.Page(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if c.count(6) != 1 {
		t.Errorf("page 6 rendered %d times", c.count(6))
	}
	// Paging through the document keeps the cache within its limit.
	for i := range doc.Pages() {
		if _, err := p.Page(ctx, i); err != nil {
			t.Fatal(err)
		}
		if got := p.Cached(); got > 3*pageBytes {
			t.Fatalf("cache holds %d bytes, limit %d", got, 3*pageBytes)
		}
	}
	if _, err := p.Page(ctx, doc.Pages()); err == nil {
		t.Error("page past the end")
	}
}

// slow holds each render until released, to close a Pager mid-render.
type slow struct {
	preview.Document
	started chan struct{}
	release chan struct{}
}

func (s *slow) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	s.started <- struct{}{}
	<-s.release
	return s.Document.Render(ctx, page, dpi)
}

// TestPagerCloseDuringRender closes a Pager while a caller's page renders:
// the caller gets its page, the closed Pager keeps nothing, and later
// calls fail with ErrPagerClosed.
func TestPagerCloseDuringRender(t *testing.T) {
	doc, err := preview.Open(context.Background(), []byte(strings.Repeat("line\n", 400)), "text/plain", "r.txt", preview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &slow{Document: doc, started: make(chan struct{}, 8), release: make(chan struct{})}
	p := preview.NewPager(s, 72, 64<<20)
	got := make(chan error, 1)
	go func() {
		_, err := p.Page(context.Background(), 1)
		got <- err
	}()
	<-s.started
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	time.Sleep(50 * time.Millisecond) // Close is now waiting or done; the render still holds
	close(s.release)
	if err := <-got; err != nil {
		t.Errorf("the page rendering during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := p.Cached(); n != 0 {
		t.Errorf("a closed pager holds %d bytes", n)
	}
	if _, err := p.Page(context.Background(), 0); !errors.Is(err, preview.ErrPagerClosed) {
		t.Errorf("Page after Close: %v, want ErrPagerClosed", err)
	}
}

// A draft is rendered at its own resolution and neither kept nor counted
// as the page; Has tells a page kept or on its way from one that is not.
func TestPagerDraft(t *testing.T) {
	doc, err := preview.Open(context.Background(), []byte(strings.Repeat("a line of a long report\n", 58*5)), "text/plain", "r.txt", preview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := preview.NewPager(doc, 72, 64<<20)
	ctx := context.Background()
	if p.Has(2) {
		t.Error("Has(2) before any render")
	}
	d, err := p.Draft(ctx, 2, 24)
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Bounds().Dx(); w < 197 || w > 200 || p.Cached() != 0 || p.Has(2) {
		t.Errorf("draft %d pixels wide; cache %d bytes, Has(2) %v after it", w, p.Cached(), p.Has(2))
	}
	if _, err := p.Page(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if !p.Has(2) {
		t.Error("Has(2) false after Page(2)")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Draft(ctx, 1, 24); !errors.Is(err, preview.ErrPagerClosed) {
		t.Errorf("Draft after Close: %v", err)
	}
}
