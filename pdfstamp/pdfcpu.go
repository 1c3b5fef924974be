package pdfstamp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/coffer-vault/coffer/assets"
)

// This file is the one boundary between Coffer and pdfcpu's process-wide
// state: pdfcpu keeps its configuration path and its user fonts in package
// variables and, left alone, creates a config directory in the user's
// profile on first use. Every call into pdfcpu goes through withPDFCPU.

// The names pdfcpu knows the stamp's Unicode fonts by: assets.UnicodeFont,
// and assets.StampHangulFont for text with Korean Hangul.
const (
	unicodeFont = "CofferStampSans"
	hangulFont  = "CofferStampHangul"
)

// userFonts returns the fonts setupPDFCPU installs, by pdfcpu name.
func userFonts() map[string][]byte {
	return map[string][]byte{unicodeFont: assets.UnicodeFont(), hangulFont: assets.StampHangulFont()}
}

// pdfcpuGlobals mirrors what Coffer set in pdfcpu's globals; it is the
// only package-level state here. setupPDFCPU makes pdfcpu use built-in
// defaults (never the user's config directory) and installs the stamp's
// Unicode fonts (userFonts) as pdfcpu user fonts. pdfcpu reads user fonts
// from files, so the fonts' pdfcpu form is kept in a folder of Coffer's
// user cache named after the fonts' hash (fonts, not documents: nothing
// confidential), or of the temporary folder; a font is written again if it
// went missing since.
var pdfcpuGlobals struct {
	sync.Mutex
	fontDir string // pdfcpu's font.UserFontDir, once chosen
	loaded  bool   // pdfcpu has read the font's metrics
}

func setupPDFCPU() error {
	g := &pdfcpuGlobals
	g.Lock()
	defer g.Unlock()
	fonts := userFonts()
	if g.fontDir == "" {
		api.DisableConfigDir()
		h := sha256.New()
		for _, name := range []string{unicodeFont, hangulFont} {
			h.Write([]byte(name))
			h.Write(fonts[name])
		}
		sum := h.Sum(nil)
		base := os.TempDir()
		if cache, err := os.UserCacheDir(); err == nil {
			base = filepath.Join(cache, "coffer")
		}
		g.fontDir = filepath.Join(base, "pdf-fonts-"+hex.EncodeToString(sum[:6]))
		font.UserFontDir = g.fontDir
	}
	for name, ttf := range fonts {
		if _, err := os.Stat(filepath.Join(g.fontDir, name+".gob")); err == nil {
			continue
		}
		if err := os.MkdirAll(g.fontDir, 0o700); err != nil {
			return fmt.Errorf("pdfstamp: no folder for the stamp font: %w", err)
		}
		if err := font.InstallFontFromBytesQuiet(g.fontDir, name, ttf); err != nil {
			return fmt.Errorf("pdfstamp: installing the stamp font in %s: %w", g.fontDir, err)
		}
		g.loaded = false
	}
	if !g.loaded {
		if err := font.ReloadUserFonts(); err != nil {
			return fmt.Errorf("pdfstamp: loading the stamp font from %s: %w", g.fontDir, err)
		}
		g.loaded = true
	}
	return nil
}

// withPDFCPU runs fn after pdfcpu is set up, turning a pdfcpu panic (it
// panics on some malformed input) into an error wrapping ErrNotPDF.
func withPDFCPU(fn func(conf *model.Configuration) error) (err error) {
	if err := setupPDFCPU(); err != nil {
		return err
	}
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
