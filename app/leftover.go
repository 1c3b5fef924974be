package app

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// exportTempPrefix names the temporary file an export writes beside its
// destination before it appears there (Export).
const exportTempPrefix = ".coffer-export-"

// leftoverAge is how long a temporary export file must have been left
// unchanged before a sweep may take it: an export creates its file and
// only then holds it (holdExport), and places it soon after writing its
// last byte.
const leftoverAge = 10 * time.Minute

// sweepExportLeftovers removes from dir the temporary files of exports
// that were killed before they finished (a partial or whole plaintext
// copy, hidden, that nothing would ever remove): regular files of this
// user named as os.CreateTemp names them (the prefix, then digits), not
// changed for leftoverAge, that no live export holds (holdExport). Best
// effort: what cannot be removed stays for the next export there.
func sweepExportLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		digits, ok := strings.CutPrefix(e.Name(), exportTempPrefix)
		if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < leftoverAge {
			continue
		}
		removeIfAbandoned(filepath.Join(dir, e.Name()))
	}
}
