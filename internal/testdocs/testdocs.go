// Package testdocs makes real Office documents for tests and benchmarks:
// Word, PowerPoint and OpenDocument files written by LibreOffice itself
// from a flat OpenDocument source built here, so that tests need no
// binary fixtures and know exactly what text each page holds.
//
// Every page (or slide) n, from 1, holds the words of Marker(marker, n);
// page 1 of a text document also holds a table and a list. Documents are
// made once per test process for each set of arguments, in a temp folder
// that is removed before they are returned: what tests then watch for
// plaintext on disk is not confused by the making.
package testdocs

import (
	"archive/zip"
	"bytes"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coffer-vault/coffer/preview/office"
)

// Filters are LibreOffice's export filters for the formats made here.
var filters = map[string]string{
	".docx": "docx:MS Word 2007 XML",
	".doc":  "doc:MS Word 97",
	".odt":  "odt:writer8",
	".rtf":  "rtf:Rich Text Format",
	".pptx": "pptx:Impress MS PowerPoint 2007 XML",
	".ppt":  "ppt:MS PowerPoint 97",
	".odp":  "odp:impress8",
}

// Stored returns a zip (a .docx, .pptx, .odt) with every part stored
// uncompressed, as a valid document: the text of its XML parts then shows
// in its bytes, so that a copy of it, or of a part, on disk is found by
// looking for that text.
func Stored(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Marker is the text page n of a document made with marker carries, in
// one word: "<marker>P007".
func Marker(marker string, n int) string { return fmt.Sprintf("%sP%03d", marker, n) }

type key struct {
	ext, marker string
	n           int
}

var (
	mu   sync.Mutex
	made = map[key][]byte{}
)

// Soffice returns the LibreOffice the tests run, failing the test when
// there is none: `make test-deps` installs it.
func Soffice(t testing.TB) office.Product {
	t.Helper()
	p, err := office.Find("")
	if err != nil {
		t.Fatalf("%v (make test-deps installs Debian's libreoffice-core-nogui and its filters)", err)
	}
	return p
}

// Text returns a text document in format ext (.docx, .doc, .odt, .rtf) of
// pages A4 pages.
func Text(t testing.TB, ext string, pages int, marker string) []byte {
	return get(t, key{ext, marker, pages}, "fodt", func() string { return textSource(pages, marker) })
}

// Slides returns a presentation in format ext (.pptx, .ppt, .odp) of n
// 16:9 slides.
func Slides(t testing.TB, ext string, n int, marker string) []byte {
	return get(t, key{ext, marker, n}, "fodp", func() string { return slideSource(n, marker) })
}

func get(t testing.TB, k key, srcExt string, source func() string) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if b, ok := made[k]; ok {
		return b
	}
	filter, ok := filters[k.ext]
	if !ok {
		t.Fatalf("testdocs: no filter for %s", k.ext)
	}
	b := convert(t, source(), srcExt, k.ext, filter)
	made[k] = b
	return b
}

// PDF returns LibreOffice's own PDF of data, a document in format ext,
// converted plainly (no sandbox, a profile of LibreOffice's defaults): the
// reference previews are compared with.
func PDF(t testing.TB, data []byte, ext string) []byte {
	t.Helper()
	return convertBytes(t, data, strings.TrimPrefix(ext, "."), ".pdf", "pdf")
}

// convert has LibreOffice write src (a flat OpenDocument file) as ext.
func convert(t testing.TB, src, srcExt, ext, filter string) []byte {
	t.Helper()
	return convertBytes(t, []byte(src), srcExt, ext, filter)
}

func convertBytes(t testing.TB, src []byte, srcExt, ext, filter string) []byte {
	t.Helper()
	p := Soffice(t)
	dir, err := os.MkdirTemp("", "coffer-testdocs-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "source."+srcExt)
	if err := os.WriteFile(in, src, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.Program, "-env:UserInstallation=file://"+filepath.ToSlash(filepath.Join(dir, "profile")),
		"--headless", "--norestore", "--nolockcheck", "--convert-to", filter, "--outdir", dir, in)
	cmd.Env = append(os.Environ(), "HOME="+dir, "TMPDIR="+dir)
	out := filepath.Join(dir, "source"+ext)
	var log []byte
	for range 3 { // a new profile makes LibreOffice exit with 81 and ask to be started again
		log, err = cmd.CombinedOutput()
		if _, serr := os.Stat(out); serr == nil {
			break
		}
		cmd = exec.Command(cmd.Path, cmd.Args[1:]...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "TMPDIR="+dir)
	}
	b, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatalf("testdocs: LibreOffice wrote no %s: %v %v\n%s", ext, rerr, err, log)
	}
	return b
}

const odfNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ` +
	`xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" ` +
	`xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ` +
	`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ` +
	`xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" ` +
	`xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" ` +
	`xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" ` +
	`xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" ` +
	`xmlns:dc="http://purl.org/dc/elements/1.1/"`

// textSource is a flat ODF text document: a title, then per page a
// heading starting a new page, its marker, and prose; a table and a list
// on page 1. Calibri (Carlito where it is missing) 11 pt, A4.
func textSource(pages int, marker string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<office:document %s office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>Term sheet %s</dc:title></office:meta>
<office:font-face-decls><style:font-face style:name="Calibri" svg:font-family="Calibri"/></office:font-face-decls>
<office:styles>
<style:default-style style:family="paragraph"><style:text-properties style:font-name="Calibri" fo:font-size="11pt"/></style:default-style>
</office:styles>
<office:automatic-styles>
<style:page-layout style:name="A4"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin="2cm"/></style:page-layout>
<style:style style:name="Title" style:family="paragraph"><style:text-properties fo:font-size="24pt" fo:font-weight="bold"/></style:style>
<style:style style:name="H" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/><style:text-properties fo:font-size="16pt" fo:font-weight="bold" fo:color="#1F4E79"/></style:style>
<style:style style:name="H1" style:family="paragraph"><style:text-properties fo:font-size="16pt" fo:font-weight="bold" fo:color="#1F4E79"/></style:style>
<style:style style:name="Cell" style:family="table-cell"><style:table-cell-properties fo:border="0.5pt solid #000000" fo:padding="0.1cm"/></style:style>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="A4"/></office:master-styles>
<office:body><office:text>
<text:p text:style-name="Title">Term sheet %s</text:p>
`, odfNS, html.EscapeString(marker), html.EscapeString(marker))
	for n := 1; n <= pages; n++ {
		style := "H"
		if n == 1 {
			style = "H1"
		}
		fmt.Fprintf(&b, `<text:p text:style-name="%s">Section %d %s</text:p>
`, style, n, Marker(marker, n))
		if n == 1 {
			b.WriteString(`<table:table table:name="Terms"><table:table-column table:number-columns-repeated="2"/>`)
			for _, row := range [][2]string{{"Issuer", "Example Holdings plc"}, {"Amount", "EUR 500,000,000"}, {"Coupon", "4.25% fixed"}} {
				fmt.Fprintf(&b, `<table:table-row><table:table-cell table:style-name="Cell"><text:p>%s</text:p></table:table-cell><table:table-cell table:style-name="Cell"><text:p>%s</text:p></table:table-cell></table:table-row>`, row[0], row[1])
			}
			b.WriteString(`</table:table>
<text:list><text:list-item><text:p>Listing on the regulated market</text:p></text:list-item><text:list-item><text:p>Governing law: English</text:p></text:list-item></text:list>
`)
		}
		for i := range 4 {
			fmt.Fprintf(&b, `<text:p>Paragraph %d of section %d. The Issuer shall pay interest on each Interest Payment Date at the Rate of Interest, calculated on the basis of the actual number of days elapsed, and the Holders may require redemption upon a Change of Control.</text:p>
`, i+1, n)
		}
	}
	b.WriteString("</office:text></office:body></office:document>\n")
	return b.String()
}

// slideSource is a flat ODF presentation of n 28 × 15.75 cm slides, each
// with a title holding its marker and three bullet points.
func slideSource(n int, marker string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<office:document %s office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:meta><dc:title>Pitch book %s</dc:title></office:meta>
<office:automatic-styles>
<style:page-layout style:name="PM1"><style:page-layout-properties fo:margin="0cm" fo:page-width="28cm" fo:page-height="15.75cm" style:print-orientation="landscape"/></style:page-layout>
<style:style style:name="T" style:family="paragraph"><style:text-properties fo:font-size="32pt" fo:font-weight="bold" fo:color="#C00000"/></style:style>
<style:style style:name="B" style:family="paragraph"><style:text-properties fo:font-size="20pt"/></style:style>
</office:automatic-styles>
<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1"/></office:master-styles>
<office:body><office:presentation>
`, odfNS, html.EscapeString(marker))
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<draw:page draw:name="Slide %d" draw:master-page-name="Default">
<draw:frame svg:x="2cm" svg:y="1cm" svg:width="24cm" svg:height="3cm"><draw:text-box><text:p text:style-name="T">Slide %d %s</text:p></draw:text-box></draw:frame>
<draw:frame svg:x="2cm" svg:y="5cm" svg:width="24cm" svg:height="9cm"><draw:text-box><text:list>
<text:list-item><text:p text:style-name="B">Revenue grew %d%% year on year</text:p></text:list-item>
<text:list-item><text:p text:style-name="B">EBITDA margin 23.%d%%</text:p></text:list-item>
<text:list-item><text:p text:style-name="B">A pipeline of %d mandates</text:p></text:list-item>
</text:list></draw:text-box></draw:frame>
</draw:page>
`, i, i, Marker(marker, i), i, i%10, 3*i)
	}
	b.WriteString("</office:presentation></office:body></office:document>\n")
	return b.String()
}
