// Package display shows untrusted names (files, folders, authors) to
// people: as they are when every character prints, quoted with Go escapes
// otherwise, so that a newline, a NUL or a right-to-left override
// ("invoice\u202efdp.exe") cannot forge a line or disguise a file type, in
// a terminal or in the window alike.
package display

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name returns name unchanged if it is printable, has no leading or
// trailing spaces and does not start with a quote; quoted otherwise.
func Name(name string) string {
	clean := strings.IndexFunc(name, unprintable) < 0
	if clean && strings.TrimSpace(name) == name && !strings.HasPrefix(name, `"`) {
		return name
	}
	return strconv.Quote(name)
}

// Text returns free text (an error message, an audit reason) with every
// character that does not print replaced by its Go escape, in place; the
// rest is left as it is.
func Text(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unprintable(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unprintable(r rune) bool {
	return r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' '
}

// FileName turns a stored name into a local file name for a copy: its last
// element, with every character that does not print replaced by '_' so
// the file shows what it is; "copy" if nothing is left.
func FileName(stored string) string {
	n := strings.Map(func(r rune) rune {
		if unprintable(r) {
			return '_'
		}
		return r
	}, path.Base(strings.ReplaceAll(stored, `\`, "/")))
	if n = strings.TrimSpace(n); n == "" || n == "." || n == ".." || n == "/" {
		return "copy"
	}
	return n
}
