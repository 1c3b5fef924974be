package pdfstamp

import "bytes"

// HeaderWindow is how far into a file PDF readers look for the "%PDF-"
// signature: the PDF reference's implementation note for Acrobat, and
// what PDFium, pdf.js and poppler do.
const HeaderWindow = 1024

// Kind is what a document's bytes are to PDF readers, whatever its name
// or media type says.
type Kind int

const (
	// NotPDF: no "%PDF-" and no PDF objects; no reader opens it as a PDF.
	NotPDF Kind = iota
	// PDF: "%PDF-" starts within the first HeaderWindow bytes. Every
	// reader opens it; it must be stamped where the class says so.
	PDF
	// Headerless: PDF objects ("12 0 obj") or a late "%PDF-", but no
	// signature where PDFium looks. PDFium refuses it, poppler and MuPDF
	// repair and open it (tried: poppler 22.12, MuPDF 1.21). It cannot
	// be stamped, so where the class says stamp it must not leave.
	Headerless
)

func (k Kind) String() string {
	switch k {
	case PDF:
		return "PDF"
	case Headerless:
		return "PDF without a header"
	}
	return "not a PDF"
}

// Sniffer tells a document's Kind from its bytes as they are written to
// it, in one pass, keeping only a few bytes: so whole versions can be
// classified as they are decrypted, however large. The zero value is
// ready; Write never fails.
//
// An object ("1 0 obj") is looked for two ways, and either finds one:
//
//   - as PDF readers' lexers find them: an integer (optional sign, any
//     length; a number ends at its first byte that is not a digit, so
//     "0obj" is 0 then obj), another, then the keyword obj, with any
//     white space and comments (% to the end of the line) between —
//     poppler follows an xref table to "1 0 %note⏎obj" and MuPDF's
//     repair finds it;
//   - in the raw bytes, comments or not: two integers and obj, with white
//     space between — an xref table may point into what looks like a
//     comment ("%1 0 obj"), and poppler reads the object there.
//
// Both err towards finding one: a file that only looks like it holds
// objects cannot leave a class that stamps, which is the safe side.
type Sniffer struct {
	n       int64  // bytes seen
	carry   []byte // the last carryLen bytes seen, for patterns across writes
	header  bool   // "%PDF-" starts before HeaderWindow
	late    bool   // "%PDF-" starts later
	objects bool   // "N G obj" seen
	pending bool   // the raw bytes end in "N G obj": obj or object?

	// The object lexer, between writes.
	comment  bool    // in a comment: until a line end
	tok      [3]byte // the current token's first bytes
	tokLen   int     // its length so far
	number   bool    // the current token is a number (sign or digit first)
	hasDigit bool    // … with a digit in it
	ints     int     // integer tokens right before it, at most 2
}

// carryLen is how many trailing bytes are kept between writes: enough for
// "%PDF-", and for the numbers and white space before a raw "obj".
const carryLen = 64

// Sniff returns the Kind of a whole document in memory.
func Sniff(data []byte) Kind {
	var s Sniffer
	_, _ = s.Write(data)
	return s.Kind()
}

// Write looks at p. It never fails.
func (s *Sniffer) Write(p []byte) (int, error) {
	if !s.header {
		// Across the last write and this one, then in this one (matches
		// within the carried bytes are found again, harmlessly).
		junction := append(s.carry, p[:min(len(p), carryLen)]...)
		s.signature(junction, s.n-int64(len(s.carry)))
		s.signature(p, s.n)
		if !s.objects {
			s.pending = false
			s.raw(junction)
			s.raw(p)
		}
		if len(p) >= carryLen {
			s.carry = append(s.carry[:0], p[len(p)-carryLen:]...)
		} else {
			s.carry = append(s.carry, p...)
			s.carry = s.carry[len(s.carry)-min(len(s.carry), carryLen):]
		}
	}
	if !s.header && !s.objects {
		s.lex(p)
	}
	s.n += int64(len(p))
	return len(p), nil
}

// signature looks for "%PDF-" in buf, which starts at file offset start.
func (s *Sniffer) signature(buf []byte, start int64) {
	for i := 0; ; {
		j := bytes.Index(buf[i:], []byte("%PDF-"))
		if j < 0 {
			return
		}
		if start+int64(i+j) < HeaderWindow {
			s.header = true
			return
		}
		s.late = true
		i += j + 1
	}
}

// raw looks for "N G obj" in buf's bytes, comments or not. An obj that
// ends buf may be the start of "object": pending says so, and the next
// write, or the end, decides.
func (s *Sniffer) raw(buf []byte) {
	for i := 0; !s.objects; {
		j := bytes.Index(buf[i:], []byte("obj"))
		if j < 0 {
			return
		}
		at := i + j
		i = at + 1
		switch {
		case !numberedBefore(buf[:at]):
		case at+3 == len(buf):
			s.pending = true
		case class[buf[at+3]] != regular:
			s.objects = true
		}
	}
}

// numberedBefore reports whether b ends with an object number and a
// generation — each an optionally signed integer, the first followed by
// white space, the second by white space or nothing ("1 0obj") — that
// no regular byte comes before.
func numberedBefore(b []byte) bool {
	i := len(b)
	for round := 0; round < 2; round++ {
		spaces := i
		for i > 0 && class[b[i-1]] == space {
			i--
		}
		if round == 1 && spaces == i {
			return false // the two numbers must be apart
		}
		digits := i
		for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
			i--
		}
		if digits == i {
			return false
		}
		if i > 0 && (b[i-1] == '+' || b[i-1] == '-') {
			i--
		}
	}
	return i == 0 || class[b[i-1]] != regular
}

// Byte classes of the PDF lexer (PDF 32000-1:2008, 7.2.2).
const (
	regular = iota
	space
	delimiter
	percent
)

// class maps each byte to its class.
var class = func() (c [256]uint8) {
	for _, b := range []byte{0, '\t', '\n', '\f', '\r', ' '} {
		c[b] = space
	}
	for _, b := range []byte("()<>[]{}/") {
		c[b] = delimiter
	}
	c['%'] = percent
	return c
}()

// lex runs the object lexer over p, stopping at the first object.
func (s *Sniffer) lex(p []byte) {
	for i := 0; i < len(p) && !s.objects; {
		if s.comment {
			j := bytes.IndexAny(p[i:], "\r\n")
			if j < 0 {
				return
			}
			i += j + 1
			s.comment = false
			continue
		}
		switch class[p[i]] {
		case regular: // the whole run of regular bytes at once
			j := i + 1
			for j < len(p) && class[p[j]] == regular {
				j++
			}
			s.extend(p[i:j])
			i = j
			continue
		case space:
			s.endToken()
		case percent:
			s.endToken()
			s.comment = true
		case delimiter:
			s.endToken()
			s.ints = 0
		}
		i++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// extend adds run, regular bytes, to the current token. A number ends at
// its first byte that is not a digit; the rest is the next token.
func (s *Sniffer) extend(run []byte) {
	for len(run) > 0 && !s.objects {
		if s.tokLen == 0 {
			s.number = run[0] == '+' || run[0] == '-' || isDigit(run[0])
			s.hasDigit = false
		}
		if !s.number {
			if s.tokLen < len(s.tok) {
				copy(s.tok[s.tokLen:], run)
			}
			s.tokLen += len(run)
			return
		}
		i := 0
		if s.tokLen == 0 && !isDigit(run[0]) {
			i = 1 // the sign
		}
		for i < len(run) && isDigit(run[i]) {
			i++
			s.hasDigit = true
		}
		s.tokLen += i
		if i == len(run) {
			return // the number may go on in the next run
		}
		s.endToken()
		run = run[i:]
	}
}

// endToken ends the current token, if any: an obj after two integers is
// an object.
func (s *Sniffer) endToken() {
	switch {
	case s.tokLen == 0:
		return
	case s.number && s.hasDigit:
		s.ints = min(s.ints+1, 2)
	case s.isObj():
		s.objects = true
	default:
		s.ints = 0
	}
	s.tokLen = 0
}

// isObj reports whether the current token is obj after two integers.
func (s *Sniffer) isObj() bool {
	return !s.number && s.ints == 2 && s.tokLen == 3 && string(s.tok[:]) == "obj"
}

// Kind returns what the bytes written so far are. An obj at the very end
// counts: the file ends there.
func (s *Sniffer) Kind() Kind {
	switch {
	case s.header:
		return PDF
	case s.late || s.objects || s.pending || (!s.comment && s.isObj()):
		return Headerless
	}
	return NotPDF
}
