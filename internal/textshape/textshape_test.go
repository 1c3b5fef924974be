package textshape_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/image/math/fixed"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/internal/textshape"
)

// names are users' names in the scripts Coffer promises to draw.
var names = []string{"陈美玲", "Łucja Wąs-Øster", "Νίκος Παπαδόπουλος", "Дмитрий Шостакович", "محمد الأحمد", "דוד בן-גוריון", "山田 はなこ", "Nguyễn Văn Đức"}

func TestShapesEveryScript(t *testing.T) {
	s, err := textshape.New(assets.WatermarkFont(), assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		line, err := s.Shape(n+" <ann@example.com>", fixed.I(20))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if line.Width() <= 0 {
			t.Errorf("%s: width %v", n, line.Width())
		}
	}
	// A letter no font has is named, not dropped.
	_, err = s.Shape("김민준", fixed.I(20))
	if !errors.Is(err, textshape.ErrNoGlyph) || !strings.Contains(err.Error(), "U+AE40") {
		t.Errorf("Hangul: %v", err)
	}
}

// TestRunesForPDF: Arabic comes out as joined presentation forms in
// visual order, Hebrew reversed, CJK and Latin as they are.
func TestRunesForPDF(t *testing.T) {
	s, err := textshape.New(assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"محمد", "ﺪﻤﺤﻣ"}, // final dal, medial meem, medial hah, initial meem
		{"דוד", "דוד"},
		{"陈美玲 <a@b>", "陈美玲 <a@b>"},
		{"Ann שלום x", "Ann םולש x"},
		// A line that starts right to left reads from the right: the
		// name on the right, the address left of it, brackets mirrored.
		{"דוד <d@x.il>", "<d@x.il> דוד"},
	} {
		line, err := s.Shape(c.in, fixed.I(24))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Runes(line)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%q: %q %s, want %q", c.in, string(got), fmt.Sprintf("%U", got), c.want)
		}
	}
}

// TestShapeFields: fields keep their places, left to right, whatever
// their direction.
func TestShapeFields(t *testing.T) {
	s, err := textshape.New(assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	line, err := s.ShapeFields(fixed.I(24), "דוד בן", " <", "d@x.il", "> · ", "2026")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Runes(line)
	if want := "ןב דוד <d@x.il> · 2026"; err != nil || string(got) != want {
		t.Errorf("%q, %v; want %q", string(got), err, want)
	}
}

// TestShapeDir: a line wrapped out of a right-to-left paragraph reads
// from the right even when it starts with a Latin word; left alone, the
// same line reads from the left.
func TestShapeDir(t *testing.T) {
	s, err := textshape.New(assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		dir  textshape.Dir
		want string
	}{
		{"Vault שלום", textshape.Auto, "Vault םולש"},
		{"Vault שלום", textshape.LeftToRight, "Vault םולש"},
		{"Vault שלום", textshape.RightToLeft, "םולש Vault"},
		{"שלום Vault", textshape.Auto, "Vault םולש"},
	} {
		line, err := s.ShapeDir(c.in, fixed.I(24), c.dir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Runes(line)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%q %v: %q, want %q", c.in, c.dir, string(got), c.want)
		}
	}
	for text, want := range map[string]textshape.Dir{"abc": textshape.LeftToRight, "123 שלום": textshape.RightToLeft, "": textshape.LeftToRight, "(محمد)": textshape.RightToLeft} {
		if got := textshape.DirOf(text); got != want {
			t.Errorf("DirOf(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestHas: coverage is the union of the fonts' character maps.
func TestHas(t *testing.T) {
	s, err := textshape.New(assets.WatermarkFont(), assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range map[rune]bool{'a': true, '陈': true, 'ש': true, '김': false, '\ue000': false} {
		if got := s.Has(r); got != want {
			t.Errorf("Has(%q) = %v, want %v", r, got, want)
		}
	}
}

// TestShapeStyle: a styled shaper sets a line in the style asked for
// (Carlito Bold is wider than Carlito Regular), takes the letters a style
// lacks from the fallbacks shared by all styles, and refuses a style it
// does not have.
func TestShapeStyle(t *testing.T) {
	doc := assets.DocumentFonts()
	s, err := textshape.NewStyled(doc[:], assets.UnicodeFont())
	if err != nil {
		t.Fatal(err)
	}
	width := func(style int, text string) fixed.Int26_6 {
		l, err := s.ShapeStyle(text, fixed.I(11), textshape.LeftToRight, style)
		if err != nil {
			t.Fatalf("style %d %q: %v", style, text, err)
		}
		return l.Width()
	}
	const text = "Revenue 2024: 1,234.56"
	if r, b := width(0, text), width(1, text); b <= r {
		t.Errorf("bold %v is not wider than regular %v", b, r)
	}
	if w := width(3, "会计年度 2024"); w <= 0 {
		t.Errorf("Chinese in bold italic: width %v", w)
	}
	if !s.HasStyle('会', 2) || s.HasStyle('A', 4) {
		t.Error("HasStyle: wrong")
	}
	if _, err := s.ShapeStyle(text, fixed.I(11), textshape.Auto, 4); err == nil {
		t.Error("style 4 of 4 was shaped")
	}
}
