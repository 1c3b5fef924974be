package app_test

import (
	"context"
	"os"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/policy"
)

// TestDraftFrame opens a PDF the way the window does, asking for a draft:
// the first frame comes at a third of the resolution, watermarked with the
// view's trace code, and is recorded before the window gets it; the full
// page follows as the same view. A page already rendered gets no draft,
// and each view is in the trail once.
func TestDraftFrame(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	folderWithPDFs(t, a, "Deals", policy.Confidential, "asy-latex.pdf")
	var drafts []*app.Page
	view := func(page int) *app.Page {
		t.Helper()
		p, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: page, DPI: 72, Keep: true,
			Draft: func(d *app.Page) {
				if _, err := a.Trace(ctx, d.TraceCode); err != nil {
					t.Errorf("a draft was handed over before its view was recorded: %v", err)
				}
				drafts = append(drafts, d)
			}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := view(3)
	if len(drafts) != 1 {
		t.Fatalf("%d drafts of a page not rendered yet, want 1", len(drafts))
	}
	d := drafts[0]
	if d.TraceCode != p.TraceCode || d.Page != 3 || d.Pages != 11 || d.DPI != 24 || p.DPI != 72 {
		t.Errorf("draft: trace %s page %d of %d at %v dpi; page: trace %s at %v dpi", d.TraceCode, d.Page, d.Pages, d.DPI, p.TraceCode, p.DPI)
	}
	if dw, pw := d.Image.Bounds().Dx(), p.Image.Bounds().Dx(); dw < pw/3-1 || dw > pw/3+1 {
		t.Errorf("draft %d pixels wide, page %d", dw, pw)
	}
	if red := watermarkPixels(d.Image); red < 100 {
		t.Errorf("only %d watermark-coloured pixels on the draft", red)
	}
	if view(3); len(drafts) != 1 {
		t.Errorf("a page already rendered got a draft")
	}
	// Without Keep there is no viewer to show a draft to.
	if _, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: 5, DPI: 72,
		Draft: func(*app.Page) { t.Error("a draft without Keep") }}); err != nil {
		t.Fatal(err)
	}
	log, err := a.AuditLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, e := range log.Events {
		if e.Action == audit.Preview && e.Outcome == audit.OK {
			views++
		}
	}
	if views != 3 {
		t.Errorf("%d views in the audit trail, want 3", views)
	}
}

// TestUsePDF hands a renderer started before the unlock to the App: the
// first PDF preview finishes it; one the App never needed is abandoned by
// Close; a second hand-over is refused and left to its caller. Nothing is
// left in the temp folder.
func TestUsePDF(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	early := app.StartPDF(ctx)
	defer early.Abandon()
	a, _ := newApp(t)
	a.UsePDF(early)
	second := app.StartPDF(ctx)
	a.UsePDF(second) // refused: a has one
	second.Abandon()
	folderWithPDFs(t, a, "Deals", policy.Confidential, "asy-latex.pdf")
	if _, err := a.Preview(ctx, "Deals", "asy-latex.pdf", app.PreviewOptions{Page: 1, DPI: 36}); err != nil {
		t.Fatal(err)
	}
	b, _ := newApp(t)
	unused := app.StartPDF(ctx)
	b.UsePDF(unused)
	b.Close()
	unused.Abandon() // taken by b, which abandoned it: nothing to do
	a.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temp folder: %v", left)
	}
}
