package ui

import (
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/version"
)

// The About box says what coffer --version says: the version, the whole
// commit (a reviewer rebuilds from it), its time and the toolchain.
func TestVersionText(t *testing.T) {
	commit := "5ed4d00f3f4ba8d9a81f7b1464a4ba7be68a9956"
	got := versionText(version.Info{Version: "0.1.0~git20261130.5ed4d00f3f4b", Commit: commit, Date: "2026-11-30T12:42:26Z", Go: "go1.26.8"})
	for _, want := range []string{"Version 0.1.0~git20261130.5ed4d00f3f4b", "Commit " + commit, "2026-11-30T12:42:26Z", "go1.26.8"} {
		if !strings.Contains(got, want) {
			t.Errorf("About says %q, lacking %q", got, want)
		}
	}
	got = versionText(version.Info{Version: "devel", Commit: version.Unknown, Date: version.Unknown, Go: "go1.26.8"})
	if !strings.Contains(got, "development build") || !strings.Contains(got, "Commit unknown") {
		t.Errorf("an unstamped build's About says %q", got)
	}
}
