package pdfstamp_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/pdfstamp"
	"github.com/coffer-vault/coffer/watermark"
)

func spec() watermark.Spec {
	return watermark.Spec{Name: "Ann 100% Trader", Email: "ann@example.com", Device: "vm",
		Time: time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC), TraceCode: "K7Q4M-ZP2XA"}
}

// TestStampsEveryPage stamps the corpus PDFs and reads the result back
// with pdfcpu: same page count, watermarks present. HOME points at an empty
// folder so that a config directory written by pdfcpu would be seen.
func TestStampsEveryPage(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	stamped := map[string][2][]byte{}
	for _, name := range []string{"asy-latex.pdf", "reportlab-userguide.pdf"} {
		in, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "pdf", name))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := pdfstamp.Stamp(bytes.NewReader(in), &out, spec()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		stamped[name] = [2][]byte{in, out.Bytes()}
	}
	// Checked before this test makes a pdfcpu configuration of its own.
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Errorf("pdfcpu wrote to the home folder: %v", entries)
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	for name, io := range stamped {
		in, out := io[0], bytes.NewBuffer(io[1])
		want, err := api.PageCount(bytes.NewReader(in), conf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := api.PageCount(bytes.NewReader(out.Bytes()), conf)
		if err != nil || got != want {
			t.Errorf("%s: %d pages after stamping, %d before (%v)", name, got, want, err)
		}
		has, err := api.HasWatermarks(bytes.NewReader(out.Bytes()), conf)
		if err != nil || !has {
			t.Errorf("%s: no watermark found in the stamped copy (%v)", name, err)
		}
	}
}

func TestRefusesBadInput(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"truncated": in[:len(in)/3],
		"text":      []byte("%PDF-1.7 but not really\n"),
		"empty":     nil,
		"png":       []byte("\x89PNG\r\n\x1a\n"),
	} {
		var out bytes.Buffer
		if err := pdfstamp.Stamp(bytes.NewReader(data), &out, spec()); !errors.Is(err, pdfstamp.ErrNotPDF) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var out bytes.Buffer
	if err := pdfstamp.Stamp(bytes.NewReader(in), &out, watermark.Spec{Name: "x"}); err == nil {
		t.Error("stamped without a trace code")
	}
}
