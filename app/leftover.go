package app

import (
	"os"
	"path/filepath"
	"strings"
)

// exportTempPrefix names the temporary file an export writes beside its
// destination before it appears there (Export).
const exportTempPrefix = ".coffer-export-"

// sweepExportLeftovers removes from dir the temporary files of exports
// that were killed before they finished (a partial or whole plaintext
// copy, hidden, that nothing would ever remove): files of this user named
// like one, that no live export holds (holdsExport). Best effort: what
// cannot be removed stays for the next export there.
func sweepExportLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), exportTempPrefix) || !e.Type().IsRegular() {
			continue
		}
		removeIfAbandoned(filepath.Join(dir, e.Name()))
	}
}
