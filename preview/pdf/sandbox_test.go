package pdf_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/coffer-vault/coffer/preview/pdf"
	"github.com/tetratelabs/wazero"
)

// TestSandboxFSConfigHasNoMounts inspects the configuration itself: wazero
// keeps mounts in the unexported slice fsConfig.fs. If wazero renames it
// this test fails loudly rather than passing silently.
func TestSandboxFSConfigHasNoMounts(t *testing.T) {
	cfg := pdf.SandboxFSConfig()
	if cfg == nil {
		t.Fatal("nil FSConfig: go-pdfium would mount the host root")
	}
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		t.Fatalf("unexpected FSConfig implementation %T", cfg)
	}
	fs := v.Elem().FieldByName("fs")
	if !fs.IsValid() || fs.Kind() != reflect.Slice {
		t.Fatalf("wazero's %T has no fs slice any more; update this test", cfg)
	}
	if fs.Len() != 0 {
		t.Fatalf("sandbox FSConfig has %d mounts, want 0", fs.Len())
	}
	// Sanity check of the inspection: a mount is visible to it.
	mounted := reflect.ValueOf(wazero.NewFSConfig().WithDirMount("/", "/")).Elem().FieldByName("fs")
	if mounted.Len() != 1 {
		t.Fatalf("inspection sees %d mounts in a config with one", mounted.Len())
	}
}

// TestSandboxCannotReadHostFiles asks PDFium inside a Renderer's sandbox to
// open host files by path. A readable real PDF is the decisive probe: with
// the host root mounted (go-pdfium's default, checked as a control below)
// it opens; in our sandbox it must not.
func TestSandboxCannotReadHostFiles(t *testing.T) {
	realPDF, err := filepath.Abs(corpusFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	doc, err := renderer(t).Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	for _, path := range []string{realPDF, "/etc/passwd"} {
		if err := doc.LoadPathInSandbox(path); err == nil {
			t.Errorf("the sandbox opened host file %s", path)
		} else {
			t.Logf("%s: %v", path, err)
		}
	}

	// Control: the same probe through a sandbox with go-pdfium's default
	// mount succeeds, so the failure above is the missing filesystem.
	rooted, err := pdf.NewRendererWithFS(context.Background(),
		cached(t, pdf.Options{}), wazero.NewFSConfig().WithDirMount("/", "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer rooted.Close()
	ctl, err := rooted.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.LoadPathInSandbox(realPDF); err != nil {
		t.Fatalf("control: with / mounted, loading %s failed: %v", realPDF, err)
	}
}
