package app

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// PDFStart is PDFium's sandbox being started before a vault is unlocked:
// see StartPDF.
type PDFStart struct {
	s     *pdf.Starting
	dir   string      // the compile cache folder it was started with
	taken atomic.Bool // UsePDF handed it to an App
}

// StartPDF begins starting the PDF renderer now, before the passphrase
// has unlocked the vault whose secret its compile cache is sealed with:
// PDFium's module is decoded and validated (tens of milliseconds) while
// scrypt runs on another core, and the cache is checked only once UsePDF
// gives the key. `coffer preview`, a new process each time, gets its page
// that much sooner. Hand it to the unlocked App with UsePDF, and Abandon
// it in any case (after UsePDF, Abandon does nothing).
func StartPDF(ctx context.Context) *PDFStart {
	dir := pdfCacheDir()
	return &PDFStart{s: pdf.Start(ctx, pdf.Options{CacheDir: dir}), dir: dir}
}

// Abandon ends a start no App took, waiting until what it made is gone.
func (p *PDFStart) Abandon() {
	if p != nil && !p.taken.Load() {
		p.s.Abandon()
	}
}

// UsePDF gives a a renderer that StartPDF began: a's first PDF preview
// finishes it (with a's key) instead of starting one; a's Close abandons
// it if no preview came. An App with a renderer already, or closed,
// leaves p to its caller to abandon.
func (a *App) UsePDF(p *PDFStart) {
	a.pdfMu.Lock()
	defer a.pdfMu.Unlock()
	if p == nil || a.pdf != nil || a.pdfClosed || !p.taken.CompareAndSwap(false, true) {
		return
	}
	a.pdf = pdfPending{p}
	a.pdfClose = func() error { p.s.Abandon(); return nil }
}

// pdfPending is a.pdf while the renderer UsePDF handed over has not been
// needed yet; pdfRenderer finishes it on first need and never hands it out.
type pdfPending struct{ *PDFStart }

func (pdfPending) OpenPDF(context.Context, []byte) (preview.Document, error) {
	return nil, errors.New("app: the PDF renderer has not started")
}
