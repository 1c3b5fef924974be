//go:build !unix

package app

import "os"

// holdExport does nothing here: Windows refuses to remove a file another
// process holds open, which is the mark of a live export.
func holdExport(*os.File) {}

// removeIfAbandoned removes path; a live export's file is open, and the
// removal fails.
func removeIfAbandoned(path string) { _ = os.Remove(path) }
