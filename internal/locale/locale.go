// Package locale makes the POSIX "C" locale readable to the GUI toolkit.
//
// Fyne parses the user's locale while its packages initialise, and logs an
// error to stderr for "C" or "POSIX" (common on servers and in CI), which
// would put noise on stderr of every command of the CLI. Importing this
// package from main sets LANG to en_US.UTF-8 when the locale is unset, C or
// POSIX, before Fyne's packages initialise: Go initialises packages in
// import-path order once their imports are ready, and this one needs only
// os and strings, so it runs before fyne.io/fyne/v2/lang's dependencies
// under github.com/j… and github.com/n…. cmd/coffer's
// TestQuietStderrUnderCLocale checks that on the real binary.
package locale

import (
	"os"
	"strings"
)

func init() {
	if posix(os.Getenv("LC_ALL")) && posix(os.Getenv("LC_MESSAGES")) && posix(os.Getenv("LANG")) {
		os.Setenv("LANG", "en_US.UTF-8")
	}
}

// posix reports whether a locale value names no language.
func posix(v string) bool {
	v = strings.ToUpper(strings.SplitN(v, ".", 2)[0])
	return v == "" || v == "C" || v == "POSIX"
}
