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
// Objects are found as PDF readers' lexers find them: an integer, an
// integer and the keyword obj, each a token of its own, with any white
// space and comments (% to the end of the line) between — poppler
// follows an xref table to "1 0 %note⏎obj" and MuPDF's repair finds it.
type Sniffer struct {
	n       int64  // bytes seen
	carry   []byte // the last bytes seen, for "%PDF-" across writes
	header  bool   // "%PDF-" starts before HeaderWindow
	late    bool   // "%PDF-" starts later
	objects bool   // "N G obj" seen

	// The object lexer, between writes.
	comment bool    // in a comment: until a line end
	tok     [3]byte // the current token's first bytes
	tokLen  int     // its length so far
	digits  bool    // it is all digits so far
	ints    int     // integer tokens right before it, at most 2
}

// carryLen is how many trailing bytes are kept between writes for the
// signature.
const carryLen = len("%PDF-") - 1

// Sniff returns the Kind of a whole document in memory.
func Sniff(data []byte) Kind {
	var s Sniffer
	_, _ = s.Write(data)
	return s.Kind()
}

// Write looks at p. It never fails.
func (s *Sniffer) Write(p []byte) (int, error) {
	if !s.header {
		// A signature across the last write and this one, then in this one.
		s.signature(append(s.carry, p[:min(len(p), carryLen)]...), s.n-int64(len(s.carry)))
		s.signature(p, s.n)
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

// maxDigits is the longest integer token counted: object numbers are
// below 10 billion.
const maxDigits = 10

// extend adds run, regular bytes, to the current token.
func (s *Sniffer) extend(run []byte) {
	if s.tokLen == 0 {
		s.digits = true
	}
	if s.tokLen < len(s.tok) {
		copy(s.tok[s.tokLen:], run)
	}
	if s.digits && s.tokLen+len(run) <= maxDigits {
		for _, c := range run {
			if c < '0' || c > '9' {
				s.digits = false
				break
			}
		}
	} else {
		s.digits = false
	}
	s.tokLen += len(run)
}

// endToken ends the current token, if any: an obj after two integers is
// an object.
func (s *Sniffer) endToken() {
	switch {
	case s.tokLen == 0:
		return
	case s.isObj():
		s.objects = true
	case s.digits:
		s.ints = min(s.ints+1, 2)
	default:
		s.ints = 0
	}
	s.tokLen = 0
}

// isObj reports whether the current token is obj after two integers.
func (s *Sniffer) isObj() bool {
	return s.ints == 2 && s.tokLen == 3 && string(s.tok[:]) == "obj"
}

// Kind returns what the bytes written so far are. An obj at the very end
// counts: the file ends there.
func (s *Sniffer) Kind() Kind {
	switch {
	case s.header:
		return PDF
	case s.late || s.objects || (!s.comment && s.isObj()):
		return Headerless
	}
	return NotPDF
}
