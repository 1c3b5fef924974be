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

// TextFont returns the monospaced font text, CSV and Markdown previews are
// set in: Go Mono.
func TextFont() []byte { return gomono.TTF }

//go:embed icon/coffer.png
var icon []byte

// Icon returns the app icon, 512×512 PNG, rasterised from icon/coffer.svg
// (`make icon`).
func Icon() []byte { return bytes.Clone(icon) }
