// Package textshape lays out one line of text in any script, for the
// screen watermark and the PDF stamp: the line is split into bidi runs
// (Unicode bidi algorithm; the line's direction is its first strong
// letter's, so a line that starts with an Arabic name reads from the
// right) put in visual order,
// each run set in the first of the given fonts that has its letters, and
// shaped with go-text's HarfBuzz port (so Arabic letters join, ligatures
// form, marks attach). A letter that no font has is an error naming it:
// nothing is dropped or drawn as a box.
package textshape

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// ErrNoGlyph is wrapped when a letter of the text is in none of the fonts.
var ErrNoGlyph = errors.New("no font has a glyph for")

// Shaper shapes text with a list of fonts, the first preferred. It is safe
// for concurrent use (one line at a time: go-text's faces and shaper are
// not).
//
// A styled Shaper (NewStyled) has several first fonts — the regular, bold
// and italic of a family, a monospaced font — one of which a line is set
// in (ShapeStyle), and fallbacks shared by all: the fallbacks are parsed
// once however many styles there are.
type Shaper struct {
	faces  []*font.Face // the styles, then the fallbacks
	styles int          // how many of faces are styles

	mu      sync.Mutex
	seg     shaping.Segmenter
	hb      shaping.HarfbuzzShaper
	byGlyph []map[font.GID]rune // per face, built on first use by Runes
}

// New parses TrueType or OpenType fonts (each one file, not a collection).
func New(fonts ...[]byte) (*Shaper, error) {
	if len(fonts) == 0 {
		return nil, errors.New("textshape: no font")
	}
	return NewStyled(fonts[:1], fonts[1:]...)
}

// NewStyled parses styles, the fonts a line may be set in first, and
// fallbacks, the fonts a letter its style lacks is taken from, the first
// preferred. Style 0 is the one Shape and ShapeDir use.
func NewStyled(styles [][]byte, fallbacks ...[]byte) (*Shaper, error) {
	if len(styles) == 0 {
		return nil, errors.New("textshape: no font")
	}
	fonts := append(slices.Clip(styles), fallbacks...)
	s := &Shaper{styles: len(styles), byGlyph: make([]map[font.GID]rune, len(fonts))}
	for i, f := range fonts {
		face, err := font.ParseTTF(bytes.NewReader(f))
		if err != nil {
			return nil, fmt.Errorf("textshape: font %d: %w", i+1, err)
		}
		s.faces = append(s.faces, face)
	}
	return s, nil
}

// Line is one shaped line: its runs in visual order, left to right.
type Line []shaping.Output

// Width returns the line's advance, in pixels (or whatever unit its size
// was given in).
func (l Line) Width() fixed.Int26_6 {
	var w fixed.Int26_6
	for _, r := range l {
		w += r.Advance
	}
	return w
}

// Shape lays text out at size (the em size, in pixels or points) on one
// line. Text is first put in Unicode normal form C, so that a letter and
// its accent typed apart become the one letter the fonts have.
func (s *Shaper) Shape(text string, size fixed.Int26_6) (Line, error) {
	return s.ShapeDir(text, size, Auto)
}

// Dir is a paragraph's direction.
type Dir int

const (
	// Auto takes the direction of the text's first strong letter (left
	// to right when it has none).
	Auto Dir = iota
	LeftToRight
	RightToLeft
)

// DirOf returns the direction of text's first strong letter (rules P2
// and P3 of the bidi algorithm), LeftToRight when it has none.
func DirOf(text string) Dir {
	if rightToLeft([]rune(text)) {
		return RightToLeft
	}
	return LeftToRight
}

// ShapeDir is Shape for a piece of a paragraph whose direction is
// known: a line wrapped out of a right-to-left paragraph reads from the
// right even when it starts with a left-to-right word.
func (s *Shaper) ShapeDir(text string, size fixed.Int26_6, dir Dir) (Line, error) {
	return s.ShapeStyle(text, size, dir, 0)
}

// ShapeStyle is ShapeDir with the line set in style (an index into the
// styles given to NewStyled), and letters that style lacks in the
// fallbacks.
func (s *Shaper) ShapeStyle(text string, size fixed.Int26_6, dir Dir, style int) (Line, error) {
	if style < 0 || style >= s.styles {
		return nil, fmt.Errorf("textshape: no style %d (there are %d)", style, s.styles)
	}
	runes := []rune(norm.NFC.String(text))
	rtl := dir == RightToLeft || (dir == Auto && rightToLeft(runes))
	s.mu.Lock()
	defer s.mu.Unlock()
	d := di.DirectionLTR
	if rtl {
		d = di.DirectionRTL
	}
	faces := append([]*font.Face{s.faces[style]}, s.faces[s.styles:]...)
	in := shaping.Input{Text: runes, RunEnd: len(runes), Direction: d, Face: faces[0], Size: size}
	runs := s.seg.Split(in, fontmap(faces))
	line := make(Line, 0, len(runs))
	for _, run := range runs {
		out := s.hb.Shape(run)
		for _, g := range out.Glyphs {
			if g.GlyphID == 0 {
				r := runes[g.ClusterIndex]
				return nil, fmt.Errorf("%w %U %q in %q", ErrNoGlyph, r, r, text)
			}
		}
		line = append(line, out)
	}
	reorder(line, rtl)
	return line, nil
}

// Has reports whether style 0 or a fallback has a glyph for r.
func (s *Shaper) Has(r rune) bool {
	return s.HasStyle(r, 0)
}

// HasStyle reports whether style or a fallback has a glyph for r.
func (s *Shaper) HasStyle(r rune, style int) bool {
	if style < 0 || style >= s.styles {
		return false
	}
	if _, ok := s.faces[style].NominalGlyph(r); ok {
		return true
	}
	for _, f := range s.faces[s.styles:] {
		if _, ok := f.NominalGlyph(r); ok {
			return true
		}
	}
	return false
}

// reorder puts runs, which the segmenter returns in logical order, into
// visual order (rule L2 of the bidi algorithm, for a paragraph whose
// direction is its first strong letter's and whose runs have two levels,
// which is what a name, an address and a date on one line have): in a
// left-to-right paragraph each stretch of right-to-left runs is reversed;
// in a right-to-left one the whole line is, and then each stretch of
// left-to-right runs back.
func reorder(line Line, rtl bool) {
	isRTL := func(o shaping.Output) bool { return o.Direction.Progression() == di.TowardTopLeft }
	if rtl {
		slices.Reverse(line)
		isRTL = func(o shaping.Output) bool { return o.Direction.Progression() != di.TowardTopLeft }
	}
	for i := 0; i < len(line); {
		j := i
		for j < len(line) && isRTL(line[j]) {
			j++
		}
		slices.Reverse(line[i:j])
		i = max(j, i+1)
	}
}

// rightToLeft reports whether the first strong letter of text is
// right-to-left (rules P2 and P3): the paragraph's direction, as the
// segmenter resolves it.
func rightToLeft(text []rune) bool {
	for _, r := range text {
		switch p, _ := bidi.LookupRune(r); p.Class() {
		case bidi.L:
			return false
		case bidi.R, bidi.AL:
			return true
		}
	}
	return false
}

// ShapeFields lays fields out left to right on one line, each shaped on
// its own as by Shape: like text between Unicode isolates, a field's
// direction neither takes from nor spills onto its neighbours, so an
// Arabic name followed by an e-mail address reads "<name> <address>" with
// the name right to left inside its place. (golang.org/x/text's bidi, on
// which go-text's segmenter rests, resolves neutrals between a
// right-to-left name and a left-to-right address unreliably; fields keep
// such lines out of its hands.)
func (s *Shaper) ShapeFields(size fixed.Int26_6, fields ...string) (Line, error) {
	var line Line
	for _, f := range fields {
		l, err := s.Shape(f, size)
		if err != nil {
			return nil, err
		}
		line = append(line, l...)
	}
	return line, nil
}

// fontmap picks, for each letter, the first face that has a glyph for it.
type fontmap []*font.Face

func (fm fontmap) ResolveFace(r rune) *font.Face {
	for _, f := range fm {
		if _, ok := f.NominalGlyph(r); ok {
			return f
		}
	}
	return fm[0]
}

// Runes returns, for a line shaped in a single font (the last one given
// to New), the characters whose glyphs, set one after the other left to
// right, draw the line: for Arabic the presentation forms the shaper chose
// (isolated, initial, medial, final), in visual order. It is how shaped
// text reaches a PDF writer that maps characters to glyphs through the
// font's character map. A glyph the character map does not reach (a
// ligature or contextual form without a code point) is an error, as is a
// run set in another font.
func (s *Shaper) Runes(line Line) ([]rune, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := len(s.faces) - 1
	face := s.faces[last]
	if s.byGlyph[last] == nil {
		m := map[font.GID]rune{}
		for it := face.Cmap.Iter(); it.Next(); {
			r, g := it.Char()
			// The lowest code point: a base letter before its
			// presentation form, U+0020 before U+00A0.
			if old, ok := m[g]; !ok || r < old {
				m[g] = r
			}
		}
		s.byGlyph[last] = m
	}
	var out []rune
	for _, run := range line {
		if run.Face != face {
			return nil, errors.New("textshape: a run is not set in the last font")
		}
		for _, g := range run.Glyphs {
			r, ok := s.byGlyph[last][font.GID(g.GlyphID)]
			if !ok {
				return nil, fmt.Errorf("%w: glyph %d (shaped from the text at rune %d) has no code point to write it with", ErrNoGlyph, g.GlyphID, g.ClusterIndex)
			}
			out = append(out, r)
		}
	}
	return out, nil
}
