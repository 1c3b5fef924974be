package audit

import (
	"crypto/rand"
	"strings"
)

// traceAlphabet is Crockford's base32: no I, L, O or U, so a code read off
// a photo of a screen is not misread.
const traceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewTraceCode returns a fresh code for one view or export: 10 symbols
// (50 random bits) as XXXXX-XXXXX.
func NewTraceCode() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("audit: system random source failed: " + err.Error())
	}
	out := make([]byte, 0, 11)
	for i, c := range b {
		if i == 5 {
			out = append(out, '-')
		}
		out = append(out, traceAlphabet[c&31])
	}
	return string(out)
}

// NormalizeTraceCode reads a code as a person might type it: any case,
// with or without the dash, O for 0 and I or L for 1.
func NormalizeTraceCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	var out []byte
	for _, r := range s {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		out = append(out, byte(r))
	}
	if len(out) == 10 {
		return string(out[:5]) + "-" + string(out[5:])
	}
	return string(out)
}
