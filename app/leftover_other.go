//go:build !unix

package app

import "os"

// holdExport does nothing here: while an export writes, its own handle
// keeps Windows from removing the file (a second handle would keep the
// export from renaming it into place), and a file changed within
// leftoverAge is never swept.
func holdExport(string) (release func()) { return func() {} }

// removeIfAbandoned removes path; a live export's file is open, and the
// removal fails.
func removeIfAbandoned(path string) { _ = os.Remove(path) }
