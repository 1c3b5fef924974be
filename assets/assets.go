// Package assets holds the files Coffer ships inside its binaries: the demo
// documents the guided tour and the demo organisation start with, and the
// fonts watermarks and previews are drawn with, and the app icon.
package assets

import (
	"bytes"
	"embed"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
)

// Demo holds small sample documents, one per folder class of the demo vault,
// under demo/.
//
//go:embed demo
var Demo embed.FS

// WatermarkFont returns the TrueType font watermarks and text previews are
// drawn with: Go Bold (golang.org/x/image/font/gofont, BSD licence), built
// into the binary so every platform renders the same pixels.
func WatermarkFont() []byte { return gobold.TTF }

//go:embed fonts/CofferStampSans.ttf
var unicodeFont []byte

// UnicodeFont returns the TrueType font names in other scripts are drawn
// with, on screen where Go Bold has no glyph and in PDF stamps: Latin,
// Greek, Cyrillic, Hebrew, Arabic, Chinese and Japanese, made from DejaVu
// Sans Bold and Droid Sans Fallback (fonts/README.md; licences beside it).
// The slice is shared: do not modify it.
func UnicodeFont() []byte { return unicodeFont }

//go:embed fonts/CofferStampHangul.ttf
var stampHangul []byte

// StampHangulFont returns the TrueType font a PDF stamp is set in when its
// text has Korean Hangul, which UnicodeFont lacks: Latin, punctuation and
// Hangul from NanumGothic Bold (fonts/README.md). The slice is shared: do
// not modify it.
func StampHangulFont() []byte { return stampHangul }

//go:embed fonts/CofferTextSans.ttf
var textSans []byte

//go:embed fonts/CofferHangul.ttf
var hangul []byte

//go:embed fonts/CofferEmoji.ttf
var emoji []byte

// HangulFont returns the TrueType font Korean is drawn with, on screen:
// Hangul syllables and jamo from NanumGothic (fonts/README.md). The slice
// is shared: do not modify it.
func HangulFont() []byte { return hangul }

// WatermarkFallbacks returns the fonts a screen watermark falls back on
// for letters WatermarkFont lacks, the first preferred: UnicodeFont, then
// HangulFont. The slices are shared: do not modify them.
func WatermarkFallbacks() [][]byte { return [][]byte{unicodeFont, hangul} }

// TextFonts returns the fonts text, CSV and Markdown previews are set
// in, the first preferred for each letter: Go Mono (monospaced, regular:
// Latin, Greek, Cyrillic), colour emoji (Noto Color Emoji, U+1F000 and
// above), DejaVu Sans regular (Hebrew, Arabic, Vietnamese, symbols, box
// drawing, control pictures), UnicodeFont (Chinese, Japanese) and
// HangulFont (Korean). See fonts/README.md. The slices are shared: do not
// modify them.
func TextFonts() [][]byte { return [][]byte{gomono.TTF, emoji, textSans, unicodeFont, hangul} }

//go:embed fonts/Carlito-Regular.ttf
var carlitoRegular []byte

//go:embed fonts/Carlito-Bold.ttf
var carlitoBold []byte

//go:embed fonts/Carlito-Italic.ttf
var carlitoItalic []byte

//go:embed fonts/Carlito-BoldItalic.ttf
var carlitoBoldItalic []byte

// DocumentFonts returns the proportional fonts Markdown and spreadsheet
// previews are set in, regular, bold, italic and bold italic: Carlito
// (Latin, Greek, Cyrillic; OFL, fonts/LICENSE-Carlito-OFL-1.1.txt), whose
// letters have the widths of Calibri's, the default font of Excel and
// Word since 2007, so that text fills a column as Excel shows it. Letters
// it lacks come from TextFonts' fallbacks. The slices are shared: do not
// modify them.
func DocumentFonts() [4][]byte {
	return [4][]byte{carlitoRegular, carlitoBold, carlitoItalic, carlitoBoldItalic}
}

//go:embed icon/coffer.png
var icon []byte

// Icon returns the app icon, 512×512 PNG, rasterised from icon/coffer.svg
// (`make icon`).
func Icon() []byte { return bytes.Clone(icon) }
