package pdf_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// sharedRenderer is one Renderer for the whole test binary: compiling PDFium
// is the expensive part. Its compilation cache lives in a directory that is
// removed when the tests end, sealed with a key made for the test binary.
var sharedRenderer struct {
	once     sync.Once
	r        *pdf.Renderer
	cacheDir string
	cacheKey []byte
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRenderer.r != nil {
		if err := sharedRenderer.r.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close shared renderer:", err)
			code = 1
		}
	}
	if sharedRenderer.cacheDir != "" {
		os.RemoveAll(sharedRenderer.cacheDir)
	}
	os.Exit(code)
}

// cached returns opts with the compilation cache shared by the tests.
func cached(t testing.TB, opts pdf.Options) pdf.Options {
	renderer(t)
	opts.CacheDir, opts.CacheKey = sharedRenderer.cacheDir, sharedRenderer.cacheKey
	return opts
}

func renderer(t testing.TB) *pdf.Renderer {
	t.Helper()
	sharedRenderer.once.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-pdf-cache-")
		if err != nil {
			sharedRenderer.err = err
			return
		}
		sharedRenderer.cacheDir, sharedRenderer.cacheKey = dir, make([]byte, pdf.CacheKeySize)
		rand.Read(sharedRenderer.cacheKey)
		sharedRenderer.r, sharedRenderer.err = pdf.NewRenderer(context.Background(),
			pdf.Options{CacheDir: dir, CacheKey: sharedRenderer.cacheKey})
	})
	if sharedRenderer.err != nil {
		t.Fatalf("NewRenderer: %v", sharedRenderer.err)
	}
	return sharedRenderer.r
}

// newRenderer builds a Renderer of its own (using the shared compilation
// cache) and closes it at the end of the test.
func newRenderer(t testing.TB, opts pdf.Options) *pdf.Renderer {
	t.Helper()
	r, err := pdf.NewRenderer(context.Background(), cached(t, opts))
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Renderer.Close: %v", err)
		}
	})
	return r
}

// corpusDir is the PDFs of the repository's test corpus.
func corpusDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testenv.Corpus(t), "pdf")
}

// corpusFiles returns the corpus's PDFs, failing the test when one is
// missing.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, f := range testenv.CorpusFiles(t) {
		if filepath.Ext(f) == ".pdf" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("the test corpus has no PDF")
	}
	return files
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// helloContent draws a filled rectangle and a line of text: never blank.
const helloContent = "0 0 1 rg 10 10 80 30 re f BT /F1 18 Tf 20 60 Td (Coffer) Tj ET"

// buildPDF writes a one-page PDF (200 × 100 pt) with a correct xref table.
// The content stream is passed through encrypt when that is not nil, and
// extraTrailer is added to the trailer dictionary.
func buildPDF(content []byte, extraObj, extraTrailer string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	if extraObj != "" {
		objs = append(objs, extraObj)
	}
	return writePDF(objs, extraTrailer)
}

// writePDF lays out objs as objects 1..n (1 must be the catalog) with a
// correct xref table.
func writePDF(objs []string, extraTrailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, extraTrailer, xref)
	return b.Bytes()
}

// minimalPDF is a handwritten one-page PDF.
func minimalPDF() []byte { return buildPDF([]byte(helloContent), "", "") }

// passwordPad is the padding string of the PDF standard security handler.
var passwordPad = []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08" +
	"\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")

func padPassword(pw string) []byte { return append([]byte(pw), passwordPad...)[:32] }

func rc4Crypt(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// encryptedPDF builds a one-page PDF protected by the standard security
// handler, revision 2 (RC4, 40-bit key; PDF reference algorithms 3.1–3.4),
// with a user password, so it cannot be opened without one.
func encryptedPDF(userPW, ownerPW string) []byte {
	const perms = int32(-44)
	id := []byte("coffer-test-id-0")
	ownerKey := md5.Sum(padPassword(ownerPW))
	o := rc4Crypt(ownerKey[:5], padPassword(userPW))

	h := md5.New()
	h.Write(padPassword(userPW))
	h.Write(o)
	binary.Write(h, binary.LittleEndian, perms)
	h.Write(id)
	fileKey := h.Sum(nil)[:5]
	u := rc4Crypt(fileKey, passwordPad)

	// The content stream is object 4, generation 0.
	objKey := md5.Sum(append(append([]byte{}, fileKey...), 4, 0, 0, 0, 0))
	content := rc4Crypt(objKey[:10], []byte(helloContent))

	encrypt := fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /O <%x> /U <%x> /P %d >>", o, u, perms)
	trailer := fmt.Sprintf("/Encrypt 6 0 R /ID [<%x> <%x>]", id, id)
	return buildPDF(content, encrypt, trailer)
}

// slowPDF nests form XObjects: the page draws X1 ten times, X1 draws X2 ten
// times, and so on, so rendering draws 10^depth rectangles from a file of a
// few kilobytes. PDFium has no budget for that; only a timeout stops it.
func slowPDF(depth int) []byte {
	const first = 5 // X1 is object 5; Xk is object 4+k
	draw := func(name string) string {
		var s bytes.Buffer
		for range 10 {
			fmt.Fprintf(&s, "/%s Do ", name)
		}
		return s.String()
	}
	stream := func(dict, content string) string {
		return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(content), content)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>",
		stream("", draw("X")),
	}
	for k := 1; k <= depth; k++ {
		dict := "/Type /XObject /Subtype /Form /BBox [0 0 200 100]"
		content := "0 0 1 rg 10 10 80 30 re f"
		if k < depth {
			dict += fmt.Sprintf(" /Resources << /XObject << /X %d 0 R >> >>", first+k)
			content = draw("X")
		}
		objs = append(objs, stream(dict, content))
	}
	return writePDF(objs, "")
}
