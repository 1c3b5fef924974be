package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coffer-vault/coffer/internal/display"
	"github.com/coffer-vault/coffer/pdfstamp"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/watermark"
)

// MaxStampBytes is the largest PDF that can leave a stamping class: the
// stamped copy is checked by rendering it with PDFium, which takes
// documents of up to 256 MiB.
const MaxStampBytes = 256 << 20

// spoolBytes is how much of a version that is not a PDF is kept in memory
// while its bytes are classified, so that most exports decrypt once;
// larger versions are decrypted a second time to be written.
const spoolBytes = 16 << 20

// writeExport writes version seq (0: the current one) of folder f's
// document name to w for action. When the class stamps (stamp), whether
// to stamp is decided from the bytes of that very version (pdfstamp.Sniff:
// "%PDF-" within its first 1024 bytes, as PDF readers accept it), never
// from its name, media type or another version; a stamped copy is written
// only once pages of it were rendered and seen to show the stamp. A
// version that some PDF reader would open but that cannot be stamped —
// corrupt, password-protected, too large, without a header where PDFium
// looks, or not showing the stamp when rendered — is refused with a
// *BlockedError before any byte reaches w.
//
// It returns the version written and, for a stamped copy, what stamping
// did. Where the class stamps, release (if not nil) is called with them
// once nothing is left to refuse, before the first byte reaches w; its
// error is returned as it is.
func (a *App) writeExport(ctx context.Context, w io.Writer, f vault.Folder, name string, seq int, action policy.Action, stamp bool, trace string, release func(vault.Version, *stamped) error) (vault.Version, *stamped, error) {
	if !stamp {
		ver, err := a.v.WriteTo(ctx, w, f, name, seq)
		return ver, nil, err
	}
	sp := &spool{}
	ver, err := a.v.WriteTo(ctx, sp, f, name, seq)
	if err != nil {
		return ver, nil, err
	}
	what := fmt.Sprintf("%s version %d", display.Name(ver.Name), ver.Seq)
	refuse := func(why string) error {
		return &BlockedError{Action: action, Folder: f.Name, Class: f.Class,
			Reason:   fmt.Sprintf("%s PDFs leave only with a visible stamp, and %s %s", f.Class, what, why),
			Recorded: "PDFs of this folder's class leave only with a visible stamp, and this version " + why}
	}
	switch sp.sniff.Kind() {
	case pdfstamp.NotPDF:
		if release != nil {
			if err := release(ver, nil); err != nil {
				return ver, nil, err
			}
		}
		if sp.over {
			// Decrypted again, by the version's number: the same bytes.
			_, err = a.v.WriteTo(ctx, w, f, name, ver.Seq)
		} else {
			_, err = w.Write(sp.buf.Bytes())
		}
		return ver, nil, err
	case pdfstamp.Headerless:
		return ver, nil, refuse(fmt.Sprintf("holds PDF objects without a %%PDF- header in its first %d bytes: some readers open such files anyway, and Coffer cannot stamp it (import the original PDF again)", pdfstamp.HeaderWindow))
	}
	if sp.over {
		return ver, nil, refuse(fmt.Sprintf("is %d MiB, over the %d MiB that can be stamped and checked (split it, or ask for it to be reclassified)", ver.Size>>20, MaxStampBytes>>20))
	}
	r, done, err := a.pdfRenderer(ctx)
	if err != nil {
		return ver, nil, fmt.Errorf("%s is not exported: its stamp cannot be checked without the PDF renderer: %w", what, err)
	}
	defer done()
	spec := watermark.Spec{Name: a.v.Owner().Name, Email: a.v.Owner().Email, Device: a.v.DeviceName(), Time: time.Now(), TraceCode: trace}
	res, err := pdfstamp.Stamp(ctx, sp.buf.Bytes(), spec, pdfstamp.Options{Renderer: r})
	switch {
	case errors.Is(err, pdfstamp.ErrEncrypted):
		return ver, nil, refuse("is password-protected, so it cannot be stamped (import a copy without the password): " + err.Error())
	case errors.Is(err, pdfstamp.ErrNotPDF):
		return ver, nil, refuse("cannot be read as a PDF, so it cannot be stamped (it may be damaged; import a good copy): " + err.Error())
	case errors.Is(err, pdfstamp.ErrNotVisible):
		return ver, nil, refuse("did not show the stamp when its pages were rendered (print it to a new PDF and import that): " + err.Error())
	case err != nil:
		return ver, nil, fmt.Errorf("%s is not exported: stamping failed: %w", what, err)
	}
	st := &stamped{detached: res.Detached,
		note: fmt.Sprintf("stamped with the trace code on all %d pages; seen on %d rendered pages", res.Pages, len(res.Checked))}
	if res.Detached > 0 {
		st.note += fmt.Sprintf("; %d attached files left out", res.Detached)
	}
	if res.Disarmed > 0 {
		st.note += fmt.Sprintf("; %d scripts and actions taken out", res.Disarmed)
	}
	if release != nil {
		if err := release(ver, st); err != nil {
			return ver, nil, err
		}
	}
	if _, err := w.Write(res.PDF); err != nil {
		return ver, st, err
	}
	return ver, st, nil
}

// stamped is what stamping did to an exported PDF.
type stamped struct {
	note     string // for the audit record
	detached int    // files attached to the PDF that were left out
}

// spool classifies a version's bytes as they are decrypted and keeps
// them: up to MaxStampBytes of a PDF (it is stamped in memory), up to
// spoolBytes of anything else. Past that it keeps nothing and sets over.
type spool struct {
	sniff pdfstamp.Sniffer
	buf   bytes.Buffer
	over  bool
}

func (s *spool) Write(p []byte) (int, error) {
	s.sniff.Write(p)
	limit := spoolBytes
	if s.sniff.Kind() == pdfstamp.PDF {
		limit = MaxStampBytes
	}
	switch {
	case s.over:
	case s.buf.Len()+len(p) > limit:
		s.over, s.buf = true, bytes.Buffer{}
	default:
		s.buf.Write(p)
	}
	return len(p), nil
}
