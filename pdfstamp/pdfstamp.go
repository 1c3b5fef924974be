// Package pdfstamp stamps the identity of whoever exports a PDF — name,
// e-mail, UTC time and the export's trace code — onto every page of the
// copy that leaves the vault, with pdfcpu. It works on readers and writers
// only (no temp files), keeps pdfcpu from touching the user's config
// directory, and turns any pdfcpu panic into an error here, at one
// boundary.
package pdfstamp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/coffer-vault/coffer/watermark"
)

// ErrNotPDF is wrapped when the input cannot be read as a PDF.
var ErrNotPDF = errors.New("not a readable PDF")

// Stamp writes a copy of the PDF in r to w with s's lines stamped on every
// page: diagonal, semi-transparent, under nothing (on top of the content),
// so it cannot be removed by hiding a layer.
func Stamp(r io.ReadSeeker, w io.Writer, s watermark.Spec) (err error) {
	if s.TraceCode == "" {
		return watermark.ErrEmpty
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: pdfcpu failed: %v", ErrNotPDF, p)
		}
	}()
	api.DisableConfigDir() // never create ~/.config/pdfcpu
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	wm, err := api.TextWatermark(text(s), description(s), true, false, types.POINTS)
	if err != nil {
		return fmt.Errorf("pdfstamp: %w", err)
	}
	var out bytes.Buffer
	if err := api.AddWatermarks(r, &out, nil, wm, conf); err != nil {
		return fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// text is the stamp's text, one line (pdfcpu's rotated multi-line text
// overlaps its lines).
func text(s watermark.Spec) string {
	// pdfcpu expands %-sequences in watermark text; a name must not.
	return strings.ReplaceAll(strings.Join(s.Lines(), " · "), "%", "%%")
}

// description is pdfcpu's watermark mini-language, built only here from
// typed values so nothing user-provided reaches it.
func description(s watermark.Spec) string {
	op := s.Opacity
	if op <= 0 || op > 1 {
		op = 0.3
	}
	angle := s.Angle
	if angle == 0 {
		angle = 30
	}
	return fmt.Sprintf("font:Helvetica-Bold, points:18, scale:0.9 rel, rot:%.0f, opacity:%.2f, fillcolor:#961E28, aligntext:center", angle, op)
}
