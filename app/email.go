package app

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coffer-vault/coffer/watermark"
)

// CheckEmail accepts an e-mail address as a person's identity: one
// addr-spec as net/mail reads it (RFC 5322), without a display name or
// angle brackets, whose domain is a host name of two labels or more
// (example.com). It goes into every watermark and every log entry that
// names the person, so "@" or "bob@" is refused before anything is made.
func CheckEmail(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an e-mail address (%s)", s, why)
	}
	if n := utf8.RuneCountInString(s); n > watermark.MaxEmail {
		return bad(fmt.Sprintf("%d characters; watermarks show addresses of at most %d", n, watermark.MaxEmail))
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad("want one address such as ann@example.com")
	}
	_, domain, _ := strings.Cut(s[strings.LastIndexByte(s, '@'):], "@")
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("its domain has no dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") ||
			strings.ContainsFunc(l, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			return bad("its domain is not a host name")
		}
	}
	return nil
}
