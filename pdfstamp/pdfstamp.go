// Package pdfstamp stamps the identity of whoever exports a PDF — name,
// e-mail, device, UTC time and the export's trace code — onto every page of
// the copy that leaves the vault, with pdfcpu, and proves the stamp shows
// before anyone is told it is there.
//
// A stamp is drawn on top of the page content, semi-transparent, turned
// as the page is shown, sized to fit the visible part of each page. It is
// outside any optional-content group (so no layer setting hides it), and
// it is also each page's topmost annotation (so neither another
// annotation nor what the page's content leaves behind hides it). Files
// attached to the PDF are left out of the copy: they would leave
// unstamped. Stamp then renders pages of the stamped copy with PDFium and
// fails with ErrNotVisible unless the stamp's ink shows on each of them;
// see DefaultMaxChecked for which pages.
//
// The package works on bytes in memory only (no temp files), keeps pdfcpu
// from touching the user's config directory, and turns any pdfcpu panic
// into an error, at one boundary (pdfcpu.go).
package pdfstamp

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/internal/textshape"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/watermark"
)

// Errors callers test with errors.Is.
var (
	// ErrNotPDF is wrapped when the input cannot be read as a PDF
	// (corrupt, truncated, not a PDF at all).
	ErrNotPDF = errors.New("not a readable PDF")
	// ErrEncrypted is wrapped when the PDF needs a password to open.
	ErrEncrypted = errors.New("the PDF is password-protected")
	// ErrNotVisible is wrapped when a rendered page of the stamped copy
	// does not show the stamp (or stamping changed the page).
	ErrNotVisible = errors.New("the stamp does not show")
	// ErrNoGlyph is wrapped when the stamp's text (a name, a device) has
	// a letter the stamp font cannot draw.
	ErrNoGlyph = textshape.ErrNoGlyph
)

// Options tune Stamp.
type Options struct {
	// Renderer opens PDFs to render pages for the check; package
	// preview/pdf's Renderer is one. Required: nothing is reported stamped
	// that was not seen.
	Renderer preview.PDFOpener
	// MaxChecked is how many pages are rendered and checked at most
	// (0 means DefaultMaxChecked). Each costs three renders.
	MaxChecked int
}

// Result is a stamped copy.
type Result struct {
	PDF     []byte // the stamped document
	Pages   int    // its pages, each of which carries the stamp
	Checked []int  // the pages (1-based) rendered and seen to show it
	// Detached is how many attached files were left out: a stamp marks
	// pages, so no file inside the PDF leaves with it (see detach).
	Detached int
	// Disarmed is how many actions were taken out: scripts, launches,
	// form submissions, actions run on opening (see disarm).
	Disarmed int
}

// Stamp returns a copy of the PDF in with s's identity stamped on every
// page, once pages of the copy have been rendered and seen to show the
// stamp. It fails with ErrNotPDF or ErrEncrypted for input it cannot
// stamp and ErrNotVisible when the check fails; it never returns a copy it
// did not check.
func Stamp(ctx context.Context, in []byte, s watermark.Spec, opts Options) (*Result, error) {
	if s.TraceCode == "" || (s.Name == "" && s.Email == "") {
		return nil, watermark.ErrEmpty
	}
	if opts.Renderer == nil {
		return nil, errNoRenderer
	}
	if opts.MaxChecked <= 0 {
		opts.MaxChecked = DefaultMaxChecked
	}
	var (
		st                 *stamper
		info               []pageInfo
		detached, disarmed int
		out                bytes.Buffer
	)
	err := withPDFCPU(func(conf *model.Configuration) error {
		var err error
		if st, err = newStamper(s); err != nil {
			return err
		}
		doc, err := api.ReadValidateAndOptimize(bytes.NewReader(in), conf)
		if err != nil {
			if errors.Is(err, pdfcpu.ErrWrongPassword) {
				return fmt.Errorf("%w: %v", ErrEncrypted, err)
			}
			return fmt.Errorf("%w: %v", ErrNotPDF, err)
		}
		if detached, err = detach(doc); err != nil {
			return err
		}
		if disarmed, err = disarm(doc); err != nil {
			return err
		}
		if info, err = st.stampPages(doc); err != nil {
			return err
		}
		if err := api.WriteContext(doc, &out); err != nil {
			return fmt.Errorf("pdfstamp: writing the stamped copy: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pages := samplePages(info, opts.MaxChecked)
	if err := st.check(ctx, opts.Renderer, in, out.Bytes(), info, pages); err != nil {
		return nil, err
	}
	return &Result{PDF: out.Bytes(), Pages: len(info) - 1, Checked: pages, Detached: detached, Disarmed: disarmed}, nil
}
