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
type Sniffer struct {
	n       int64  // bytes seen
	carry   []byte // the last bytes seen, for patterns across writes
	header  bool   // "%PDF-" starts before HeaderWindow
	late    bool   // "%PDF-" starts later
	objects bool   // "N G obj" seen
	pending bool   // "N G obj" ends the bytes seen: "obj" or "object"?
}

// carryLen is how many trailing bytes are kept between writes: enough for
// "%PDF-" and for the numbers and spaces before "obj".
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
		// Look at the carried bytes and p together, and keep the tail.
		// Matches within the carried bytes are found again, harmlessly.
		buf := append(s.carry, p...)
		s.scan(buf, s.n-int64(len(s.carry)))
		s.carry = append([]byte(nil), buf[len(buf)-min(len(buf), carryLen):]...)
	}
	s.n += int64(len(p))
	return len(p), nil
}

// scan looks for the signature and for objects in buf, which starts at
// file offset start.
func (s *Sniffer) scan(buf []byte, start int64) {
	for i := 0; ; {
		j := bytes.Index(buf[i:], []byte("%PDF-"))
		if j < 0 {
			break
		}
		if start+int64(i+j) < HeaderWindow {
			s.header = true
			return
		}
		s.late = true
		i += j + 1
	}
	s.pending = false
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
			s.pending = true // the next write, or the end, says
		case !isRegular(buf[at+3]):
			s.objects = true
		}
	}
}

// numberedBefore reports whether b ends with "N G " (an object number and
// generation, each followed by white space), as before "obj".
func numberedBefore(b []byte) bool {
	i := len(b)
	for round := 0; round < 2; round++ {
		spaces := i
		for i > 0 && isSpace(b[i-1]) {
			i--
		}
		digits := i
		for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
			i--
		}
		if spaces == digits || digits == i {
			return false
		}
	}
	return i == 0 || !isRegular(b[i-1])
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// isRegular reports whether c is a PDF regular character (neither white
// space nor a delimiter), which would continue a keyword.
func isRegular(c byte) bool {
	return !isSpace(c) && bytes.IndexByte([]byte("()<>[]{}/%"), c) < 0
}

// Kind returns what the bytes written so far are. A pending "obj" at the
// very end counts: the file ends there.
func (s *Sniffer) Kind() Kind {
	switch {
	case s.header:
		return PDF
	case s.late || s.objects || s.pending:
		return Headerless
	}
	return NotPDF
}
