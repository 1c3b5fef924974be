package preview

import (
	"bytes"
	"context"
	"errors"
	"image"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	xunicode "golang.org/x/text/encoding/unicode"

	"github.com/coffer-vault/coffer/internal/textshape"
)

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeText: each encoding a text file comes in reaches layout as
// the letters it holds, without its byte-order mark.
func TestDecodeText(t *testing.T) {
	const world = "Grüße, 世界 — 김민준 שלום مرحبا 😀\nline two"
	const western = "Grüße — café, 5 € «ok»\r\nß"
	le := xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM)
	be := xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM)
	cases := []struct {
		name     string
		data     []byte
		want     string
		encoding string
	}{
		{"UTF-8", []byte(world), world, encUTF8},
		{"UTF-8 BOM", append([]byte("\xef\xbb\xbf"), world...), world, encUTF8BOM},
		{"UTF-16LE BOM", append([]byte("\xff\xfe"), encode(t, le, world)...), world, encUTF16LE},
		{"UTF-16BE BOM", append([]byte("\xfe\xff"), encode(t, be, world)...), world, encUTF16BE},
		{"UTF-16LE by hand", []byte("\xff\xfeA\x00\xe9\x00\x3d\xd8\x00\xde"), "Aé😀", encUTF16LE},
		{"UTF-32LE BOM", []byte("\xff\xfe\x00\x00G\x00\x00\x00\xfc\x00\x00\x00\x00\xf6\x01\x00"), "Gü😀", encUTF32LE},
		{"UTF-32BE BOM", []byte("\x00\x00\xfe\xff\x00\x00\x00G\x00\x00\x00\xfc\x00\x01\xf6\x00"), "Gü😀", encUTF32BE},
		{"UTF-16LE no BOM", encode(t, le, western), western, encUTF16LE},
		{"UTF-16BE no BOM", encode(t, be, western), western, encUTF16BE},
		{"Windows-1252", encode(t, charmap.Windows1252, western), western, encWin1252},
		{"Windows-1252 by hand", []byte("caf\xe9 \x80 \x93q\x94"), "café € “q”", encWin1252},
		// A UTF-8 file cut in the middle of its last letter stays UTF-8.
		{"UTF-8 cut", []byte(world[:len(world)-len("line two")] + "é€"[:4]), world[:len(world)-len("line two")] + "é\uFFFD", encUTF8},
		{"UTF-16 odd length", []byte("\xff\xfeA\x00B"), "A\uFFFD", encUTF16LE},
		{"empty", nil, "", encUTF8},
	}
	for _, c := range cases {
		got, enc := decodeText(c.data)
		if got != c.want || enc != c.encoding {
			t.Errorf("%s: %q as %s, want %q as %s", c.name, got, enc, c.want, c.encoding)
		}
	}
}

// TestDecodeLegacyText: a paragraph in each legacy encoding still common
// for text files — Japanese, Chinese, Korean, Russian, Greek, Hebrew,
// Arabic, Turkish — reaches layout as written (each read as Windows-1252
// before: mojibake); Western text and a line too short to tell stay
// Windows-1252.
func TestDecodeLegacyText(t *testing.T) {
	const (
		ja = "本日の会議では、来期の予算案と新しい取引システムの導入について話し合いました。担当者は月末までに報告書を提出してください。"
		ru = "На сегодняшнем совещании обсуждались проект бюджета на следующий квартал и внедрение новой торговой системы. Ответственные должны представить отчёт до конца месяца."
		fr = "La réunion d'aujourd'hui a porté sur le budget du prochain trimestre et sur l'introduction du nouveau système de négociation. Les responsables doivent remettre leur rapport avant la fin du mois."
	)
	for _, c := range []struct {
		name, text, encoding string
		enc                  encoding.Encoding
	}{
		{"Shift_JIS", ja, "Shift_JIS", japanese.ShiftJIS},
		{"EUC-JP", ja, "EUC-JP", japanese.EUCJP},
		{"GBK", "今天的会议讨论了下一季度的预算方案以及新交易系统的引入。请负责人在月底之前提交报告。", "GB-18030", simplifiedchinese.GBK},
		{"Big5", "今天的會議討論了下一季度的預算方案以及新交易系統的引入。請負責人在月底之前提交報告。", "Big5", traditionalchinese.Big5},
		{"EUC-KR", "오늘 회의에서는 다음 분기 예산안과 새로운 거래 시스템 도입에 대해 논의했습니다. 담당자는 월말까지 보고서를 제출해 주십시오.", "EUC-KR", korean.EUCKR},
		{"Windows-1251", ru, "windows-1251", charmap.Windows1251},
		{"KOI8-R", ru, "KOI8-R", charmap.KOI8R},
		{"Greek", "Στη σημερινή συνάντηση συζητήθηκε ο προϋπολογισμός του επόμενου τριμήνου και η εισαγωγή του νέου συστήματος συναλλαγών.", "ISO-8859-7", charmap.ISO8859_7},
		{"Hebrew with points", "בפגישה היום דנו בתקציב הרבעון הבא ובהכנסת מערכת המסחר החדשה. האחראים מתבקשים להגיש דוח עד סוף החודש. שָׁלוֹם", "ISO-8859-8-I", charmap.Windows1255},
		{"Arabic", "ناقش اجتماع اليوم ميزانية الربع القادم وإدخال نظام التداول الجديد. يرجى من المسؤولين تقديم التقرير قبل نهاية الشهر.", "windows-1256", charmap.Windows1256},
		{"French", fr, encWin1252, charmap.Windows1252},
		{"a short line", "Café crème, déjà vu.", encWin1252, charmap.Windows1252},
	} {
		want := c.text + "\n"
		got, enc := decodeText(encode(t, c.enc, want))
		if got != want || enc != c.encoding {
			t.Errorf("%s: %q as %s, want %q as %s", c.name, got, enc, want, c.encoding)
		}
	}
}

// TestLineEnds: CR LF, CR, LF, NEL, VT, FF and U+2028/U+2029 each end a
// line; a final line end makes no extra line.
func TestLineEnds(t *testing.T) {
	for in, want := range map[string][]string{
		"a\r\nb\rc\nd\u2028e\u2029f\vg\fh\u0085i\r\n": {"a", "b", "c", "d", "e", "f", "g", "h", "i"},
		"a\n\nb":     {"a", "", "b"},
		"\r\r":       {"", ""},
		"old mac\r":  {"old mac"},
		"no end":     {"no end"},
		"\r\n\r\n\n": {"", "", ""},
	} {
		if got := splitLines(in); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// lines returns the lines a text document sets, in order.
func lines(t *testing.T, d Document) []string {
	t.Helper()
	td, ok := d.(*textDoc)
	if !ok {
		t.Fatalf("%T is no text document", d)
	}
	var out []string
	for _, l := range td.lines {
		out = append(out, l.text)
	}
	return out
}

// TestTextReachesLayout opens files in each encoding through Open, as a
// viewer does, and checks the lines laid out.
func TestTextReachesLayout(t *testing.T) {
	const text = "Title\r\n한국어 中文\rعربي\u2028\tx\x00y"
	want := []string{"Title", "한국어 中文", "عربي", "    x^@y"}
	le := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)
	be := xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM)
	for name, data := range map[string][]byte{
		"utf8.txt":    []byte(text),
		"bom.txt":     append([]byte("\xef\xbb\xbf"), text...),
		"utf16le.txt": encode(t, le, text),
		"utf16be.log": encode(t, be, text),
	} {
		d, err := Open(context.Background(), data, "", name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(t, d); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// mixed is a page in every script text previews promise.
const mixed = "Latin: The quick brown fox, naïve café — Ωμέγα, Привет\n" +
	"한국어: 김민준, 서울특별시 중구 세종대로 110\n" +
	"中文：陈美玲，北京市朝阳区。日本語：山田はなこ、東京都。\n" +
	"עברית: דוד בן-גוריון, תל אביב 2026\n" +
	"العربية: محمد الأحمد، دبي ٢٠٢٦\n" +
	"Emoji: 😀 👍 🎉 📈 🔒 ✅\n" +
	"Mixed: Ann שלום x, 100 ₪, 陈 and 김\n" +
	"Vietnamese: Nguyễn Văn Đức; box: ┌─┬─┐ └─┴─┘; U+FFFD: \uFFFD\n"

// TestNoMissingGlyph: every letter of the mixed-script page is in one of
// the text fonts, and shaping it draws no .notdef glyph (textshape
// refuses a line that would, with ErrNoGlyph).
func TestNoMissingGlyph(t *testing.T) {
	d, err := openText([]byte(mixed), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	td := d.(*textDoc)
	for _, l := range td.lines {
		for _, r := range l.text {
			if !td.shaper.Has(r) {
				t.Errorf("no text font has %U %q (in %q)", r, r, l.text)
			}
		}
		if _, err := td.shaper.ShapeDir(l.text, floatToFixed(13), l.dir); err != nil {
			t.Errorf("%q: %v", l.text, err)
		}
	}
	// A letter no font has (a private-use code point) is drawn as U+FFFD,
	// not refused.
	if got := td.covered("a\ue000b\u200dc"); got != "a\uFFFDb\u200dc" {
		t.Errorf("covered: %q", got)
	}
	if _, err := td.shaper.ShapeDir("\ue000", floatToFixed(13), textshape.Auto); !errors.Is(err, textshape.ErrNoGlyph) {
		t.Errorf("shaping a letter no font has: %v, want ErrNoGlyph", err)
	}
	if _, err := d.Render(context.Background(), 0, 72); err != nil {
		t.Fatal(err)
	}
	if d, err := openText([]byte("x\ue000y"), Options{MaxPixels: DefaultMaxPixels}); err != nil {
		t.Fatal(err)
	} else if _, err := d.Render(context.Background(), 0, 72); err != nil {
		t.Errorf("a private-use letter: %v", err)
	}
}

// inkSpan returns the leftmost and rightmost columns of row band [y0, y1)
// holding a dark pixel, and whether any does.
func inkSpan(img *image.RGBA, y0, y1 int) (int, int, bool) {
	lo, hi := img.Rect.Dx(), -1
	for y := y0; y < y1; y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if c := img.RGBAAt(x, y); c.R < 128 {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	return lo, hi, hi >= 0
}

// TestRightToLeftLines: a paragraph in Hebrew or Arabic is set from the
// right margin, one in Latin from the left; a line wrapped out of a
// right-to-left paragraph keeps its direction even when it starts with a
// Latin word.
func TestRightToLeftLines(t *testing.T) {
	long := strings.Repeat("שלום עולם ", 8) + "Coffer Vault " + strings.Repeat("שלום ", 10)
	d, err := openText([]byte("Latin line\nשלום עולם\nمرحبا بالعالم\n"+long), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	img, err := d.Render(context.Background(), 0, 72)
	if err != nil {
		t.Fatal(err)
	}
	left, right := int(margin), int(pageW-margin)
	for i, wantRight := range []bool{false, true, true, true, true} {
		y1 := int(margin + leadingPt*float64(i+1) + 3)
		lo, hi, ok := inkSpan(img, y1-10, y1)
		if !ok {
			t.Fatalf("line %d: no ink", i+1)
		}
		if wantRight && (hi < right-3 || lo < left+20) {
			t.Errorf("line %d: ink from x=%d to %d; a right-to-left line ends at the right margin (%d)", i+1, lo, hi, right)
		}
		if !wantRight && (lo > left+3 || hi > right-20) {
			t.Errorf("line %d: ink from x=%d to %d; a left-to-right line starts at the left margin (%d)", i+1, lo, hi, left)
		}
	}
	for _, l := range d.(*textDoc).lines[1:] {
		if l.dir != textshape.RightToLeft {
			t.Errorf("%q: direction %v, want right to left", l.text, l.dir)
		}
	}
}

// TestWrap: lines are cut at the page width counted in columns (a
// Chinese letter or an emoji takes two), after a space where one is near,
// and never before a combining mark.
func TestWrap(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"aaaa bbbb cccc", 10, []string{"aaaa bbbb ", "cccc"}},
		{"abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"陈美玲陈美玲", 5, []string{"陈美", "玲陈", "美玲"}},
		{"😀😀😀", 4, []string{"😀😀", "😀"}},
		{"abcde\u0301f", 5, []string{"abcde\u0301", "f"}},
		{"abcdef\u0301", 5, []string{"abcde", "f\u0301"}},
		{"陈", 1, []string{"陈"}},
		// A letter with more marks than a line may hold is cut.
		{"a" + strings.Repeat("\u0301", 9), 2, []string{"a" + strings.Repeat("\u0301", 7), "\u0301\u0301"}},
	} {
		if got := wrap(c.in, c.n); !slices.Equal(got, c.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// TestCSVColumnsAlign: a column after Chinese, Korean or emoji cells
// starts in the same column as after Latin ones.
func TestCSVColumnsAlign(t *testing.T) {
	d, err := openCSV([]byte("name,city\nAnn,Paris\n陈美玲,北京\n김민준,서울\n😀😀,x\n"), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	var col int
	for i, l := range lines(t, d) {
		at := strings.LastIndex(l, "  ") + 2
		if i == 0 {
			col = cellWidth(l[:at])
		} else if got := cellWidth(l[:at]); got != col {
			t.Errorf("%q: second column at %d, want %d", l, got, col)
		}
	}
}

// TestEmojiInColour: an emoji is drawn from its colour bitmap.
func TestEmojiInColour(t *testing.T) {
	d, err := openText([]byte("😀"), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	img, err := d.Render(context.Background(), 0, 144)
	if err != nil {
		t.Fatal(err)
	}
	yellow := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]; r > 200 && g > 150 && b < 100 {
			yellow++
		}
	}
	if yellow < 50 {
		t.Errorf("%d yellow pixels in a drawn 😀", yellow)
	}
}

// TestTextLimits: a text of more lines than a preview keeps ends with a
// line that says so; every page stays within the pixel limit.
func TestTextLimits(t *testing.T) {
	d, err := openText(bytes.Repeat([]byte("\n"), textMaxLines+10), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	ls := lines(t, d)
	if len(ls) != textMaxLines || !strings.Contains(ls[len(ls)-1], "about the last 11 B of the file not shown") {
		t.Errorf("%d lines, last %q", len(ls), ls[len(ls)-1])
	}
	if _, err := d.Render(context.Background(), d.Pages()-1, 72); err != nil {
		t.Error(err)
	}
	// Of a file larger than a preview decodes, the start is shown and
	// the rest named.
	line := strings.Repeat("陈美玲市", 10) + "\n" // 121 bytes, 80 columns
	big := bytes.Repeat([]byte(line), textMaxBytes/len(line)+1000)
	d, err = openText(big, Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	ls = lines(t, d)
	if last := ls[len(ls)-1]; len(ls) > textMaxLines || !strings.HasPrefix(last, "… the last 118 KiB of the file not shown: a preview reads its first 16 MiB") {
		t.Errorf("%d lines, last %q", len(ls), last)
	}
	// Cut at textMaxLines lines of the 16 MiB decoded from a 20 MiB file,
	// the note counts what is not shown of the file, not of the 16 MiB
	// (it said 954 KiB of a 200 MiB file, 184 MiB short).
	d, err = openText(bytes.Repeat([]byte("abcdefghi\n"), 2<<20), Options{MaxPixels: DefaultMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	ls = lines(t, d)
	if last := ls[len(ls)-1]; len(ls) != textMaxLines || !strings.HasPrefix(last, "… about the last 18 MiB of the file not shown") {
		t.Errorf("%d lines, last %q", len(ls), last)
	}
}

// FuzzDecodeText: any bytes decode to valid UTF-8 at most three times
// their size, and wrap into lines no wider than the page.
func FuzzDecodeText(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		text, _ := decodeText(data)
		if !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8 from %q", data)
		}
		if len(text) > 3*len(data) {
			t.Fatalf("%d bytes decoded to %d", len(data), len(text))
		}
		for _, p := range splitLines(text) {
			for _, l := range wrap(visible(p), 20) {
				if w := cellWidth(l); w > 20 {
					t.Fatalf("%q wrapped to %q, %d columns", p, l, w)
				}
			}
		}
	})
}
