package pdfstamp

import (
	"fmt"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// This file is the one boundary between Coffer and pdfcpu's process-wide
// state: pdfcpu keeps its configuration path in a package variable and,
// left alone, creates a config directory in the user's profile on first
// use. Every call into pdfcpu goes through withPDFCPU.

// pdfcpuSetup makes pdfcpu use built-in defaults and never touch the
// user's config directory. It is the only package-level state here, and it
// only ever moves pdfcpu's global from "unset" to "disabled".
var pdfcpuSetup sync.Once

// withPDFCPU runs fn after pdfcpu is set up, turning a pdfcpu panic (it
// panics on some malformed input) into an error wrapping ErrNotPDF.
func withPDFCPU(fn func(conf *model.Configuration) error) (err error) {
	pdfcpuSetup.Do(api.DisableConfigDir)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: pdfcpu failed: %v", ErrNotPDF, p)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Cmd = model.ADDWATERMARKS
	conf.OptimizeDuplicateContentStreams = false
	return fn(conf)
}
