package pdfstamp_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/pdfstamp"
)

// TestSniff classifies documents by their bytes as PDF readers would,
// whole and written in pieces of every size from 1 byte: the answer must
// not depend on how the bytes arrive.
func TestSniff(t *testing.T) {
	pdf, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	noise = bytes.ReplaceAll(noise, []byte("obj"), []byte("ob_"))
	pad := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	body := pdf[len("%PDF-1.5"):] // objects, without the signature
	for _, c := range []struct {
		name string
		data []byte
		want pdfstamp.Kind
	}{
		{"a PDF", pdf, pdfstamp.PDF},
		{"a PDF after 1018 bytes of junk", append(pad(1018), pdf...), pdfstamp.PDF},
		{"a PDF whose signature starts at byte 1023", append(pad(1023), pdf...), pdfstamp.PDF},
		{"a PDF whose signature starts at byte 1024", append(pad(1024), pdf...), pdfstamp.Headerless},
		{"a PDF after 3000 bytes of junk", append(pad(3000), pdf...), pdfstamp.Headerless},
		{"objects without a signature", body, pdfstamp.Headerless},
		{"one object at the very end", []byte("notes\n1 0 obj"), pdfstamp.Headerless},
		{"one object, tabs and a delimiter", []byte("notes\n12\t0\r\nobj<</Type/Catalog>>"), pdfstamp.Headerless},
		{"comments between the numbers and obj", []byte("notes\n1 0 %c\nobj<</Type/Catalog>>"), pdfstamp.Headerless},
		{"comments everywhere", []byte("%x\n1%a\r0%b\r\nobj%c\n"), pdfstamp.Headerless},
		{"a long comment before obj", append(append([]byte("7 0 %"), pad(20000)...), "\nobj <<>>"...), pdfstamp.Headerless},
		{"an object behind a comment mark", []byte("note: %1 0 obj\n"), pdfstamp.Headerless}, // an xref table may point past the %
		{"signed numbers", []byte("+1 +0 obj<<>>"), pdfstamp.Headerless},
		{"a long number", []byte("0000000000001 0 obj<<>>"), pdfstamp.Headerless},
		{"obj right after the generation", []byte("1 0obj<<>>"), pdfstamp.Headerless},
		{"obj right after the generation, a comment before it", []byte("1 %x\n0obj"), pdfstamp.Headerless},
		{"a comment ending the numbers' line", []byte("1 0 % obj\n"), pdfstamp.NotPDF},
		{"a name between", []byte("1 0 /x obj"), pdfstamp.NotPDF},
		{"text", []byte("Trade 12 lots at 0.5 objective: 3 0 objects\n"), pdfstamp.NotPDF},
		{"text about the format", []byte("A PDF starts with a signature; objects are numbered.\n"), pdfstamp.NotPDF},
		{"numbers glued to a word", []byte("x12 0 obj"), pdfstamp.NotPDF},
		{"noise", noise, pdfstamp.NotPDF},
		{"empty", nil, pdfstamp.NotPDF},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n"), pdfstamp.NotPDF},
	} {
		if got := pdfstamp.Sniff(c.data); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		for size := 1; size <= 9; size++ {
			var s pdfstamp.Sniffer
			for rest := c.data; len(rest) > 0; {
				n := min(size, len(rest))
				s.Write(rest[:n])
				rest = rest[n:]
			}
			if got := s.Kind(); got != c.want {
				t.Errorf("%s, in %d-byte writes: %v, want %v", c.name, size, got, c.want)
				break
			}
		}
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("%PDF-1.7\n1 0 obj\n"), 3)
	f.Add([]byte("junk 1 0 obj <<>>"), 1)
	f.Add([]byte("1 0 %c\nobj %d\r2 0 obj"), 2)
	f.Add([]byte("+1 +0obj %1 0 obj"), 5)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		size = 1 + abs(size)%64
		var s pdfstamp.Sniffer
		for rest := data; len(rest) > 0; {
			n := min(size, len(rest))
			s.Write(rest[:n])
			rest = rest[n:]
		}
		if got, want := s.Kind(), pdfstamp.Sniff(data); got != want {
			t.Errorf("in %d-byte writes %v, whole %v", size, got, want)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
