// Package packaging_test holds the quick checks of how Coffer is packaged,
// run by `make test`: a release build of cofferd is the same bytes from two
// folders and says which commit it is, the server's example configurations
// use only flags cofferd has, the desktop entry and AppStream metainfo
// validate and agree with FyneApp.toml, and the systemd unit is hardened.
// The slow checks of the packages themselves are `make package-check`.
package packaging_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/cli"
	"github.com/coffer-vault/coffer/internal/testenv"
)

// needTool skips without the tool, except in CI, which installs it
// (make test-deps).
func needTool(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; make test-deps must install it", tool)
		}
		t.Skipf("%s not installed (make test-deps)", tool)
	}
	return p
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// stamp is what packaging/build.sh stamps into binaries of this checkout.
func stamp(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, root, nil, "packaging/build.sh", "stamp")), "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	for _, k := range []string{"VERSION", "COMMIT", "DATE", "SOURCE_DATE_EPOCH"} {
		if m[k] == "" {
			t.Fatalf("build.sh stamp gave no %s: %v", k, m)
		}
	}
	return m
}

// copySource copies the files git knows of (committed or not, not ignored)
// to dir, without .git: a source tarball, as a reviewer might rebuild from.
func copySource(t *testing.T, root, dir string) {
	t.Helper()
	list := run(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, rel := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		if rel == "cofferd.exe" {
			continue
		}
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func sum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// TestReproducibleCofferd builds cofferd as a release is built, from this
// checkout and from a copy of its source in another folder (stamped from
// the environment, as a source tarball is) with an empty build cache, so
// that nothing of the first build is reused, and wants the same bytes, no
// build path inside, no dynamic linking, and --version naming the commit.
// The cold build takes about a minute on 2 cores. make repro-check (in
// make package-check) does the same for the desktop app too, whose cold
// build of Fyne's C part takes several minutes: too slow for make test.
func TestReproducibleCofferd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cofferd twice")
	}
	needTool(t, "git")
	root := testenv.RepoRoot(t)
	st := stamp(t, root)
	tmp := t.TempDir()
	a := filepath.Join(tmp, "a", "cofferd")
	run(t, root, nil, "packaging/build.sh", "cofferd", a)

	src := filepath.Join(tmp, "b", "a", "different", "place", "coffer-src")
	copySource(t, root, src)
	b := filepath.Join(tmp, "b", "cofferd")
	run(t, src, []string{"SOURCE_DATE_EPOCH=" + st["SOURCE_DATE_EPOCH"], "COFFER_COMMIT=" + st["COMMIT"], "COFFER_VERSION=" + st["VERSION"],
		"GOCACHE=" + filepath.Join(tmp, "b", "gocache")},
		"packaging/build.sh", "cofferd", b)

	if sa, sb := sum(t, a), sum(t, b); sa != sb {
		t.Errorf("two builds of one source differ:\n%s %s\n%s %s", sa, a, sb, b)
	} else {
		t.Logf("cofferd sha256 %s from both", sa)
	}
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{root, src, tmp} {
		if bytes.Contains(data, []byte(p)) {
			t.Errorf("the binary holds the build path %s", p)
		}
	}

	f, err := elf.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("cofferd is dynamically linked (%v)", p.Type)
		}
	}

	got := strings.TrimSpace(run(t, tmp, nil, a, "--version"))
	want := "cofferd version " + st["VERSION"] + " (commit " + st["COMMIT"] + ", " + st["DATE"] + ", go"
	if !strings.HasPrefix(got, want) {
		t.Errorf("cofferd --version:\n got %q\nwant %q…", got, want)
	}
}

// flagsIn returns the --flags a command line uses.
func flagsIn(s string) []string {
	return regexp.MustCompile(`--[a-z][a-z0-9-]*`).FindAllString(s, -1)
}

// TestServerExamplesMatchCofferd keeps the examples honest: the unit, the
// embedded and PostgreSQL+S3 examples and the TLS drop-in use only flags
// `cofferd serve` has; the PostgreSQL+S3 example said it was not built for
// as long as serve lacked --postgres, and must not say so now.
func TestServerExamplesMatchCofferd(t *testing.T) {
	_, cofferd := cli.Roots(cli.Env{})
	serve, _, err := cofferd.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	has := func(flag string) bool { return serve.Flags().Lookup(strings.TrimPrefix(flag, "--")) != nil }
	dir := filepath.Join(testenv.RepoRoot(t), "packaging")
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for _, name := range []string{"cofferd.service", "server/tls-credentials.conf", "server/embedded.env", "server/postgres-s3.env"} {
		var lines []string
		for _, line := range strings.Split(read(name), "\n") {
			if strings.HasPrefix(line, "ExecStart=/") || strings.HasPrefix(line, "COFFERD_OPTS=") || strings.Contains(line, "COFFERD_STORAGE=") {
				lines = append(lines, line)
			}
		}
		if len(lines) == 0 {
			t.Errorf("%s: no ExecStart or COFFERD_OPTS line", name)
		}
		for _, line := range lines {
			for _, f := range flagsIn(line) {
				if !has(f) {
					t.Errorf("%s: cofferd serve has no %s: %s", name, f, line)
				}
			}
		}
	}
	pg := read("server/postgres-s3.env")
	built := has("--postgres") && has("--s3")
	says := strings.Contains(pg, "NOT BUILT YET")
	switch {
	case !built && !says:
		t.Error("postgres-s3.env must say the scale-out store is not built: cofferd serve has no --postgres/--s3")
	case built && says:
		t.Error("cofferd serve has --postgres and --s3 now: postgres-s3.env must stop saying NOT BUILT YET")
	}
}

// TestDesktopEntryAndMetainfo validates the files the .deb installs and
// checks they agree with each other and with cmd/coffer/FyneApp.toml.
func TestDesktopEntryAndMetainfo(t *testing.T) {
	root := testenv.RepoRoot(t)
	desktop := filepath.Join(root, "packaging", "linux", "dev.coffer.desktop.desktop")
	metainfo := filepath.Join(root, "packaging", "linux", "dev.coffer.desktop.metainfo.xml")
	toml, err := os.ReadFile(filepath.Join(root, "cmd", "coffer", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(re, s string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no match for %s", re)
		}
		return m[1]
	}
	id := field(`(?m)^ID = "(.*)"$`, string(toml))
	version := field(`(?m)^Version = "(.*)"$`, string(toml))
	d, err := os.ReadFile(desktop)
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(metainfo)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(desktop) != id+".desktop" || filepath.Base(metainfo) != id+".metainfo.xml" {
		t.Errorf("the files must be named after the app ID %s", id)
	}
	if got := field(`(?m)^Icon=(.*)$`, string(d)); got != id {
		t.Errorf("desktop Icon=%s, want %s (the icon's name in the .deb)", got, id)
	}
	if got := field(`(?m)^Exec=(\S+)`, string(d)); got != "coffer" {
		t.Errorf("desktop Exec=%s, want coffer", got)
	}
	if got := field(`<id>(.*)</id>`, string(m)); got != id {
		t.Errorf("metainfo id %s, want %s", got, id)
	}
	if got := field(`<launchable type="desktop-id">(.*)</launchable>`, string(m)); got != id+".desktop" {
		t.Errorf("metainfo launchable %s, want %s.desktop", got, id)
	}
	if got := field(`<release version="([^"]*)"`, string(m)); got != version {
		t.Errorf("metainfo's newest release is %s, FyneApp.toml's version %s: add a <release>", got, version)
	}
	run(t, root, nil, needTool(t, "desktop-file-validate"), desktop)
	run(t, root, nil, needTool(t, "appstreamcli"), "validate", "--no-net", metainfo)
}

// TestUnitHardening wants the hardening the issue asks for in the unit,
// and systemd's own offline rating of it at "OK" (2.0 or less of 10).
func TestUnitHardening(t *testing.T) {
	unit := filepath.Join(testenv.RepoRoot(t), "packaging", "cofferd.service")
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=cofferd", "COFFERD_STORAGE=--data /var/lib/cofferd", "serve $COFFERD_STORAGE",
		"NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("cofferd.service lacks %q", want)
		}
	}
	out := run(t, filepath.Dir(unit), nil, needTool(t, "systemd-analyze"), "security", "--offline=yes", "--no-pager", unit)
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security: %s", m[0])
	if score > 2.0 {
		t.Errorf("exposure %.1f, want 2.0 or less:\n%s", score, out)
	}
}
