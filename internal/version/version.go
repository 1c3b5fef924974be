// Package version says which source a Coffer binary was built from: the
// release version, the commit and the commit's time.
//
// Release builds (make package, see packaging/README.md) stamp all three
// with the linker:
//
//	-X github.com/coffer-vault/coffer/internal/version.version=0.1.0
//	-X github.com/coffer-vault/coffer/internal/version.commit=<full hash>
//	-X github.com/coffer-vault/coffer/internal/version.date=2026-11-30T10:00:00Z
//
// The date is the commit's time (SOURCE_DATE_EPOCH), never the time of the
// build, so that two builds of one commit are the same bytes. A binary built
// without stamping (go build, go install) falls back to what the Go
// toolchain recorded: the module version and, where -buildvcs was on, the
// revision and its time.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker; see the package doc.
var (
	version string
	commit  string
	date    string
)

// Unknown stands for a field the build did not record.
const Unknown = "unknown"

// Info is what a binary knows of its own build.
type Info struct {
	// Version is the release version ("0.1.0", or
	// "0.1.0~git20261130.3a4be78" between releases); "devel" when the
	// binary was neither stamped nor installed at a module version.
	Version string
	// Commit is the full commit hash, with "+dirty" when the work tree
	// had uncommitted changes; Unknown when not recorded.
	Commit string
	// Date is the commit's time in UTC, RFC 3339; Unknown when not
	// recorded.
	Date string
	// Go is the Go toolchain that built the binary.
	Go string
}

// Get returns this binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, bi)
}

// resolve prefers the linker's stamps and fills what is missing from the
// toolchain's build information.
func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi != nil {
		info.Go = bi.GoVersion
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		var rev, at string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if info.Commit == "" && rev != "" {
			info.Commit = rev
			if dirty {
				info.Commit += "+dirty"
			}
		}
		if info.Date == "" {
			info.Date = at
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = Unknown
	}
	if info.Date == "" {
		info.Date = Unknown
	}
	return info
}

// String is the one line `coffer --version` and `cofferd --version` print
// after the program's name and the word "version":
//
//	0.1.0 (commit 3a4be78c9f12a5a0…, 2026-11-30T10:00:00Z, go1.26.8)
//
// The commit is printed whole: it is what a reviewer checks out to rebuild
// the binary bit for bit.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, i.Commit, i.Date, i.Go)
}
