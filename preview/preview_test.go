package preview_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview"
)

func open(t *testing.T, data []byte, mediaType, name string) preview.Document {
	t.Helper()
	d, err := preview.Open(context.Background(), data, mediaType, name, preview.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func nonWhite(img *image.RGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] < 200 || img.Pix[i+1] < 200 || img.Pix[i+2] < 200 {
			n++
		}
	}
	return n
}

// drawn counts pixels that are neither white nor the transparency
// checkerboard's grey.
func drawn(img *image.RGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if !(r == g && g == b && (r == 255 || r == 204)) {
			n++
		}
	}
	return n
}

func TestCorpusImages(t *testing.T) {
	for _, name := range []string{"img/debian-logo-256.png", "img/debian-preview.jpg"} {
		data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), name))
		if err != nil {
			t.Fatal(err)
		}
		// The media type lies: formats are recognised by their bytes.
		d := open(t, data, "application/octet-stream", "renamed.bin.png")
		img, err := d.Render(context.Background(), 0, 150)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, _ := image.DecodeConfig(bytes.NewReader(data))
		if img.Bounds().Dx() != cfg.Width || img.Bounds().Dy() != cfg.Height || drawn(img) < 1000 {
			t.Errorf("%s: %v, %d pixels drawn", name, img.Bounds(), drawn(img))
		}
		if _, err := d.Render(context.Background(), 1, 150); !errors.Is(err, preview.ErrPage) {
			t.Errorf("page 2 of an image: %v", err)
		}
	}
}

func TestEncodedFormats(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range src.Pix {
		src.Pix[i] = byte(i)
	}
	encoders := map[string]func(*bytes.Buffer) error{
		"x.gif":  func(b *bytes.Buffer) error { return gif.Encode(b, src, nil) },
		"x.bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, src) },
		"x.tiff": func(b *bytes.Buffer) error { return tiff.Encode(b, src, nil) },
		"x.png":  func(b *bytes.Buffer) error { return png.Encode(b, src) },
	}
	for name, enc := range encoders {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		img, err := open(t, b.Bytes(), "", name).Render(context.Background(), 0, 96)
		if err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
			t.Errorf("%s: %v %v", name, img.Bounds(), err)
		}
	}
}

// pngHeader returns a PNG signature and IHDR claiming w × h pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestHostileImages(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "img", "debian-logo-256.png"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		want error
	}{
		"100k x 100k header": {pngHeader(100000, 100000), preview.ErrTooLarge},
		"zero size":          {pngHeader(0, 10), preview.ErrCorrupt},
		"truncated":          {good[:len(good)/2], preview.ErrCorrupt},
		"garbage":            {[]byte("GIF8"), preview.ErrCorrupt},
		"empty":              {nil, preview.ErrCorrupt},
	}
	for name, tc := range cases {
		_, err := preview.Open(context.Background(), tc.data, "image/png", "x.png", preview.Options{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestTextPagination(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "text", "Apache-2.0.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d := open(t, data, "text/plain", "Apache-2.0.txt")
	lines := strings.Count(string(data), "\n")
	if d.Pages() < lines/58 || d.Pages() > lines/58+10 {
		t.Errorf("%d lines on %d pages", lines, d.Pages())
	}
	last, err := d.Render(context.Background(), d.Pages()-1, 72)
	if err != nil {
		t.Fatal(err)
	}
	if last.Bounds().Dx() != 595 || last.Bounds().Dy() != 842 || nonWhite(last) == 0 {
		t.Errorf("last page %v with %d dark pixels", last.Bounds(), nonWhite(last))
	}
	if _, err := d.Render(context.Background(), d.Pages(), 72); !errors.Is(err, preview.ErrPage) {
		t.Errorf("page past the end: %v", err)
	}
	if _, err := d.Render(context.Background(), 0, 100000); !errors.Is(err, preview.ErrTooLarge) {
		t.Errorf("absurd dpi: %v", err)
	}
	// Invalid UTF-8 and a 1 MB line are shown, not refused.
	odd := append([]byte("\xff\xfe bad bytes\n"), bytes.Repeat([]byte("x"), 1<<20)...)
	if d := open(t, odd, "text/plain", "odd.txt"); d.Pages() < 100 {
		t.Errorf("1 MB line wrapped into %d pages", d.Pages())
	}
}

func TestCSVAndMarkdown(t *testing.T) {
	for _, name := range []string{"text/debian-releases.csv", "text/glib-README.md"} {
		data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := open(t, data, "", filepath.Base(name)).Render(context.Background(), 0, 72)
		if err != nil || nonWhite(img) < 1000 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := preview.Open(context.Background(), []byte("a,\"b\n"), "text/csv", "bad.csv", preview.Options{}); err != nil {
		t.Errorf("lazy quotes refused: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	for _, c := range []struct{ mt, name string }{{"application/zip", "a.zip"}, {"application/octet-stream", "model.bin"}, {"application/pdf", "a.pdf"}} {
		if _, err := preview.Open(context.Background(), []byte("PK\x03\x04"), c.mt, c.name, preview.Options{}); !errors.Is(err, preview.ErrUnsupported) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestSpreadsheets(t *testing.T) {
	for _, name := range []string{"datasets.xlsx", "deaths.xlsx"} {
		data, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "xlsx", name))
		if err != nil {
			t.Fatal(err)
		}
		d := open(t, data, "", name)
		img, err := d.Render(context.Background(), 0, 72)
		if err != nil || nonWhite(img) < 1000 {
			t.Errorf("%s: %d pages, %v", name, d.Pages(), err)
		}
		// A truncated workbook and a zip that is no workbook are refused.
		if _, err := preview.Open(context.Background(), data[:len(data)/2], "", name, preview.Options{}); !errors.Is(err, preview.ErrCorrupt) {
			t.Errorf("%s truncated: %v", name, err)
		}
	}
	if _, err := preview.Open(context.Background(), []byte("PK\x03\x04garbage"), "", "x.xlsx", preview.Options{}); !errors.Is(err, preview.ErrCorrupt) {
		t.Errorf("garbage workbook: %v", err)
	}
}

// TestSpreadsheetTooLarge: a workbook that would unpack to more than a
// preview may hold in memory is refused from its zip directory, before
// anything is unpacked, with a message that gives the limit.
func TestSpreadsheetTooLarge(t *testing.T) {
	for _, c := range []struct {
		part    string
		claimed uint64
	}{
		{"xl/worksheets/sheet2.xml", 300 << 20},
		{"xl/media/image1.png", 1 << 40},
		{"XL/SHAREDSTRINGS.XML", 40 << 20},
	} {
		data := claimedSizeWorkbook(t, c.part, c.claimed)
		_, err := preview.Open(context.Background(), data, "", "big.xlsx", preview.Options{})
		if !errors.Is(err, preview.ErrTooLarge) || !strings.Contains(err.Error(), " MiB a preview may hold in memory") {
			t.Errorf("%s claiming %d bytes: %v", c.part, c.claimed, err)
		}
	}
	// The same workbook with a part of honest size opens.
	if _, err := preview.Open(context.Background(), claimedSizeWorkbook(t, "xl/media/x.xml", 4), "", "ok.xlsx", preview.Options{}); err != nil {
		t.Errorf("small workbook: %v", err)
	}
}
