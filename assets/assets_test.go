package assets

import (
	"bytes"
	"image/png"
	"io/fs"
	"testing"

	"github.com/go-text/typesetting/font"
)

func TestDemoDocuments(t *testing.T) {
	entries, err := fs.ReadDir(Demo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 3 {
		t.Fatalf("demo has %d documents, the tour needs 3", len(entries))
	}
	for _, e := range entries {
		b, err := fs.ReadFile(Demo, "demo/"+e.Name())
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", e.Name(), len(b), err)
		}
	}
}

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(Icon()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("icon is %v, want 512×512", b)
	}
	// Transparent corners, an opaque centre.
	if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
		t.Error("icon corner is not transparent")
	}
	if _, _, _, a := img.At(256, 256).RGBA(); a != 0xffff {
		t.Error("icon centre is not opaque")
	}
}

// TestUnicodeFont checks the font covers the scripts it promises, by its
// character map.
func TestUnicodeFont(t *testing.T) {
	f, err := font.ParseTTF(bytes.NewReader(UnicodeFont()))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"陈美玲", "Łucja Wąs-Øster", "Νίκος Παπαδόπουλος", "Дмитрий Шостакович", "محمد الأحمد", "ﻣﺤﻤﺪ", "דוד בן-גוריון", "山田 はなこ カタカナ", "Nguyễn Văn Đức", "·<>@-:0123456789"} {
		for _, r := range s {
			if _, ok := f.NominalGlyph(r); !ok {
				t.Errorf("no glyph for %U %q (in %q)", r, r, s)
			}
		}
	}
}

// TestTextFonts checks that the text preview fonts together cover the
// scripts they promise, and the watermark's fallbacks Korean.
func TestTextFonts(t *testing.T) {
	var faces []*font.Face
	for i, b := range TextFonts() {
		f, err := font.ParseTTF(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("text font %d: %v", i+1, err)
		}
		faces = append(faces, f)
	}
	has := func(faces []*font.Face, r rune) bool {
		for _, f := range faces {
			if _, ok := f.NominalGlyph(r); ok {
				return true
			}
		}
		return false
	}
	for _, s := range []string{"The quick brown fox", "Ωμέγα Привет", "김민준 서울특별시 ㄱㅎ", "陈美玲 山田はなこ カタカナ", "דוד בן-גוריון",
		"محمد الأحمد ٢٠٢٦", "Nguyễn Văn Đức", "😀👍🎉📈🔒✅❌🇫", "┌─┬─┐│└┘", "\uFFFD€₪"} {
		for _, r := range s {
			if !has(faces, r) {
				t.Errorf("no text font has %U %q (in %q)", r, r, s)
			}
		}
	}
	var fallbacks []*font.Face
	for _, b := range WatermarkFallbacks() {
		f, err := font.ParseTTF(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		fallbacks = append(fallbacks, f)
	}
	for _, r := range "김민준 이서연 박지훈" {
		if !has(fallbacks, r) {
			t.Errorf("no watermark fallback has %U %q", r, r)
		}
	}
}
