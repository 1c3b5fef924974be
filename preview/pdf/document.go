package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
)

// headerWindow is where PDFium looks for the signature: "%PDF" starting
// at any offset from 0 to 1024 (CPDF_Parser's header search). Nothing
// else is asked of the bytes before PDFium sees them: a file poppler,
// MuPDF and PDFium open (one without "%%EOF", or with bytes after it)
// must preview.
const headerWindow = 1024

// tailWindow is how much of a file's end is searched for "%%EOF" when
// PDFium could not open it, to say it may be truncated.
const tailWindow = 1024

// Document is an open PDF in its own sandbox instance. Its methods are safe
// for concurrent use but run one at a time. Close it when done.
type Document struct {
	r     *Renderer
	pages int

	mu   sync.Mutex
	inst pdfium.Pdfium // nil once closed or killed
	doc  references.FPDF_DOCUMENT
	dead error // why inst is nil, wrapped into later errors
}

// Open parses a PDF given in memory. data is copied into the sandbox (never
// to disk) and may be reused by the caller once Open returns. Open fails with
// ErrNotPDF, ErrCorrupt or ErrPassword for input it cannot preview, and is
// bounded by the Renderer's timeout, which includes waiting for a free
// sandbox when maxOpenDocuments are open.
func (r *Renderer) Open(ctx context.Context, data []byte) (*Document, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("pdf: open: renderer: %w", ErrClosed)
	}
	if err := sniff(data); err != nil {
		return nil, fmt.Errorf("pdf: open: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()

	var inst pdfium.Pdfium
	err := guard("open", func() error {
		var err error
		inst, err = r.pool.GetInstanceWithContext(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pdf: open: no sandbox instance: %w", err)
	}
	d := &Document{r: r, inst: inst}
	err = d.do(ctx, "open", func(inst pdfium.Pdfium) error {
		resp, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
		if err != nil {
			err = classifyOpenError(err)
			if errors.Is(err, ErrCorrupt) && !bytes.Contains(data[max(0, len(data)-tailWindow):], []byte("%%EOF")) {
				err = fmt.Errorf("%w; no %%%%EOF in its last %d bytes: it may be truncated", err, tailWindow)
			}
			return err
		}
		d.doc = resp.Document
		count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.doc})
		if err != nil {
			return fmt.Errorf("%w: page count: %w", ErrCorrupt, err)
		}
		if count.PageCount <= 0 {
			return fmt.Errorf("%w: no pages", ErrCorrupt)
		}
		d.pages = count.PageCount
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, d.Close())
	}
	return d, nil
}

// sniff rejects, before any of it reaches PDFium, input that PDFium
// would not open as a PDF (no signature where it looks) or that is over
// the size limit.
func sniff(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty input", ErrNotPDF)
	}
	if len(data) > maxInputBytes {
		return fmt.Errorf("%w: input of %d bytes, limit %d", ErrTooLarge, len(data), maxInputBytes)
	}
	if !bytes.Contains(data[:min(len(data), headerWindow+len("%PDF"))], []byte("%PDF")) {
		return fmt.Errorf("%w: no %%PDF header in the first %d bytes", ErrNotPDF, headerWindow)
	}
	return nil
}

// classifyOpenError maps PDFium's load error onto the package's sentinels,
// keeping PDFium's error in the chain.
func classifyOpenError(err error) error {
	switch {
	case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
		return fmt.Errorf("%w (%w)", ErrPassword, err)
	case errors.Is(err, pdfiumerrors.ErrFormat), errors.Is(err, pdfiumerrors.ErrFile),
		errors.Is(err, pdfiumerrors.ErrUnknown), errors.Is(err, pdfiumerrors.ErrPage):
		return fmt.Errorf("%w (%w)", ErrCorrupt, err)
	}
	return err
}

// PageCount returns the number of pages, at least 1.
func (d *Document) PageCount() int { return d.pages }

// PageSize returns the size of page i (0-based) in PDF points (1/72 inch),
// as displayed, i.e. after the page's rotation.
func (d *Document) PageSize(i int) (widthPt, heightPt float64, err error) {
	if err := d.checkPage(i); err != nil {
		return 0, 0, fmt.Errorf("pdf: page size: %w", err)
	}
	err = d.do(context.Background(), "page size", func(inst pdfium.Pdfium) error {
		widthPt, heightPt, err = d.pageSize(inst, i)
		return err
	})
	return widthPt, heightPt, err
}

func (d *Document) pageSize(inst pdfium.Pdfium, i int) (float64, float64, error) {
	resp, err := inst.GetPageSize(&requests.GetPageSize{Page: d.page(i)})
	if err != nil {
		return 0, 0, fmt.Errorf("%w: page %d: %w", ErrCorrupt, i+1, err)
	}
	w, h := resp.Width, resp.Height
	if !(w > 0 && h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return 0, 0, fmt.Errorf("%w: page %d has size %v × %v pt", ErrCorrupt, i+1, w, h)
	}
	return w, h, nil
}

func (d *Document) page(i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: d.doc, Index: i}}
}

func (d *Document) checkPage(i int) error {
	if i < 0 || i >= d.pages {
		return fmt.Errorf("%w: page %d of %d", ErrPageRange, i+1, d.pages)
	}
	return nil
}

// Render renders page (0-based) at dpi dots per inch onto an opaque white
// background, annotations included. Only that page is loaded. The image is
// ceil(size × dpi / 72) pixels each way (±1); a render of more than
// Options.MaxPixels pixels is refused with ErrTooLarge, saying which dpi
// fits. Errors name pages from 1, as users count them.
func (d *Document) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	if err := d.checkPage(page); err != nil {
		return nil, fmt.Errorf("pdf: render: %w", err)
	}
	if !(dpi > 0) || math.IsInf(dpi, 0) {
		return nil, fmt.Errorf("pdf: render: invalid dpi %v", dpi)
	}
	var img *image.RGBA
	err := d.do(ctx, "render", func(inst pdfium.Pdfium) error {
		wPt, hPt, err := d.pageSize(inst, page)
		if err != nil {
			return err
		}
		w, h := math.Ceil(wPt*dpi/72), math.Ceil(hPt*dpi/72)
		if w*h > float64(d.r.maxPixels) {
			// The largest whole dpi that fits, for the message.
			fit := math.Floor(dpi*math.Sqrt(float64(d.r.maxPixels)/(w*h))) - 1
			return fmt.Errorf("%w: page %d at %v dpi is %.0f × %.0f pixels, limit %d (%.0f dpi or less fits)",
				ErrTooLarge, page+1, dpi, w, h, d.r.maxPixels, max(fit, 1))
		}
		img, err = renderPage(inst, d.page(page), int(w), int(h))
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// renderPage renders into a bitmap inside the sandbox that fits in w × h and
// copies it out, flattened onto white.
func renderPage(inst pdfium.Pdfium, page requests.Page, w, h int) (*image.RGBA, error) {
	resp, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{
		Page:        page,
		Width:       max(w, 1),
		Height:      max(h, 1),
		RenderFlags: enums.FPDF_RENDER_FLAG_ANNOT,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if resp.CleanupFunc != nil {
		defer resp.CleanupFunc() // frees the bitmap inside the sandbox
	}
	src, ok := resp.Result.RenderedImage.(*image.RGBA)
	if !ok || src == nil {
		return nil, fmt.Errorf("PDFium returned a %T, want *image.RGBA", resp.Result.RenderedImage)
	}
	// src.Pix is a view of the sandbox's memory: copy it out.
	dst := image.NewRGBA(src.Rect)
	copy(dst.Pix, src.Pix)
	if resp.Result.HasTransparency {
		flattenOnWhite(dst)
	}
	return dst, nil
}

// flattenOnWhite composites a page rendered on a transparent background
// (PDFium's straight-alpha BGRA, byte-swapped to RGBA) onto opaque white.
func flattenOnWhite(img *image.RGBA) {
	p := img.Pix
	for i := 0; i+3 < len(p); i += 4 {
		a := uint32(p[i+3])
		if a == 255 {
			continue
		}
		for c := 0; c < 3; c++ {
			p[i+c] = uint8((uint32(p[i+c])*a + 255*(255-a) + 127) / 255)
		}
		p[i+3] = 255
	}
}

// Close closes the document and destroys its sandbox instance. It is safe
// to call more than once.
func (d *Document) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	inst := d.inst
	if inst == nil {
		return nil
	}
	d.inst, d.dead = nil, ErrClosed
	if d.r.isClosed() { // the pool already closed every instance
		return nil
	}
	err := guard("close", inst.Close)
	if err != nil && !d.r.isClosed() {
		return fmt.Errorf("pdf: close: %w", err)
	}
	return nil
}

// do runs fn against the document's instance, one call at a time, bounded
// by ctx and the Renderer's timeout. When the time is up the instance is
// killed, which aborts PDFium wherever it is, and the Document is unusable.
func (d *Document) do(ctx context.Context, op string, fn func(pdfium.Pdfium) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inst == nil {
		return fmt.Errorf("pdf: %s: document: %w", op, d.dead)
	}
	if d.r.isClosed() {
		return fmt.Errorf("pdf: %s: renderer: %w", op, ErrClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, d.r.timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pdf: %s: %w", op, err)
	}

	inst := d.inst
	killed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(killed)
		_ = guard("kill", inst.Kill)
	})
	err := guard(op, func() error { return fn(inst) })
	if !stop() {
		// The deadline (or the caller's cancellation) fired: whatever fn
		// returned, the instance is gone.
		<-killed
		d.inst = nil
		d.dead = fmt.Errorf("%w: sandbox killed after %s: %w", ErrClosed, op, context.Cause(ctx))
		return fmt.Errorf("pdf: %s: %w", op, context.Cause(ctx))
	}
	if why, ok := trapped(err); ok {
		// PDFium stopped (out of the memory a preview may use, or a bug
		// the document found): its state is not to be trusted again, and
		// its stack trace tells no user anything.
		_ = guard("kill", inst.Kill)
		d.inst = nil
		d.dead = fmt.Errorf("%w: PDFium stopped at %s", ErrClosed, op)
		return fmt.Errorf("pdf: %s: %w: PDFium stopped on it (%s): it needs more than the %d MiB a preview may use, or is damaged",
			op, ErrCorrupt, why, memoryLimitPages*64>>10)
	}
	if err != nil {
		return fmt.Errorf("pdf: %s: %w", op, err)
	}
	return nil
}

// trapped reports whether err is a trap of the WebAssembly module
// (wazero's "wasm error: unreachable\nwasm stack trace: …"), and which.
func trapped(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	_, after, ok := strings.Cut(err.Error(), "wasm error: ")
	if !ok {
		return "", false
	}
	why, _, _ := strings.Cut(after, "\n")
	return why, true
}
