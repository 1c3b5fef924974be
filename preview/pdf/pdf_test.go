package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/preview/pdf"
)

// nonWhite counts the pixels that are not (almost) white.
func nonWhite(img *image.RGBA) int {
	n := 0
	for i := 0; i+3 < len(img.Pix); i += 4 {
		if img.Pix[i] < 240 || img.Pix[i+1] < 240 || img.Pix[i+2] < 240 {
			n++
		}
	}
	return n
}

// checkRender renders page at dpi and checks the size against the page size
// and that something was drawn.
func checkRender(t *testing.T, doc *pdf.Document, page int, dpi float64) {
	t.Helper()
	wPt, hPt, err := doc.PageSize(page)
	if err != nil {
		t.Fatalf("PageSize(%d): %v", page, err)
	}
	img, err := doc.Render(context.Background(), page, dpi)
	if err != nil {
		t.Fatalf("Render(%d, %v): %v", page, dpi, err)
	}
	wantW, wantH := wPt*dpi/72, hPt*dpi/72
	b := img.Bounds()
	if math.Abs(float64(b.Dx())-wantW) > 1 || math.Abs(float64(b.Dy())-wantH) > 1 {
		t.Errorf("page %d at %v dpi: image %dx%d, want %.1fx%.1f (±1)", page, dpi, b.Dx(), b.Dy(), wantW, wantH)
	}
	if n := nonWhite(img); n < 100 {
		t.Errorf("page %d at %v dpi: only %d non-white pixels, looks blank", page, dpi, n)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			t.Fatalf("page %d at %v dpi: pixel %d is not opaque", page, dpi, i/4)
		}
	}
}

func TestCorpus(t *testing.T) {
	r := renderer(t)
	wantPages := map[string]int{"asy-latex.pdf": 11, "reportlab-userguide.pdf": 134} // corpus/SOURCES.md
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			doc, err := r.Open(context.Background(), readFile(t, path))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer doc.Close()
			n := doc.PageCount()
			if want, ok := wantPages[filepath.Base(path)]; ok && n != want {
				t.Errorf("PageCount = %d, want %d", n, want)
			}
			// The last page first: rendering page N must not need 0..N-1.
			for _, page := range []int{n - 1, 0} {
				for _, dpi := range []float64{72, 150} {
					checkRender(t, doc, page, dpi)
				}
			}
		})
	}
}

func TestMinimalPDF(t *testing.T) {
	doc, err := renderer(t).Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer doc.Close()
	if n := doc.PageCount(); n != 1 {
		t.Fatalf("PageCount = %d, want 1", n)
	}
	w, h, err := doc.PageSize(0)
	if err != nil || w != 200 || h != 100 {
		t.Fatalf("PageSize(0) = %v, %v, %v; want 200, 100, nil", w, h, err)
	}
	checkRender(t, doc, 0, 72)
	checkRender(t, doc, 0, 96.5) // fractional dpi
}

func TestOpenRejects(t *testing.T) {
	real := readFile(t, corpusFiles(t)[0])
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	textPath := filepath.Join(t.TempDir(), "notes.pdf")
	if err := os.WriteFile(textPath, []byte("Meeting notes\nThis is plain text, not a PDF.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	headerOnly := []byte("%PDF-1.7\n1 0 obj garbage endobj\ntrailer <<>>\n%%EOF\n")

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", real[:len(real)/2], pdf.ErrCorrupt},
		{"random", random, pdf.ErrNotPDF},
		{"empty", nil, pdf.ErrNotPDF},
		{"text named .pdf", readFile(t, textPath), pdf.ErrNotPDF},
		{"header only", headerOnly, pdf.ErrCorrupt},
		{"password", encryptedPDF("user-secret", "owner-secret"), pdf.ErrPassword},
	}
	r := renderer(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := r.Open(context.Background(), c.data)
			if err == nil {
				doc.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Open: %v; want errors.Is %v", err, c.want)
			}
			t.Logf("%v", err)
		})
	}
}

// TestOpenWhatOthersOpen: Coffer's own checks are no stricter than the
// readers'. Files poppler and PDFium open preview: bytes after %%EOF, no
// %%EOF at all, the signature late but where PDFium looks (an offset up
// to 1024). A file PDFium cannot open and that lacks %%EOF says it may be
// truncated.
func TestOpenWhatOthersOpen(t *testing.T) {
	good := minimalPDF()
	eof := bytes.LastIndex(good, []byte("%%EOF"))
	junk := func(n int) []byte { return bytes.Repeat([]byte("j"), n) }
	cases := []struct {
		name string
		data []byte
	}{
		{"2 KiB after %%EOF", append(append([]byte(nil), good...), append([]byte("% trailing\n"), junk(2048)...)...)},
		{"no %%EOF", good[:eof]},
		{"signature at 1022", append(junk(1022), good...)},
		{"signature at 1024", append(junk(1024), good...)},
	}
	r := renderer(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if bin, err := exec.LookPath("pdftoppm"); err == nil {
				path := filepath.Join(t.TempDir(), "in.pdf")
				if err := os.WriteFile(path, c.data, 0o600); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(bin, "-r", "10", "-png", path, filepath.Join(t.TempDir(), "p")).CombinedOutput(); err != nil {
					t.Fatalf("poppler does not open it either: %v\n%s", err, out)
				}
			}
			doc, err := r.Open(context.Background(), c.data)
			if err != nil {
				t.Fatal(err)
			}
			defer doc.Close()
			if _, err := doc.Render(context.Background(), 0, 36); err != nil {
				t.Fatal(err)
			}
		})
	}
	real := readFile(t, corpusFiles(t)[0])
	if _, err := r.Open(context.Background(), real[:len(real)/2]); !errors.Is(err, pdf.ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("half a PDF: %v, want ErrCorrupt saying it may be truncated", err)
	}
}

// TestEncryptedFixtureIsValid shows the password case above is refused for
// its password, not because the generated file is broken.
func TestEncryptedFixtureIsValid(t *testing.T) {
	data := encryptedPDF("user-secret", "owner-secret")
	n, err := renderer(t).PageCountWithPassword(context.Background(), data, "user-secret")
	if err != nil || n != 1 {
		t.Fatalf("open with the user password: %d pages, %v; want 1, nil", n, err)
	}
}

func TestPageOutOfRange(t *testing.T) {
	doc, err := renderer(t).Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	for _, page := range []int{-1, 1, math.MaxInt} {
		if _, err := doc.Render(context.Background(), page, 72); !errors.Is(err, pdf.ErrPageRange) {
			t.Errorf("Render(%d): %v; want ErrPageRange", page, err)
		}
		if _, _, err := doc.PageSize(page); !errors.Is(err, pdf.ErrPageRange) {
			t.Errorf("PageSize(%d): %v; want ErrPageRange", page, err)
		}
	}
	for _, dpi := range []float64{0, -72, math.NaN(), math.Inf(1)} {
		if _, err := doc.Render(context.Background(), 0, dpi); err == nil {
			t.Errorf("Render at %v dpi succeeded", dpi)
		}
	}
}

func TestMaxPixels(t *testing.T) {
	r := newRenderer(t, pdf.Options{MaxPixels: 200 * 100 * 4}) // 200×100 pt page: 144 dpi fits
	doc, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if _, err := doc.Render(context.Background(), 0, 144); err != nil {
		t.Fatalf("Render at the limit: %v", err)
	}
	if _, err := doc.Render(context.Background(), 0, 145); !errors.Is(err, pdf.ErrTooLarge) {
		t.Fatalf("Render over the limit: %v; want ErrTooLarge", err)
	}
	// The default limit also applies: 1e5 dpi would be ~7.7e9 pixels.
	if _, err := doc.Render(context.Background(), 0, 1e5); !errors.Is(err, pdf.ErrTooLarge) {
		t.Fatalf("Render at 1e5 dpi: %v; want ErrTooLarge", err)
	}
}

// TestTimeout renders a tiny PDF that would keep PDFium busy for a very
// long time: the call must come back at the timeout and leave the Document
// closed, the Renderer usable.
func TestTimeout(t *testing.T) {
	r := newRenderer(t, pdf.Options{Timeout: 500 * time.Millisecond})
	doc, err := r.Open(context.Background(), slowPDF(9))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer doc.Close()
	start := time.Now()
	_, err = doc.Render(context.Background(), 0, 72)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Render: %v; want context.DeadlineExceeded", err)
	}
	d := time.Since(start)
	if d > 5*time.Second {
		t.Errorf("Render returned after %v", d)
	}
	t.Logf("Render stopped after %v: %v", d, err)
	if _, err := doc.Render(context.Background(), 0, 72); !errors.Is(err, pdf.ErrClosed) {
		t.Errorf("Render after the timeout: %v; want ErrClosed", err)
	}
	doc2, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatalf("Open after a killed instance: %v", err)
	}
	checkRender(t, doc2, 0, 72)
	doc2.Close()
}

func TestCanceledContext(t *testing.T) {
	r := renderer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Open(ctx, minimalPDF()); !errors.Is(err, context.Canceled) {
		t.Errorf("Open: %v; want context.Canceled", err)
	}
	doc, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if _, err := doc.Render(ctx, 0, 72); !errors.Is(err, context.Canceled) {
		t.Errorf("Render: %v; want context.Canceled", err)
	}
	checkRender(t, doc, 0, 72) // a refused call does not kill the document
}

func TestClose(t *testing.T) {
	r := newRenderer(t, pdf.Options{})
	doc, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := doc.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := doc.Render(context.Background(), 0, 72); !errors.Is(err, pdf.ErrClosed) {
		t.Errorf("Render after Close: %v; want ErrClosed", err)
	}
	open, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Renderer.Close: %v", err)
	}
	if _, err := open.Render(context.Background(), 0, 72); !errors.Is(err, pdf.ErrClosed) {
		t.Errorf("Render after Renderer.Close: %v; want ErrClosed", err)
	}
	if err := open.Close(); err != nil {
		t.Errorf("Document.Close after Renderer.Close: %v", err)
	}
	if _, err := r.Open(context.Background(), minimalPDF()); !errors.Is(err, pdf.ErrClosed) {
		t.Errorf("Open after Renderer.Close: %v; want ErrClosed", err)
	}
}

func TestConcurrentDocuments(t *testing.T) {
	r := renderer(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			doc, err := r.Open(context.Background(), minimalPDF())
			if err != nil {
				t.Error(err)
				return
			}
			defer doc.Close()
			img, err := doc.Render(context.Background(), 0, 72)
			if err != nil || nonWhite(img) < 100 {
				t.Errorf("Render: %v", err)
			}
		})
	}
	wg.Wait()
}
