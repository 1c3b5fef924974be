package pdf

import (
	"context"

	"github.com/coffer-vault/coffer/preview"
)

// OpenPDF opens data as a preview.Document, so a Renderer serves as the
// PDF path of package preview.
func (r *Renderer) OpenPDF(ctx context.Context, data []byte) (preview.Document, error) {
	d, err := r.Open(ctx, data)
	if err != nil {
		return nil, err
	}
	return pages{d}, nil
}

// pages adapts Document to preview.Document.
type pages struct{ *Document }

func (p pages) Pages() int { return p.PageCount() }
