package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/internal/testdocs"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/preview/office"
)

// importBytes imports data as folder/name.
func importBytes(t *testing.T, a *app.App, folder, name string, data []byte) {
	t.Helper()
	if _, err := a.Import(context.Background(), folder, name, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
}

// watermarkPixels counts the pixels the watermark tinted (red well over
// green, as on the PDF previews).
func watermarkPixels(img *image.RGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if r, g := img.Pix[i], img.Pix[i+1]; r > g+40 {
			n++
		}
	}
	return n
}

// TestOfficePreview previews a Word document and a PowerPoint deck from a
// confidential folder: the page count is the document's, the page is
// LibreOffice's own rendering (the dark pixels of its words where poppler
// draws LibreOffice's PDF, within a pixel), the page's marker is inked where the
// PDF puts it, and the watermark is in the pixels.
func TestOfficePreview(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, marker string
		data         []byte
		pages        int
	}{
		{"Term sheet.docx", "APPDOCX", testdocs.Text(t, ".docx", 3, "APPDOCX"), 3},
		{"Pitch book.pptx", "APPPPTX", testdocs.Slides(t, ".pptx", 3, "APPPPTX"), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			importBytes(t, a, "Deals", tc.name, tc.data)
			p, err := a.Preview(ctx, "Deals", tc.name, app.PreviewOptions{Page: 2, DPI: 72})
			if err != nil {
				t.Fatal(err)
			}
			if p.Pages != tc.pages {
				t.Errorf("%d pages, want %d", p.Pages, tc.pages)
			}
			marker := testdocs.Marker(tc.marker, 2)
			want, words := testdocs.Reference(t, tc.data, filepath.Ext(tc.name), 2)
			boxes := testdocs.Boxes(words, marker)
			if d := p.Image.Rect.Size().Sub(want.Rect.Size()); d.X < -1 || d.X > 1 || d.Y < -1 || d.Y > 1 {
				t.Fatalf("page is %v, LibreOffice's own PDF %v", p.Image.Rect.Size(), want.Rect.Size())
			}
			if dir := os.Getenv("COFFER_TEST_PNG"); dir != "" {
				savePNG(t, filepath.Join(dir, tc.marker+"-preview.png"), p.Image)
				savePNG(t, filepath.Join(dir, tc.marker+"-reference.png"), want)
			}
			recall, precision := testdocs.CompareInk(p.Image, want, words)
			t.Logf("ink: %.3f of the reference's found, %.3f of the preview's in the reference", recall, precision)
			// The watermark lightens dark text under its letters (it takes a
			// light tone there); package preview compares the unstamped page
			// more tightly.
			if recall < 0.9 || precision < 0.9 {
				t.Errorf("the page differs from LibreOffice's own: recall %.3f, precision %.3f", recall, precision)
			}
			if len(boxes) != 1 {
				t.Fatalf("the reference has %d words %s on page 2", len(boxes), marker)
			}
			inked := testdocs.InkIn(p.Image, boxes[0])
			if area := boxes[0].Dx() * boxes[0].Dy(); inked < area/10 {
				t.Errorf("the marker's box %v holds %d dark pixels of %d", boxes[0], inked, area)
			}
			if n := watermarkPixels(p.Image); n < 2000 {
				t.Errorf("only %d watermark-coloured pixels", n)
			}
			if _, err := a.Preview(ctx, "Deals", tc.name, app.PreviewOptions{ToFile: true}); !errors.Is(err, app.ErrBlocked) {
				t.Errorf("preview to a file from a confidential folder: %v", err)
			}
		})
	}
}

// TestOfficeErrors: a password-protected document, a broken one, and no
// LibreOffice at all each get a message that says what is wrong.
func TestOfficeErrors(t *testing.T) {
	ctx := context.Background()
	a, _ := newApp(t)
	if _, err := a.CreateFolder(ctx, "Deals", policy.Internal); err != nil {
		t.Fatal(err)
	}
	docx := testdocs.Text(t, ".docx", 1, "APPERR")
	locked, err := excelize.Encrypt(docx, &excelize.Options{Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	importBytes(t, a, "Deals", "locked.docx", locked)
	importBytes(t, a, "Deals", "broken.pptx", docx[:len(docx)/3])
	for name, want := range map[string]string{
		"locked.docx": "password-protected",
		"broken.pptx": "LibreOffice cannot open the document",
	} {
		_, err := a.Preview(ctx, "Deals", name, app.PreviewOptions{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming it and saying %q", name, err, want)
		}
	}

	t.Setenv("COFFER_LIBREOFFICE", filepath.Join(t.TempDir(), "no-such-soffice"))
	b, _ := newApp(t)
	if _, err := b.CreateFolder(ctx, "Deals", policy.Internal); err != nil {
		t.Fatal(err)
	}
	importBytes(t, b, "Deals", "terms.docx", docx)
	if _, err := b.Preview(ctx, "Deals", "terms.docx", app.PreviewOptions{}); !errors.Is(err, office.ErrNotInstalled) ||
		!strings.Contains(err.Error(), "install LibreOffice to preview Office documents") {
		t.Errorf("without LibreOffice: %v", err)
	}
	if st := app.Office(ctx); st.Err == nil {
		t.Errorf("Office() without LibreOffice: %+v", st)
	}
}

// TestOfficeNoPlaintextOnDisk previews a Word document from a confidential
// folder while watching every folder this user can write (temp folders,
// /dev/shm, the runtime, home, cache and config folders, the vault, this
// package's folder): no file created or written during or after the
// preview holds the document's text in any encoding, nor its PDF (whose
// title carries the text). The document's parts are stored uncompressed,
// so a copy of the document or of any part would show the text. A control
// file written meanwhile into a new folder of the user's cache must be
// found, or the watch sees nothing.
func TestOfficeNoPlaintextOnDisk(t *testing.T) {
	ctx := context.Background()
	marker := fmt.Sprintf("COFFERSCAN%d", time.Now().UnixNano())
	docx := testdocs.Stored(t, testdocs.Text(t, ".docx", 20, marker))
	if !bytes.Contains(docx, []byte(marker)) {
		t.Fatal("the stored document does not show its text")
	}
	a, dir := newApp(t)
	if _, err := a.CreateFolder(ctx, "Deals", policy.Confidential); err != nil {
		t.Fatal(err)
	}
	importBytes(t, a, "Deals", "terms.docx", docx)

	cwd, _ := os.Getwd()
	roots := testdocs.Writable(dir, cwd)
	t.Logf("watching %v", roots)
	w := testdocs.WatchFor(t, roots, testdocs.Needles(marker)...)
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	controlDir, err := os.MkdirTemp(cache, "coffer-scan-control-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(controlDir)
	time.Sleep(100 * time.Millisecond) // let the watch see the new folder
	control := filepath.Join(controlDir, "control.txt")
	if err := os.WriteFile(control, []byte("control "+marker), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, page := range []int{1, 20, 2} {
		p, err := a.Preview(ctx, "Deals", "terms.docx", app.PreviewOptions{Page: page, DPI: 96, Keep: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Pages != 20 {
			t.Fatalf("%d pages, want 20", p.Pages)
		}
	}
	a.Close()
	time.Sleep(200 * time.Millisecond) // events of the last writes
	hits, read := w.Stop()
	t.Logf("%d files read", read)
	if len(hits) != 1 || hits[0] != control {
		t.Errorf("files holding the document's text: %q, want only the control %s", hits, control)
	}
}

// savePNG writes img to path, for a person to look at (COFFER_TEST_PNG).
func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
