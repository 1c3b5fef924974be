package app

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/assets"
	"github.com/coffer-vault/coffer/watermark"
)

// CheckName accepts a person's full name as every watermark and export
// stamp will show it, or says why not, before anything is made: at most
// watermark.MaxName characters (a longer one would crowd the address and
// trace code out of the mark); no control characters and no bidi
// embedding, override or isolate controls (which reorder the text around
// them, so that a name could pass for an address); no backslash (the
// export stamp's pdfcpu reads "\n" as a line break); and every letter drawn
// by the watermark's fonts. (An export stamp is set in one font, which
// has Korean with Latin or the other scripts with Latin: a name mixing
// Hangul with Arabic, say, is accepted, and an export to stamp then says
// which letter it cannot set; assets/fonts/README.md.) The empty name is
// accepted: marks then show the e-mail address alone.
func CheckName(name string) error {
	if name == "" {
		return nil
	}
	if n := utf8.RuneCountInString(name); n > watermark.MaxName {
		return fmt.Errorf("the name has %d characters; watermarks show names of at most %d: give a shorter form of it", n, watermark.MaxName)
	}
	for _, r := range name {
		if unicode.Is(unicode.Cc, r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError {
			return fmt.Errorf("the name %q holds the control character U+%04X: every watermark prints it; type the name without it", name, r)
		}
		if r == '\\' {
			return fmt.Errorf("the name %q holds a backslash, which the export stamp cannot show as written; type the name without it", name)
		}
	}
	spec := watermark.Spec{Name: name, Email: "a@example.com", Device: "d", Time: time.Now(), TraceCode: "00000-00000"}
	st, err := watermark.NewStamper(assets.WatermarkFont(), assets.WatermarkFallbacks()...)
	if err != nil {
		return err
	}
	if err := st.Check(spec); err != nil {
		return fmt.Errorf("the name cannot be shown in watermarks (%w): write it in a script the watermark draws, such as Latin", err)
	}
	return nil
}
