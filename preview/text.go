package preview

import (
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/harfbuzz"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/internal/textshape"
)

// Text pages are A4 in points, set at 10 pt on a grid of 0.6 em columns
// (Go Mono's advance) with 54 pt margins.
const (
	pageW, pageH = 595.0, 842.0
	margin       = 54.0
	fontPt       = 10.0
	leadingPt    = 12.5
	cellEm       = 0.6
	// (595 − 108) / 6 = 81 columns, and (842 − 108) / 12.5 = 58 lines.
	charsPerLine = 81
	linesPerPage = 58
	// textMaxLines bounds the lines (after wrapping) a text preview
	// keeps, 3,448 pages: a last line says what was left out.
	textMaxLines = 200_000
	// textMaxBytes bounds the bytes of a text or CSV file a preview
	// decodes (at most three times as many once decoded): more than
	// textMaxLines lines of any text but one of long runs of marks.
	textMaxBytes = 16 << 20
)

// head returns the part of data a preview decodes, a line saying what is
// left out ("" when nothing is), and the sizes for openLines' own note.
func head(data []byte) ([]byte, string, fileSpan) {
	if len(data) <= textMaxBytes {
		return data, "", fileSpan{len(data), len(data)}
	}
	// An even cut keeps UTF-16 whole; a UTF-8 letter cut in two shows as
	// U+FFFD.
	return data[:textMaxBytes], fmt.Sprintf("… the last %s of the file not shown: a preview reads its first %s",
		humanize.IBytes(uint64(len(data)-textMaxBytes)), humanize.IBytes(textMaxBytes)), fileSpan{len(data), textMaxBytes}
}

// fileSpan is how many bytes a file has and how many of them were decoded
// into the text a preview sets.
type fileSpan struct{ file, read int }

// notShown estimates the bytes of the file past the point where a text
// of textLen bytes decoded from its first sp.read was cut, restLen bytes
// before its end.
func (sp fileSpan) notShown(textLen, restLen int) uint64 {
	if textLen <= 0 {
		return uint64(sp.file)
	}
	shown := float64(textLen-restLen) / float64(textLen) * float64(sp.read)
	return uint64(max(0, float64(sp.file)-shown))
}

// textLine is one line of a page: a piece of a paragraph, and the
// paragraph's direction (a right-to-left paragraph's lines are set from
// the right margin).
type textLine struct {
	text string
	dir  textshape.Dir
}

// textDoc is plain text wrapped into pages.
type textDoc struct {
	lines     []textLine
	maxPixels int
	shaper    *textshape.Shaper
}

// TextFonts are the parsed fonts text, CSV, Markdown and spreadsheet
// previews are set in: Go Mono for text and CSV, Carlito
// (assets.DocumentFonts) for Markdown and spreadsheets, and the fallbacks
// of assets.TextFonts for the letters they lack. Parsing them takes about
// 30 ms and 30 MB, so a viewer that opens many documents makes them once
// and passes them in Options.Text. They are safe for concurrent use.
type TextFonts struct {
	shaper *textshape.Shaper
}

// NewTextFonts parses the fonts text previews are set in.
func NewTextFonts() (*TextFonts, error) {
	text, doc := assets.TextFonts(), assets.DocumentFonts()
	// The styles, in the order of styleMono, styleRegular …
	styles := [][]byte{text[0], doc[0], doc[1], doc[2], doc[3]}
	sh, err := textshape.NewStyled(styles, text[1:]...)
	if err != nil {
		return nil, fmt.Errorf("preview: text fonts: %w", err)
	}
	return &TextFonts{shaper: sh}, nil
}

// textFonts returns fonts, or parses them when nil.
func textFonts(fonts *TextFonts) (*TextFonts, error) {
	if fonts != nil {
		return fonts, nil
	}
	return NewTextFonts()
}

// openText decodes data (decodeText: byte-order mark, UTF-16, UTF-8 or
// Windows-1252) and sets it in pages.
func openText(data []byte, opts Options) (Document, error) {
	data, cut, sp := head(data)
	text, _ := decodeText(data)
	if cut != "" {
		text += "\n" + cut
	}
	return openLines(text, sp, opts)
}

// openLines sets decoded text in pages: a line for each line end
// (splitLines), wrapped at the page width. Text past textMaxLines lines
// is left out, and a last line says about how much of the file (sp) that
// is.
func openLines(text string, sp fileSpan, opts Options) (Document, error) {
	fonts, err := textFonts(opts.Text)
	if err != nil {
		return nil, err
	}
	d := &textDoc{maxPixels: opts.MaxPixels, shaper: fonts.shaper}
	for rest := text; ; {
		p, after, ok := nextLine(rest)
		if !ok {
			return d, nil
		}
		p = visible(p)
		dir := textshape.DirOf(p)
		for _, l := range wrap(p, charsPerLine) {
			if len(d.lines) == textMaxLines-1 {
				d.lines = append(d.lines, textLine{text: fmt.Sprintf(
					"… about the last %s of the file not shown: a preview shows its first %d lines",
					humanize.IBytes(sp.notShown(len(text), len(rest))), textMaxLines-1)})
				return d, nil
			}
			d.lines = append(d.lines, textLine{text: l, dir: dir})
		}
		rest = after
	}
}

// openCSV sets a CSV file as an aligned table of text.
func openCSV(data []byte, opts Options) (Document, error) {
	data, cut, sp := head(data)
	text, _ := decodeText(data)
	r := csv.NewReader(strings.NewReader(text))
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
			widths[i] = max(widths[i], min(cellWidth(clip(c, maxCell)), maxCell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			c = clip(c, maxCell)
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", max(0, widths[i]-cellWidth(c))+2))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString(cut)
	return openLines(b.String(), sp, opts)
}

// clip makes a cell one line of at most n columns, ending in "…" when cut.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t', '\v', '\f', '\u0085', '\u2028', '\u2029':
			return ' '
		}
		return r
	}, s)
	if cellWidth(s) <= n {
		return s
	}
	col := 0
	for i, r := range s {
		if col+cells(r) > n-1 {
			return s[:i] + "…"
		}
		col += cells(r)
	}
	return s
}

func (d *textDoc) Pages() int { return max(1, (len(d.lines)+linesPerPage-1)/linesPerPage) }

// ink is the colour text is set in.
var ink = color.RGBA{R: 20, G: 20, B: 20, A: 255}

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
	em := fontPt * scale // pixels
	left, avail := margin*scale, (pageW-2*margin)*scale
	start := page * linesPerPage
	pt := newPainter(img, ink)
	for i, l := range d.lines[start:min(start+linesPerPage, len(d.lines))] {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, size, err := d.layout(l, em, avail)
		if err != nil {
			return nil, fmt.Errorf("preview: line %d: %w", start+i+1, err)
		}
		x := left
		if l.dir == textshape.RightToLeft {
			x = left + avail - fixedToFloat(line.Width())
		}
		pt.line(line, size, x, math.Round((margin+leadingPt*float64(i+1))*scale))
	}
	return img, nil
}

// layout shapes a line at em pixels with its left-to-right stretches on
// the column grid (gridded), and, should it still not fit in avail
// pixels, again smaller so that it does: nothing is cut. It returns the
// line and the em size it was set at.
func (d *textDoc) layout(l textLine, em, avail float64) (textshape.Line, float64, error) {
	l.text = d.covered(l.text)
	for range 2 {
		line, err := d.shaper.ShapeDir(l.text, floatToFixed(em), l.dir)
		if err != nil {
			return nil, 0, err
		}
		gridded(line, l.text, em)
		wd := fixedToFloat(line.Width())
		if wd <= avail+0.5 {
			return line, em, nil
		}
		em *= avail / wd
	}
	line, err := d.shaper.ShapeDir(l.text, floatToFixed(em), l.dir)
	return line, em, err
}

// gridded puts the letters of a line's left-to-right runs on a grid of
// columns 0.6 em wide, each cluster (a letter with its marks, or a
// ligature) centred in the columns its letters take (cells), as in a
// terminal: columns of a table line up whatever the fonts' own widths,
// and a Chinese letter or an emoji takes two columns. Runs of
// right-to-left text keep their own widths, so Arabic letters stay
// joined.
func gridded(line textshape.Line, text string, em float64) {
	runes := []rune(norm.NFC.String(text)) // as textshape shapes it
	cell := floatToFixed(em * cellEm)
	for ri := range line {
		run := &line[ri]
		if run.Direction.Progression() == di.TowardTopLeft {
			continue
		}
		end := run.Runes.Offset + run.Runes.Count
		var orig, pen fixed.Int26_6 // pen positions before and after
		for i := 0; i < len(run.Glyphs); {
			c := run.Glyphs[i].ClusterIndex
			j, adv := i, fixed.Int26_6(0)
			for ; j < len(run.Glyphs) && run.Glyphs[j].ClusterIndex == c; j++ {
				adv += run.Glyphs[j].XAdvance
			}
			next := end
			if j < len(run.Glyphs) {
				next = run.Glyphs[j].ClusterIndex
			}
			n := 0
			for k := max(c, 0); k < min(next, len(runes)); k++ {
				n += cells(runes[k])
			}
			want := adv
			if n > 0 {
				want = cell * fixed.Int26_6(n)
			}
			shift := pen - orig + (want-adv)/2
			o := orig
			for k := i; k < j; k++ {
				g := &run.Glyphs[k]
				newPen := pen
				if k > i {
					newPen = pen + want
				}
				g.XOffset += o + shift - newPen
				o += g.XAdvance
				g.XAdvance = 0
			}
			run.Glyphs[i].XAdvance = want
			orig, pen = orig+adv, pen+want
			i = j
		}
		run.Advance = pen
	}
}

// covered returns text with each letter no font has replaced by U+FFFD
// (drawn as a question mark in a diamond, as browsers do), so a page
// shows where a letter is rather than failing. Default-ignorable
// characters (joiners, variation selectors, bidi marks) stay: shaping
// hides them.
func (d *textDoc) covered(text string) string {
	missing := func(r rune) bool {
		return !d.shaper.Has(r) && !harfbuzz.IsDefaultIgnorable(r)
	}
	if strings.IndexFunc(text, missing) < 0 {
		return text
	}
	return strings.Map(func(r rune) rune {
		if missing(r) {
			return utf8.RuneError
		}
		return r
	}, text)
}

func floatToFixed(f float64) fixed.Int26_6 { return fixed.Int26_6(math.Round(f * 64)) }
func fixedToFloat(f fixed.Int26_6) float64 { return float64(f) / 64 }

func (d *textDoc) Close() error { return nil }
