package preview

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/coffer-vault/coffer/assets"
)

// Text pages are A4 in points, set in 10 pt Go Mono with 54 pt margins.
const (
	pageW, pageH = 595.0, 842.0
	margin       = 54.0
	fontPt       = 10.0
	leadingPt    = 12.5
	// Go Mono's advance is 0.6 em: (595 − 108) / 6 = 81 characters, and
	// (842 − 108) / 12.5 = 58 lines.
	charsPerLine = 81
	linesPerPage = 58
)

// textDoc is plain text wrapped into pages.
type textDoc struct {
	lines     []string
	maxPixels int
	font      *opentype.Font
}

func openText(data []byte, maxPixels int) (Document, error) {
	if !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	f, err := opentype.Parse(assets.TextFont())
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\t", "    ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, wrap(l, charsPerLine)...)
	}
	return &textDoc{lines: lines, maxPixels: maxPixels, font: f}, nil
}

// openCSV sets a CSV file as an aligned table of text.
func openCSV(data []byte, maxPixels int) (Document, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: CSV: %v", ErrCorrupt, err)
	}
	const maxCell = 24
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], min(utf8.RuneCountInString(c), maxCell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			c = clip(c, maxCell)
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	return openText([]byte(b.String()), maxPixels)
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// wrap cuts a line into pieces of at most n runes.
func wrap(line string, n int) []string {
	r := []rune(line)
	if len(r) <= n {
		return []string{line}
	}
	var out []string
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

func (d *textDoc) Pages() int { return max(1, (len(d.lines)+linesPerPage-1)/linesPerPage) }

func (d *textDoc) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	if page < 0 || page >= d.Pages() {
		return nil, fmt.Errorf("%w: page %d of %d", ErrPage, page+1, d.Pages())
	}
	if dpi <= 0 {
		dpi = 96
	}
	scale := dpi / 72
	w, h := int(pageW*scale), int(pageH*scale)
	if w*h > d.maxPixels {
		return nil, fmt.Errorf("%w: %d dpi makes %d × %d pixels", ErrTooLarge, int(dpi), w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	face, err := opentype.NewFace(d.font, &opentype.FaceOptions{Size: fontPt, DPI: dpi, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	dr := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{R: 20, G: 20, B: 20, A: 255}), Face: face}
	start := page * linesPerPage
	for i, line := range d.lines[start:min(start+linesPerPage, len(d.lines))] {
		dr.Dot = fixed.P(int(margin*scale), int((margin+leadingPt*float64(i+1))*scale))
		dr.DrawString(line)
	}
	return img, nil
}

func (d *textDoc) Close() error { return nil }
