package office

import (
	"container/list"
	"crypto/sha256"
)

// pdfCache keeps converted PDFs in memory, at most limit bytes, the least
// recently used going first. A PDF larger than the limit is not kept. It
// is not safe for concurrent use (Converter holds its lock).
type pdfCache struct {
	limit, used int64
	lru         *list.List // of *cachedPDF, most recent first
	byKey       map[[sha256.Size]byte]*list.Element
}

type cachedPDF struct {
	key [sha256.Size]byte
	pdf []byte
}

func newPDFCache(limit int64) *pdfCache {
	return &pdfCache{limit: limit, lru: list.New(), byKey: map[[sha256.Size]byte]*list.Element{}}
}

func (c *pdfCache) get(key [sha256.Size]byte) ([]byte, bool) {
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cachedPDF).pdf, true
}

func (c *pdfCache) put(key [sha256.Size]byte, pdf []byte) {
	if _, ok := c.byKey[key]; ok || int64(len(pdf)) > c.limit {
		return
	}
	c.byKey[key] = c.lru.PushFront(&cachedPDF{key: key, pdf: pdf})
	c.used += int64(len(pdf))
	for c.used > c.limit {
		el := c.lru.Back()
		old := el.Value.(*cachedPDF)
		c.lru.Remove(el)
		delete(c.byKey, old.key)
		c.used -= int64(len(old.pdf))
	}
}

// clear drops every PDF. The slices handed out stay valid for their
// holders; the cache no longer refers to them.
func (c *pdfCache) clear() {
	c.lru.Init()
	clear(c.byKey)
	c.used = 0
}
