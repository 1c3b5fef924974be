package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
	}{
		{
			name:    "stamped by the linker wins over the toolchain",
			version: "0.1.0", commit: "3a4be78c9f12a5a0", date: "2026-11-30T10:00:00Z",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v9.9.9"},
				Settings: vcs("vcs.revision", "ffff", "vcs.time", "2001-01-01T00:00:00Z")},
			want: Info{"0.1.0", "3a4be78c9f12a5a0", "2026-11-30T10:00:00Z", "go1.26.8"},
		},
		{
			name: "go install at a module version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.2.0"}},
			want: Info{"0.2.0", Unknown, Unknown, "go1.26.8"},
		},
		{
			name: "go build in a work tree with -buildvcs",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", "abc123", "vcs.time", "2026-11-29T08:00:00Z", "vcs.modified", "true")},
			want: Info{"devel", "abc123+dirty", "2026-11-29T08:00:00Z", "go1.26.8"},
		},
		{
			name: "a clean work tree is not called dirty",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", "abc123", "vcs.modified", "false")},
			want: Info{"devel", "abc123", Unknown, "go1.26.8"},
		},
		{
			name:    "partly stamped: the rest from the toolchain",
			version: "0.1.0",
			bi: &debug.BuildInfo{GoVersion: "go1.26.8",
				Settings: vcs("vcs.revision", "abc123", "vcs.time", "2026-11-29T08:00:00Z")},
			want: Info{"0.1.0", "abc123", "2026-11-29T08:00:00Z", "go1.26.8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolve(tt.version, tt.commit, tt.date, tt.bi); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveWithoutBuildInfo(t *testing.T) {
	got := resolve("", "", "", nil)
	if got.Version != "devel" || got.Commit != Unknown || got.Date != Unknown || got.Go == "" {
		t.Errorf("got %+v", got)
	}
}

func TestString(t *testing.T) {
	got := Info{"0.1.0", "3a4be78c", "2026-11-30T10:00:00Z", "go1.26.8"}.String()
	want := "0.1.0 (commit 3a4be78c, 2026-11-30T10:00:00Z, go1.26.8)"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
