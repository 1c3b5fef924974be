// Package display shows untrusted names (files, folders, authors) to
// people: as they are when every character prints, quoted with Go escapes
// otherwise, so that a newline, a NUL or a right-to-left override
// ("invoice\u202efdp.exe") cannot forge a line or disguise a file type, in
// a terminal or in the window alike.
package display

import (
	"strconv"
	"strings"
	"unicode"
)

// Name returns name unchanged if it is printable, has no leading or
// trailing spaces and does not start with a quote; quoted otherwise.
func Name(name string) string {
	clean := strings.IndexFunc(name, func(r rune) bool {
		return r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' '
	}) < 0
	if clean && strings.TrimSpace(name) == name && !strings.HasPrefix(name, `"`) {
		return name
	}
	return strconv.Quote(name)
}
