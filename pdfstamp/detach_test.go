package pdfstamp_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/coffer-vault/coffer/internal/rawpdf"
)

// TestAttachedFilesStayBehind: a PDF can carry files of any type — in the
// EmbeddedFiles name tree, in a FileAttachment annotation, as associated
// files (/AF) given directly in the catalog. None may leave inside the
// stamped copy, where it would be unstamped: the copy holds none of their
// bytes (every stream decoded and searched), lists no attachment, and
// says how many it left out.
func TestAttachedFilesStayBehind(t *testing.T) {
	var d rawpdf.Doc
	secret := func(where string) []byte { return fmt.Appendf(nil, "%%PDF-1.4 INNER SECRET %s, no stamp", where) }
	spec := func(where string) string {
		f := d.Stream("/Type /EmbeddedFile /Subtype /application#2Fpdf", secret(where))
		return fmt.Sprintf("<< /Type /Filespec /F (%[1]s.pdf) /UF (%[1]s.pdf) /EF << /F %[2]s /UF %[2]s >> >>", where, rawpdf.Ref(f))
	}
	named := d.Add(spec("named"))
	annotFile := d.Add(spec("annotation"))
	annot := d.Add(fmt.Sprintf("<< /Type /Annot /Subtype /FileAttachment /Rect [500 700 520 720] /F 4 /FS %s /Name /PushPin >>", rawpdf.Ref(annotFile)))
	// A thumbnail (a picture of the page as it was) and an XFA form's
	// copy of the content carry no stamp either.
	thumb := d.Stream("/Width 3 /Height 7 /ColorSpace /DeviceGray /BitsPerComponent 8", []byte("INNER SECRET thumb..."))
	xfa := d.Stream("", []byte("<xdp>INNER SECRET xfa</xdp>"))
	tree := d.Reserve()
	content := d.Stream("", drawing(letter))
	page := d.Add(fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [0 0 612 792] /Contents %s /Resources << >> /Annots %s /Thumb %s >>",
		rawpdf.Ref(tree), rawpdf.Ref(content), rawpdf.Refs(annot), rawpdf.Ref(thumb)))
	d.Set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 1 >>", rawpdf.Ref(page)))
	in := d.Bytes(d.Add(fmt.Sprintf("<< /Type /Catalog /Pages %s /Names << /EmbeddedFiles << /Names [(named.pdf) %s] >> >> /AF [%s] /AcroForm << /Fields [] /XFA %s >> >>",
		rawpdf.Ref(tree), rawpdf.Ref(named), spec("associated"), rawpdf.Ref(xfa))))
	for _, w := range []string{"named", "annotation", "associated", "thumb", "xfa"} {
		if w == "thumb" || w == "xfa" {
			if !bytes.Contains(in, []byte("INNER SECRET "+w)) {
				t.Fatalf("the test document lacks its %s", w)
			}
			continue
		}
		if !bytes.Contains(in, secret(w)) {
			t.Fatalf("the test document lacks its %s file", w)
		}
	}

	res := stamp(t, in)
	if res.Detached != 3 {
		t.Errorf("%d attached files left out, want 3", res.Detached)
	}
	ctx, err := api.ReadContext(bytes.NewReader(res.PDF), nil)
	if err != nil {
		t.Fatal(err)
	}
	for nr, e := range ctx.Table {
		sd, ok := e.Object.(types.StreamDict)
		if !ok {
			continue
		}
		if err := sd.Decode(); err != nil {
			t.Fatalf("object %d: %v", nr, err)
		}
		if bytes.Contains(sd.Content, []byte("INNER SECRET")) {
			t.Errorf("object %d of the stamped copy holds an attached file: %.60q", nr, sd.Content)
		}
	}
	if bytes.Contains(res.PDF, []byte("INNER SECRET")) {
		t.Error("the stamped copy holds an attached file's bytes")
	}
	if files, err := ctx.ListAttachments(); err == nil && len(files) > 0 {
		t.Errorf("the stamped copy lists attachments: %v", files)
	}
}

// TestActionsStayBehind: a stamped copy carries no action that runs code,
// opens or sends anything, or changes what is shown once it opened —
// JavaScript on opening and in the name tree, a Launch of a program from
// a link, additional actions on the page and on a form field, a chain of
// actions after a harmless one, a link to a Windows share (which sends the
// reader's credentials to its host), actions whose type is a reference — which a viewer that runs them could
// use to cover the stamp, while the render check (PDFium runs none)
// passes. Links within the document and to the web stay.
func TestActionsStayBehind(t *testing.T) {
	var d rawpdf.Doc
	js := func(code string) string {
		return fmt.Sprintf("<< /Type /Action /S /JavaScript /JS (%s) >>", code)
	}
	open := d.Add(js("app.alert('ACTIVE open')"))
	named := d.Add(js("ACTIVE named tree"))
	launch := d.Add("<< /Type /Action /S /Launch /F (calc.exe) /Win << /F (ACTIVE-launch.exe) >> >>")
	web := d.Add("<< /Type /Action /S /URI /URI (https://example.com/kept) /Next " + js("ACTIVE chained") + " >>")
	share := d.Add("<< /Type /Action /S /URI /URI ( SMB://ACTIVE-host/share) >>") // a reader's Windows credentials, to its host
	// The type given by reference, which readers resolve.
	jsName, uriName := d.Add("/JavaScript"), d.Add("/URI")
	indirectJS := d.Add(fmt.Sprintf("<< /Type /Action /S %s /JS (ACTIVE indirect) >>", rawpdf.Ref(jsName)))
	indirectFile := d.Add(fmt.Sprintf("<< /Type /Action /S %s /URI (file:///ACTIVE/calc.exe) >>", rawpdf.Ref(uriName)))
	tree := d.Reserve()
	page := d.Reserve()
	links := d.Add(fmt.Sprintf("[<< /Type /Annot /Subtype /Link /Rect [10 10 50 50] /A %s >> << /Type /Annot /Subtype /Link /Rect [60 10 90 50] /A %s >> << /Type /Annot /Subtype /Link /Rect [100 10 140 50] /Dest [%s /Fit] >> << /Type /Annot /Subtype /Widget /FT /Tx /T (field) /Rect [150 10 250 50] /AA << /K %s >> >> << /Type /Annot /Subtype /Link /Rect [260 10 300 50] /A %s >> << /Type /Annot /Subtype /Link /Rect [310 10 350 50] /A %s >> << /Type /Annot /Subtype /Link /Rect [360 10 400 50] /A %s >>]",
		rawpdf.Ref(launch), rawpdf.Ref(web), rawpdf.Ref(page), js("ACTIVE keystroke"), rawpdf.Ref(share), rawpdf.Ref(indirectJS), rawpdf.Ref(indirectFile)))
	content := d.Stream("", drawing(letter))
	d.Set(page, fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [0 0 612 792] /Contents %s /Resources << >> /Annots %s /AA << /O %s >> >>",
		rawpdf.Ref(tree), rawpdf.Ref(content), rawpdf.Ref(links), js("ACTIVE page open")))
	d.Set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 1 >>", rawpdf.Ref(page)))
	in := d.Bytes(d.Add(fmt.Sprintf("<< /Type /Catalog /Pages %s /OpenAction %s /AA << /WC %s >> /Names << /JavaScript << /Names [(n) %s] >> >> >>",
		rawpdf.Ref(tree), rawpdf.Ref(open), js("ACTIVE will close"), rawpdf.Ref(named))))
	if n := bytes.Count(in, []byte("ACTIVE")); n != 10 {
		t.Fatalf("the test document has %d active parts, want 10", n)
	}
	res := stamp(t, in)
	// Every object as it reads, those in compressed object streams too,
	// and every stream decoded.
	ctx, err := api.ReadContext(bytes.NewReader(res.PDF), nil)
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for nr, e := range ctx.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		all.WriteString(e.Object.PDFString())
		if sd, ok := e.Object.(types.StreamDict); ok {
			if err := sd.Decode(); err != nil {
				t.Fatalf("object %d: %v", nr, err)
			}
			all.Write(sd.Content)
		}
	}
	for _, word := range []string{"ACTIVE", "/JavaScript", "/Launch", "calc.exe", "/OpenAction", "/AA"} {
		if bytes.Contains(all.Bytes(), []byte(word)) {
			i := bytes.Index(all.Bytes(), []byte(word))
			t.Errorf("the stamped copy holds %s: %q", word, all.Bytes()[max(i-200, 0):min(i+100, all.Len())])
		}
	}
	if !bytes.Contains(all.Bytes(), []byte("https://example.com/kept")) || !bytes.Contains(all.Bytes(), []byte("/Dest")) {
		t.Error("the stamped copy lost its web link or its link within the document")
	}
	if res.Disarmed < 10 {
		t.Errorf("%d actions taken out, want at least 10", res.Disarmed)
	}
}
