package preview_test

import (
	"context"
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
