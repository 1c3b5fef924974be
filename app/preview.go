package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/pdfstamp"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/watermark"
)

// MaxPreviewBytes bounds a document decrypted into memory for preview.
const MaxPreviewBytes = 512 << 20

// Page is one watermarked page of a document.
type Page struct {
	Image     *image.RGBA
	DPI       float64 // Image's resolution: PreviewOptions.DPI, or a draft's
	Page      int     // 1-based
	Pages     int
	TraceCode string
	Version   vault.Version
}

// PreviewOptions tune Preview.
type PreviewOptions struct {
	Page   int     // 1-based; 0 means 1
	DPI    float64 // 0 means 110
	ToFile bool    // the page will be written to a file: gated as preview-to-file
	// Keep keeps the document open and renders the pages around opts.Page
	// ahead, for a viewer that pages through it; the next Preview of
	// another document, Lock or Close drops it.
	Keep bool
	// Draft, with Keep, is called with a first, coarse frame of a page
	// that has not been rendered ahead: the page at a third of DPI, with
	// the view's watermark and trace code, its view already recorded, so
	// that a window shows something while the full page renders. Preview
	// then returns the page at DPI, the same view. Draft runs on Preview's
	// goroutine; the Page is the caller's.
	Draft func(*Page)
	// WatermarkHeight is the least height of a watermark line in pixels of
	// the page (0: the watermark's own least): a viewer that shows the page
	// smaller than it was rendered asks for more, to keep it legible.
	WatermarkHeight float64
}

// draftScale is how much coarser a draft is than the page.
const draftScale = 3

// draftDPI is the resolution of a draft of a page shown at dpi, or 0 when
// a page that coarse would render no sooner than a draft.
func draftDPI(dpi float64) float64 {
	if dpi/draftScale < 24 {
		return 0
	}
	return dpi / draftScale
}

// Preview renders one page of the current version of folder/name with the
// viewer's watermark drawn into the pixels. The document is decrypted into
// memory only. Each view gets its own trace code, written to the audit
// trail before the page is returned (or, with PreviewOptions.Draft,
// before the first frame of it is handed over), so that `coffer trace`
// names the viewer of any photo of it.
func (a *App) Preview(ctx context.Context, folder, name string, opts PreviewOptions) (*Page, error) {
	if opts.Page <= 0 {
		opts.Page = 1
	}
	if opts.DPI <= 0 {
		opts.DPI = 110
	}
	f, ver, err := a.current(ctx, folder, name)
	if err != nil {
		return nil, err
	}
	action, auditAction := policy.Preview, audit.Preview
	if opts.ToFile {
		action, auditAction = policy.PreviewToFile, audit.PreviewFile
	}
	v := &view{a: a, e: audit.Event{Action: auditAction, Folder: f.ID.String(), File: ver.File.String(), Version: ver.Seq, Page: opts.Page},
		minText: opts.WatermarkHeight, image: preview.KindOf(ver.Type, ver.Name) == preview.Image}
	if err := a.decide(f, action); err != nil {
		v.e.Outcome, v.e.Reason = audit.Blocked, auditReason(err)
		a.record(ctx, v.e)
		return nil, err
	}
	// A page written to a file is a copy like an export (releaseRecord).
	v.release = opts.ToFile && a.Enrolled() && a.decideFor(f.ID.String(), f.Class, policy.Export).Stamp
	var img *image.RGBA
	var pages int
	around := func() {}
	if opts.Keep {
		var draft func(*image.RGBA, float64, int) error
		if opts.Draft != nil {
			draft = func(img *image.RGBA, dpi float64, pages int) error {
				img, err := v.stamp(ctx, img)
				if err != nil {
					return err
				}
				if err := v.recordOK(ctx); err != nil {
					return err
				}
				opts.Draft(&Page{Image: img, DPI: dpi, Page: opts.Page, Pages: pages, TraceCode: v.e.Trace, Version: ver})
				return nil
			}
		}
		img, pages, around, err = a.renderKept(ctx, f, ver, opts, draft)
	} else {
		img, pages, err = a.render(ctx, f, ver, opts)
	}
	if err != nil {
		if !v.logged {
			v.e.Outcome, v.e.Reason, v.e.Trace = audit.Failed, err.Error(), ""
			a.record(ctx, v.e)
		}
		return nil, err
	}
	if img, err = v.stamp(ctx, img); err != nil {
		return nil, err
	}
	if err := v.recordOK(ctx); err != nil {
		return nil, err
	}
	around()
	return &Page{Image: img, DPI: opts.DPI, Page: opts.Page, Pages: pages, TraceCode: v.e.Trace, Version: ver}, nil
}

// view is one view of a page: its audit event, and the watermark every
// frame of it carries.
type view struct {
	a      *App
	e      audit.Event
	spec   *watermark.Spec
	logged bool // e's outcome is in the audit trail (or writing it failed)
	// minText is the least watermark line height the viewer asks for
	// (PreviewOptions.WatermarkHeight).
	minText float64
	// image: the document is a picture, shown at its own size whatever
	// the dpi, so a small one is enlarged under the mark (legible).
	image bool
	// release: the page goes to a file, from a class that stamps, on an
	// enrolled device: its record must be held by the server first.
	release bool
}

// stamp draws the view's watermark on img, choosing its trace code on
// first use. A watermark that cannot be drawn is recorded as a failed view.
func (v *view) stamp(ctx context.Context, img *image.RGBA) (*image.RGBA, error) {
	if v.spec == nil {
		v.e.Trace = audit.NewTraceCode()
		owner := v.a.v.Owner()
		v.spec = &watermark.Spec{Name: owner.Name, Email: owner.Email, Device: v.a.v.DeviceName(),
			Time: time.Now(), TraceCode: v.e.Trace, MinTextHeight: v.minText}
		if v.spec.Name == "" {
			v.spec.Name = v.spec.Email
		}
	}
	st, err := v.a.watermarker()
	if err != nil {
		return nil, err
	}
	if v.image {
		if img, err = legible(img); err != nil {
			return nil, err
		}
	}
	if err := st.Stamp(img, *v.spec); err != nil {
		// A name with a letter no font has: say so rather than show a
		// page whose watermark drops it.
		if !v.logged {
			v.e.Outcome, v.e.Reason, v.e.Trace = audit.Failed, err.Error(), ""
			v.a.record(ctx, v.e)
			v.logged = true
		}
		return nil, fmt.Errorf("the watermark cannot be drawn, so the page is not shown: %w", err)
	}
	return img, nil
}

// minPageSide is the least length, in pixels, of a picture's shorter side
// under a watermark: at 12-pixel lines the identity block, trace code
// included, then fits whole. A smaller picture (240 × 60 of a key) showed
// its content whole and the trace code only in pieces. (Pages of
// documents are rendered at the dpi asked for: a viewer zooms in.)
const minPageSide = 480

// legible returns img enlarged by a whole factor, each pixel a square
// block, until its shorter side is at least minPageSide, so that the
// watermark drawn over it can be read whole. A page too narrow for that
// within preview.DefaultMaxPixels (a picture of 1 × 39,000,000 pixels)
// is refused: no mark could be read on it.
func legible(img *image.RGBA) (*image.RGBA, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	short := min(w, h)
	if short >= minPageSide || short == 0 {
		return img, nil
	}
	k := (minPageSide + short - 1) / short
	if int64(w)*int64(h)*int64(k)*int64(k) > preview.DefaultMaxPixels {
		return nil, fmt.Errorf("%w: a page of %d × %d pixels is too narrow to carry a watermark that can be read (it would take %d × %d)",
			preview.ErrTooLarge, w, h, w*k, h*k)
	}
	out := image.NewRGBA(image.Rect(0, 0, w*k, h*k))
	for y := range h {
		src := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):][:w*4]
		row := out.Pix[y*k*out.Stride:][:w*k*4]
		for x := range w {
			for i := range k {
				copy(row[(x*k+i)*4:(x*k+i)*4+4], src[x*4:x*4+4])
			}
		}
		for i := 1; i < k; i++ {
			copy(out.Pix[(y*k+i)*out.Stride:][:w*k*4], row)
		}
	}
	return out, nil
}

// recordOK writes the view to the audit trail, durably, once: before the
// first frame of it is handed over.
func (v *view) recordOK(ctx context.Context) error {
	if v.logged {
		return nil
	}
	v.logged = true
	v.e.Outcome, v.e.Reason = audit.OK, ""
	if v.release {
		return v.a.releaseRecord(ctx, v.e)
	}
	return v.a.mustRecord(ctx, v.e)
}

// watermarker returns the App's watermark stamper, made on first use:
// parsing its fonts (Go Bold, and the fallbacks for other scripts)
// takes tens of milliseconds, too long for every page turned.
func (a *App) watermarker() (*watermark.Stamper, error) {
	a.stampMu.Lock()
	defer a.stampMu.Unlock()
	if a.stamp == nil {
		st, err := watermark.NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
		if err != nil {
			return nil, err
		}
		a.stamp = st
	}
	return a.stamp, nil
}

// previewFonts returns the fonts text previews are set in, parsed on
// first use: about 30 ms and 30 MB, too much for every document opened.
func (a *App) previewFonts() (*preview.TextFonts, error) {
	a.stampMu.Lock()
	defer a.stampMu.Unlock()
	if a.textFonts == nil {
		f, err := preview.NewTextFonts()
		if err != nil {
			return nil, err
		}
		a.textFonts = f
	}
	return a.textFonts, nil
}

func (a *App) render(ctx context.Context, f vault.Folder, ver vault.Version, opts PreviewOptions) (*image.RGBA, int, error) {
	doc, release, err := a.openDocument(ctx, f, ver)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	defer doc.Close()
	if opts.Page > doc.Pages() {
		return nil, 0, fmt.Errorf("%s has %d pages: %w", display.Name(ver.Name), doc.Pages(), preview.ErrPage)
	}
	img, err := doc.Render(ctx, opts.Page-1, opts.DPI)
	if err != nil {
		return nil, 0, fmt.Errorf("%s page %d: %w", display.Name(ver.Name), opts.Page, err)
	}
	return img, doc.Pages(), nil
}

// openDocument decrypts ver into memory and opens it for rendering. The
// caller calls release once the document is closed or handed to the kept
// viewer: until then Close waits before stopping the PDF renderer, whose
// pool must not be closed under an Open or a Close in flight.
func (a *App) openDocument(ctx context.Context, f vault.Folder, ver vault.Version) (doc preview.Document, release func(), err error) {
	release = func() {}
	if preview.KindOf(ver.Type, ver.Name) == preview.Unsupported {
		return nil, release, fmt.Errorf("%s (%s): %w; it stays in the vault and can be exported where policy allows", display.Name(ver.Name), ver.Type, preview.ErrUnsupported)
	}
	if ver.Size > MaxPreviewBytes {
		return nil, release, fmt.Errorf("%s is %d MiB, over the %d MiB preview limit", display.Name(ver.Name), ver.Size>>20, MaxPreviewBytes>>20)
	}
	var popts preview.Options
	// The PDF renderer, when this process has not started it yet, starts
	// while the version is decrypted: for a one-shot `coffer preview` the
	// two take about 120 and 16 ms, on a machine with two cores or more.
	var renderer <-chan pdfUse
	switch kind := preview.KindOf(ver.Type, ver.Name); kind {
	case preview.Text, preview.CSV, preview.Spreadsheet, preview.Markdown:
		fonts, err := a.previewFonts()
		if err != nil {
			return nil, release, err
		}
		popts.Text = fonts
	case preview.PDF, preview.Office:
		if kind == preview.Office {
			conv, err := a.officeFor(ctx, f, ver)
			if err != nil {
				return nil, release, err
			}
			popts.Office = conv
		}
		ch := make(chan pdfUse, 1)
		go func() {
			var u pdfUse
			u.r, u.done, u.err = a.pdfRenderer(ctx)
			ch <- u
		}()
		renderer = ch
	}
	var buf bytes.Buffer
	buf.Grow(int(ver.Size))
	_, err = a.v.WriteTo(ctx, &buf, f, ver.Name, ver.Seq)
	if renderer != nil {
		u := <-renderer
		if u.err != nil {
			return nil, release, u.err
		}
		popts.PDF, release = u.r, u.done
	}
	if err != nil {
		release()
		return nil, func() {}, err
	}
	doc, err = preview.Open(ctx, buf.Bytes(), ver.Type, ver.Name, popts)
	if err != nil {
		release()
		return nil, func() {}, fmt.Errorf("%s: %w", display.Name(ver.Name), err)
	}
	return doc, release, nil
}

// pdfUse is a use of the PDF renderer (pdfRenderer's results).
type pdfUse struct {
	r    preview.PDFOpener
	done func()
	err  error
}

// pdfRenderer starts PDFium (WebAssembly) the first time a PDF is
// previewed in this process.
//
// Each caller holds a use of the renderer until it calls done; Close waits
// for every use to end before stopping the renderer.
func (a *App) pdfRenderer(ctx context.Context) (r preview.PDFOpener, done func(), err error) {
	a.pdfMu.Lock()
	defer a.pdfMu.Unlock()
	if a.pdfClosed {
		return nil, nil, ErrClosed
	}
	if _, pending := a.pdf.(pdfPending); a.pdf == nil || pending {
		if err := a.startPDF(ctx); err != nil {
			return nil, nil, err
		}
	}
	a.pdfUses.Add(1) // under pdfMu and before pdfClosed: never during Close's Wait
	return a.pdf, a.pdfUses.Done, nil
}

// startPDF starts the renderer, or finishes the start UsePDF handed
// over; pdfMu is held. PDFium's compiled code (about 2.5 s to compile on
// 2 cores) is cached in the user's cache folder sealed with a key from the
// vault's passphrase-protected secret, so that someone who can write that
// folder cannot plant native code in the unlocked process: a file that
// does not verify is compiled again.
func (a *App) startPDF(ctx context.Context) error {
	opts := pdf.Options{CacheDir: pdfCacheDir()}
	if opts.CacheDir != "" {
		opts.CacheKey = a.v.LocalKey("pdfium compile cache")
	}
	var r *pdf.Renderer
	err := errors.New("not started")
	if p, ok := a.pdf.(pdfPending); ok {
		a.pdf, a.pdfClose = nil, nil
		if p.dir == opts.CacheDir {
			r, err = p.s.Finish(opts.CacheKey)
		} else {
			p.s.Abandon()
		}
	}
	if err != nil {
		r, err = pdf.NewRenderer(ctx, opts)
	}
	if err != nil {
		return fmt.Errorf("starting the PDF renderer: %w", err)
	}
	a.pdf, a.pdfClose = r, r.Close
	return nil
}

// pdfCacheDir is the folder of PDFium's sealed compile cache, made if
// need be, or "" when there is none (then PDFium is compiled in memory).
func pdfCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	// The unauthenticated cache of earlier versions is never read.
	_ = os.RemoveAll(filepath.Join(dir, "coffer", "pdfium"))
	dir = filepath.Join(dir, "coffer", "pdfium-sealed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return dir
}

// TraceResult is what a trace code tells: who saw which page, when.
type TraceResult struct {
	Events []audit.Event
}

// Trace finds the views and exports that carried a trace code.
func (a *App) Trace(ctx context.Context, code string) (*TraceResult, error) {
	want := audit.NormalizeTraceCode(code)
	if len(want) != 11 {
		return nil, fmt.Errorf("%q is not a trace code (they look like K7Q4M-ZP2XA)", code)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		return nil, err
	}
	res := &TraceResult{}
	for _, e := range log.Events {
		if e.Trace == want {
			res.Events = append(res.Events, e)
		}
	}
	if len(res.Events) == 0 {
		return nil, fmt.Errorf("%w: %s is not in this device's audit trail (another device's code: 'coffer trace --org')", errNoTrace, want)
	}
	return res, nil
}

var errNoTrace = errors.New("unknown trace code")

// MaxCopyBytes bounds the text Copy puts on the clipboard.
const MaxCopyBytes = 1 << 20

// CopyText returns the text of the current version of folder/name for
// the clipboard, if policy allows copying from the folder and the document
// is text (plain, Markdown, CSV) of at most MaxCopyBytes — by its name and
// by its bytes: a PDF under a text name is refused, and recorded as
// blocked where the class stamps what leaves. The answer, either way, is
// recorded.
func (a *App) CopyText(ctx context.Context, folder, name string) (string, error) {
	f, ver, err := a.current(ctx, folder, name)
	if err != nil {
		return "", err
	}
	e := audit.Event{Action: audit.Action(policy.Copy), Folder: f.ID.String(), File: ver.File.String(), Version: ver.Seq}
	if err := a.decide(f, policy.Copy); err != nil {
		e.Outcome, e.Reason = audit.Blocked, auditReason(err)
		a.record(ctx, e)
		return "", err
	}
	if k := preview.KindOf(ver.Type, ver.Name); k != preview.Text && k != preview.CSV && k != preview.Markdown {
		return "", fmt.Errorf("%s is not text; only text can be copied (save a copy instead)", display.Name(ver.Name))
	}
	if ver.Size > MaxCopyBytes {
		return "", fmt.Errorf("%s is %d KiB; at most %d KiB of text can be copied (save a copy instead)", display.Name(ver.Name), ver.Size>>10, MaxCopyBytes>>10)
	}
	var buf bytes.Buffer
	if _, err := a.v.WriteTo(ctx, &buf, f, ver.Name, ver.Seq); err != nil {
		return "", err
	}
	// A PDF stored under a text name is still a PDF: its bytes would
	// leave unstamped.
	if k := pdfstamp.Sniff(buf.Bytes()); k != pdfstamp.NotPDF {
		msg := fmt.Sprintf("%s is a PDF by its content, not text; save a copy instead", display.Name(ver.Name))
		if d := a.decideFor(f.ID.String(), f.Class, policy.Export); d.Stamp {
			e.Outcome, e.Reason = audit.Blocked, "a PDF by its content, not text: it leaves only stamped, as a saved copy"
			a.record(ctx, e)
			return "", &BlockedError{Action: policy.Copy, Folder: f.Name, Class: f.Class, Reason: msg + ", which is stamped", Recorded: e.Reason}
		}
		return "", errors.New(msg)
	}
	if !utf8.Valid(buf.Bytes()) {
		return "", fmt.Errorf("%s is not UTF-8 text; save a copy instead", display.Name(ver.Name))
	}
	e.Outcome = audit.OK
	record := a.mustRecord
	if a.Enrolled() && a.decideFor(f.ID.String(), f.Class, policy.Export).Stamp {
		record = a.releaseRecord // text leaving as a copy would (releaseRecord)
	}
	if err := record(ctx, e); err != nil {
		return "", err
	}
	return buf.String(), nil
}
