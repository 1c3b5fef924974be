package pdf_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"syscall"
	"testing"
	"time"

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

// recursivePDF draws a form that draws itself twice: PDFium follows it
// until its memory runs out.
func recursivePDF() []byte {
	form := "/X Do /X Do"
	return writePDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> >> /Contents 5 0 R >>",
		fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /XObject << /X 4 0 R >> >> /Length %d >>\nstream\n%s\nendstream", len(form), form),
		"<< /Length 5 >>\nstream\n/X Do\nendstream",
	}, "")
}

// A 400-byte PDF that drives PDFium to the sandbox's memory cap fails
// with a plain error — not wazero's stack trace — and the process stays
// near the cap: the sandbox's memory grew as a Go slice, by copying, and
// one page took 4.5 GB resident for a 1 GiB cap. Measured in a child
// process of its own (COFFER_TEST_RECURSIVE), whose peak resident size
// the parent reads.
func TestMemoryCapHolds(t *testing.T) {
	if os.Getenv("COFFER_TEST_RECURSIVE") == "1" {
		// A render timeout of its own: on a loaded machine the climb to
		// the cap took longer than the default 10 s, and the timeout is
		// not what this test is about.
		doc, err := newRenderer(t, pdf.Options{Timeout: 5 * time.Minute}).Open(context.Background(), recursivePDF())
		if err == nil {
			_, err = doc.Render(context.Background(), 0, 72)
			doc.Close()
		}
		fmt.Printf("render error: %v\n", err)
		return
	}
	if testing.Short() {
		t.Skip("renders a page to the memory cap (5 s)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryCapHolds$", "-test.count=1")
	cmd.Env = append(os.Environ(), "COFFER_TEST_RECURSIVE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no resource usage on this system")
	}
	peak := int64(ru.Maxrss) << 10 // KiB on Linux
	if runtime.GOOS == "darwin" {
		peak = int64(ru.Maxrss) // bytes
	}
	t.Logf("peak resident %d MiB; %s", peak>>20, bytes.TrimSpace(out))
	if peak > 2<<30 {
		t.Errorf("rendering to a 1 GiB cap took %d MiB resident", peak>>20)
	}
	if !bytes.Contains(out, []byte("PDFium stopped on it")) || bytes.Contains(out, []byte("wasm stack trace")) {
		t.Errorf("the error says: %s", out)
	}
}

// Renders killed by their deadline, again and again, mid-way: the
// instance's memory is freed while PDFium may still run until its next
// check, and the process goes on. Unmapped at once, it faulted in the
// JIT code (fatal, no recover) within a few kills, most runs.
func TestKilledWhileRendering(t *testing.T) {
	r := newRenderer(t, pdf.Options{Timeout: 10 * time.Second})
	for i := range 40 {
		doc, err := r.Open(context.Background(), slowPDF(9))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(20+(i*37)%300)*time.Millisecond)
		_, err = doc.Render(ctx, 0, 72)
		cancel()
		doc.Close()
		if err == nil {
			t.Logf("render %d finished within its deadline", i)
		}
	}
	// The renderer still works.
	doc, err := r.Open(context.Background(), minimalPDF())
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if _, err := doc.Render(context.Background(), 0, 72); err != nil {
		t.Fatalf("a render after the kills: %v", err)
	}
}
