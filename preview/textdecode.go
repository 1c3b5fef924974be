package preview

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/saintfish/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/width"
)

// Encoding names decodeText reports.
const (
	encUTF8     = "UTF-8"
	encUTF8BOM  = "UTF-8 with BOM"
	encUTF16LE  = "UTF-16LE"
	encUTF16BE  = "UTF-16BE"
	encUTF32LE  = "UTF-32LE"
	encUTF32BE  = "UTF-32BE"
	encWin1252  = "Windows-1252"
	sniffWindow = 4096 // bytes looked at to guess UTF-16 without a mark
)

// decodeText returns the text data holds and the encoding it was read in:
//
//   - a byte-order mark names the encoding (UTF-8, UTF-32LE, UTF-32BE,
//     UTF-16LE, UTF-16BE) and is dropped;
//   - without one, text whose first 4 KiB have NUL bytes in every other
//     position, and few in the others, is UTF-16 (little- or big-endian by
//     where the NULs are: ASCII letters in UTF-16 look like that);
//   - else valid UTF-8 is UTF-8, and so is text that is mostly valid
//     UTF-8 with a few stray bytes (a file cut mid-letter), whose bad bytes
//     become U+FFFD;
//   - else it is in a legacy encoding, which ICU's statistical detector
//     (github.com/saintfish/chardet, its Go port) names from the first
//     detectWindow bytes: Shift_JIS, EUC-JP, GB18030, Big5, EUC-KR, the
//     Cyrillic, Greek, Hebrew, Arabic, Turkish and Central European
//     single-byte sets (legacyEncoding) — when it is at least
//     minConfidence sure;
//   - else it is Windows-1252 (a superset of ISO 8859-1 for printable
//     text), the legacy encoding of most Western text files.
//
// A decoded rune takes at most 3 bytes for each byte of data, so the text
// is at most 3 × len(data) bytes.
func decodeText(data []byte) (string, string) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return string(bytes.ToValidUTF8(data[3:], []byte("\uFFFD"))), encUTF8BOM
	// UTF-32's marks before UTF-16's: FF FE 00 00 starts both.
	case bytes.HasPrefix(data, []byte("\xff\xfe\x00\x00")):
		return decodeWith(utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), data[4:]), encUTF32LE
	case bytes.HasPrefix(data, []byte("\x00\x00\xfe\xff")):
		return decodeWith(utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), data[4:]), encUTF32BE
	case bytes.HasPrefix(data, []byte("\xff\xfe")):
		return decodeWith(xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM), data[2:]), encUTF16LE
	case bytes.HasPrefix(data, []byte("\xfe\xff")):
		return decodeWith(xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM), data[2:]), encUTF16BE
	}
	if e := sniffUTF16(data); e != "" {
		order := xunicode.LittleEndian
		if e == encUTF16BE {
			order = xunicode.BigEndian
		}
		return decodeWith(xunicode.UTF16(order, xunicode.IgnoreBOM), data), e
	}
	if mostlyUTF8(data) {
		return string(bytes.ToValidUTF8(data, []byte("\uFFFD"))), encUTF8
	}
	if name, e := detectLegacy(data); e != nil {
		return decodeWith(e, data), name
	}
	return decodeWith(charmap.Windows1252, data), encWin1252
}

const (
	// detectWindow is how much of a file the legacy-encoding detector
	// reads: enough for its statistics, and a bound on its work.
	detectWindow = 64 << 10
	// minConfidence is the least confidence (0..100) of the detector's
	// answer that decodeText takes. Measured on a paragraph of business
	// prose: 100 for the CJK encodings, 49–51 for Russian in Windows-1251
	// and KOI8-R, 48 for Hebrew, 63 for Greek, 78 for Arabic; 10–28 for
	// a line of a few words, which stays Windows-1252.
	minConfidence = 40
)

// legacyEncoding returns the encoding the detector calls name, if
// decodeText decodes it (nil if not). ISO-8859-1 is left to Windows-1252,
// its superset; UTF-16 and UTF-32 are found before (a mark, or
// sniffUTF16).
func legacyEncoding(name string) encoding.Encoding {
	switch name {
	case "Shift_JIS":
		return japanese.ShiftJIS
	case "EUC-JP":
		return japanese.EUCJP
	case "GB-18030":
		return simplifiedchinese.GB18030
	case "Big5":
		return traditionalchinese.Big5
	case "EUC-KR":
		return korean.EUCKR
	case "windows-1251":
		return charmap.Windows1251
	case "KOI8-R":
		return charmap.KOI8R
	case "ISO-8859-5":
		return charmap.ISO8859_5
	case "ISO-8859-7":
		return charmap.ISO8859_7
	case "windows-1253":
		return charmap.Windows1253
	case "ISO-8859-8", "ISO-8859-8-I", "windows-1255":
		// ICU says windows-1255 only for bytes in 0x80–0x9F; its vowel
		// points (0xC0–0xD2), which ISO 8859-8 lacks, are not among them.
		return charmap.Windows1255
	case "ISO-8859-6":
		return charmap.ISO8859_6
	case "windows-1256":
		return charmap.Windows1256
	case "ISO-8859-9":
		return charmap.ISO8859_9
	case "windows-1254":
		return charmap.Windows1254
	case "ISO-8859-2":
		return charmap.ISO8859_2
	case "windows-1250":
		return charmap.Windows1250
	}
	return nil
}

// detectLegacy names data's legacy encoding (see decodeText), or returns
// a nil encoding when the detector is unsure or names one not decoded
// here (Windows-1252 among them).
func detectLegacy(data []byte) (string, encoding.Encoding) {
	r, err := chardet.NewTextDetector().DetectBest(data[:min(len(data), detectWindow)])
	if err != nil || r.Confidence < minConfidence {
		return "", nil
	}
	if e := legacyEncoding(r.Charset); e != nil {
		return r.Charset, e
	}
	return "", nil
}

// decodeWith decodes data with e; undecodable input (an odd last byte of
// UTF-16, an unpaired surrogate) becomes U+FFFD, as these decoders do.
func decodeWith(e encoding.Encoding, data []byte) string {
	out, err := e.NewDecoder().Bytes(data)
	if err != nil {
		// The decoders above replace what they cannot decode and never
		// fail; should one, show the bytes as Windows-1252 rather than
		// nothing.
		out, _ = charmap.Windows1252.NewDecoder().Bytes(data)
	}
	return string(out)
}

// sniffUTF16 guesses UTF-16 without a byte-order mark from where NUL bytes
// fall in the first sniffWindow bytes: UTF-16 text in a Latin script has a
// NUL in the high byte of nearly every letter, and text in other
// encodings has almost none. It returns "" when the pattern is not there.
func sniffUTF16(data []byte) string {
	n := min(len(data), sniffWindow) &^ 1
	if n < 4 {
		return ""
	}
	var even, odd int // NULs at even and odd offsets
	for i := 0; i < n; i += 2 {
		if data[i] == 0 {
			even++
		}
		if data[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*4 && even*20 < pairs:
		return encUTF16LE
	case even*10 >= pairs*4 && odd*20 < pairs:
		return encUTF16BE
	}
	return ""
}

// mostlyUTF8 reports whether data is UTF-8: valid, or with stray bytes
// fewer than an eighth of its valid multi-byte letters. Text in a legacy
// single-byte encoding has non-ASCII letters that almost never form valid
// UTF-8 sequences, so it fails; UTF-8 text with a damaged letter passes.
func mostlyUTF8(data []byte) bool {
	if utf8.Valid(data) {
		return true
	}
	var multi, bad int
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			bad++
		} else {
			multi++
		}
		i += size
	}
	return bad*8 < multi
}

// nextLine returns text's first paragraph (a line as its author wrote
// it) and the text after its line end: CR LF, CR, LF, NEL (U+0085),
// vertical tab, form feed, or the Unicode line and paragraph separators
// (U+2028, U+2029). ok is false when text is empty: a line end that
// closes the text makes no empty last line.
func nextLine(text string) (line, rest string, ok bool) {
	if text == "" {
		return "", "", false
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '\n', '\v', '\f', '\u0085', '\u2028', '\u2029':
			return text[:i], text[i+size:], true
		case '\r':
			rest = text[i+size:]
			if rest != "" && rest[0] == '\n' {
				rest = rest[1:]
			}
			return text[:i], rest, true
		}
		i += size
	}
	return text, "", true
}

// splitLines cuts text into paragraphs (nextLine).
func splitLines(text string) []string {
	var out []string
	for {
		line, rest, ok := nextLine(text)
		if !ok {
			return out
		}
		out = append(out, line)
		text = rest
	}
}

// tabWidth is the distance between tab stops, in cells.
const tabWidth = 4

// visible makes a paragraph drawable: tabs become spaces to the next tab
// stop, and other control characters, which fonts have no glyph for, are
// shown in caret notation as cat -v and less show them (^@ for NUL, ^G
// for BEL, ^? for DEL) or, for the C1 controls, as U+FFFD. It keeps
// format characters (the zero-width joiner, bidi marks), which shaping
// consumes.
func visible(p string) string {
	clean := true
	for _, r := range p {
		if unicode.Is(unicode.Cc, r) {
			clean = false
			break
		}
	}
	if clean {
		return p
	}
	var b strings.Builder
	col := 0
	for _, r := range p {
		switch {
		case r == '\t':
			n := tabWidth - col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		case r < 0x20 || r == 0x7f:
			b.WriteByte('^')
			b.WriteByte(byte(r) ^ 0x40)
			col += 2
			continue
		case r >= 0x80 && r < 0xa0:
			r = utf8.RuneError
		}
		b.WriteRune(r)
		col += cells(r)
	}
	return b.String()
}

// cells is how many columns of a monospaced grid r takes: 2 for the wide
// letters of East Asian scripts and for emoji, 0 for combining marks and
// format characters, 1 for the rest.
func cells(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || r == '\u200b' || (r >= 0xfe00 && r <= 0xfe0f):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// cellWidth is the number of columns s takes (see cells).
func cellWidth(s string) int {
	n := 0
	for _, r := range s {
		n += cells(r)
	}
	return n
}

// wrap cuts a paragraph into lines of at most n columns: after the last
// space that leaves the line at least half full, or else at the column
// limit, not before a combining mark or another rune of no width unless
// the line already holds 4n runes (which bounds the work of shaping a
// line of hostile text). A letter wider than n takes a line of its own.
func wrap(p string, n int) []string {
	if len(p) <= n || cellWidth(p) <= n && utf8.RuneCountInString(p) <= 4*n {
		return []string{p}
	}
	var out []string
	for p != "" {
		col, cut, space, runes := 0, len(p), -1, 0
		for i, r := range p {
			w := cells(r)
			if i > 0 && (w > 0 && col+w > n || runes >= 4*n) {
				cut = i
				break
			}
			col += w
			runes++
			if r == ' ' && col >= n/2 {
				space = i + 1
			}
		}
		if cut < len(p) && space > 0 && space < cut {
			cut = space
		}
		out = append(out, p[:cut])
		p = p[cut:]
	}
	return out
}
