package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/coffer-vault/coffer/internal/cli"
	"github.com/coffer-vault/coffer/internal/testenv"
)

const pass = "hunter2 but longer"

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, passphrase string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "COFFER_PASSPHRASE" {
			return passphrase
		}
		return ""
	}}
	code := cli.Main(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := run(t, pass, args...)
	if r.code != 0 {
		t.Fatalf("coffer %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func expect(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := run(t, pass, args...)
	if r.code != code {
		t.Fatalf("coffer %v: exit %d, want %d\n%s%s", args, r.code, code, r.stdout, r.stderr)
	}
	return r
}

// newVault makes a vault with one folder of each class.
func newVault(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	ok(t, "init", "--vault", dir, "--user", "ann@example.com", "--name", "Ann Trader")
	for _, c := range []string{"public", "internal", "confidential", "restricted"} {
		ok(t, "folder", "create", "--vault", dir, strings.ToUpper(c[:1])+c[1:], "--class", c)
	}
	return dir
}

func TestClassesAndExportGate(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	files := testenv.CorpusFiles(t)
	pdf := filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf")
	want, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, tc := range []struct {
		folder string
		code   int
	}{{"Public", 0}, {"Internal", 0}, {"Confidential", 3}, {"Restricted", 3}} {
		ok(t, append([]string{"import", "--vault", dir, "--folder", tc.folder}, files...)...)
		dst := filepath.Join(out, tc.folder+".pdf")
		r := expect(t, tc.code, "export", "--vault", dir, tc.folder+"/asy-latex.pdf", "--out", dst)
		got, err := os.ReadFile(dst)
		switch {
		case tc.folder == "Public":
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: exported copy differs (%v)", tc.folder, err)
			}
			continue
		case tc.folder == "Internal":
			// Internal PDFs leave stamped with the exporter and a trace code.
			if err != nil || bytes.Equal(got, want) || !bytes.HasPrefix(got, []byte("%PDF")) || !strings.Contains(r.stdout, "stamped on every page") {
				t.Errorf("%s: export not stamped: %q (%v)", tc.folder, r.stdout, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: blocked export left a file at %s", tc.folder, dst)
		}
		lower := strings.ToLower(tc.folder)
		if !strings.Contains(r.stderr, `"`+tc.folder+`"`) || !strings.Contains(r.stderr, lower) {
			t.Errorf("%s: message does not name folder and class: %q", tc.folder, r.stderr)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("export directory holds %d entries, want the 2 allowed copies (no temp files)", len(entries))
	}
	log := ok(t, "audit", "--vault", dir, "--json")
	var blocked, allowed int
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var e struct{ Action, Outcome, FolderName string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if e.Action == "export" && e.Outcome == "blocked" {
			blocked++
		}
		if e.Action == "export" && e.Outcome == "ok" {
			allowed++
		}
	}
	if blocked != 2 || allowed != 2 {
		t.Errorf("audit has %d blocked and %d allowed exports, want 2 and 2:\n%s", blocked, allowed, log)
	}
}

func TestListVersionsRestore(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), "model.csv")
	write := func(s string) {
		if err := os.WriteFile(src, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a,b\n1,2\n")
	ok(t, "import", "--vault", dir, "--folder", "Internal", src)
	write("a,b\n1,3\n")
	ok(t, "import", "--vault", dir, "--folder", "Internal", src)
	if s := ok(t, "import", "--vault", dir, "--folder", "Internal", src); !strings.Contains(s, "unchanged") {
		t.Errorf("re-import: %q", s)
	}
	var files []struct {
		Name     string
		Size     int64
		Versions int
		Type     string
	}
	if err := json.Unmarshal([]byte(ok(t, "ls", "--vault", dir, "--folder", "Internal", "--json")), &files); err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "model.csv" || files[0].Versions != 2 || files[0].Size != 8 || !strings.HasPrefix(files[0].Type, "text/csv") {
		t.Fatalf("ls: %+v", files)
	}
	var folders []struct {
		Name, Class string
		Files       int
	}
	if err := json.Unmarshal([]byte(ok(t, "ls", "--vault", dir, "--json")), &folders); err != nil {
		t.Fatal(err)
	}
	if len(folders) != 4 {
		t.Fatalf("folders: %+v", folders)
	}
	ok(t, "restore", "--vault", dir, "Internal/model.csv", "--version", "1")
	var vers []struct {
		Version      int
		RestoredFrom int `json:"restored_from"`
		Current      bool
	}
	if err := json.Unmarshal([]byte(ok(t, "versions", "--vault", dir, "Internal/model.csv", "--json")), &vers); err != nil {
		t.Fatal(err)
	}
	if len(vers) != 3 || vers[2].RestoredFrom != 1 || !vers[2].Current || vers[0].Current {
		t.Fatalf("versions: %+v", vers)
	}
	dst := filepath.Join(t.TempDir(), "out.csv")
	ok(t, "export", "--vault", dir, "Internal/model.csv", "--out", dst)
	if b, _ := os.ReadFile(dst); string(b) != "a,b\n1,2\n" {
		t.Errorf("restored content %q", b)
	}
	// An existing file is not overwritten without --force.
	expect(t, 1, "export", "--vault", dir, "Internal/model.csv", "--out", dst, "--version", "2")
	ok(t, "export", "--vault", dir, "Internal/model.csv", "--out", dst, "--version", "2", "--force")
	if b, _ := os.ReadFile(dst); string(b) != "a,b\n1,3\n" {
		t.Errorf("version 2 content %q", b)
	}
	text := ok(t, "versions", "--vault", dir, "Internal/model.csv")
	if !strings.Contains(text, "restored from version 1") {
		t.Errorf("versions text: %q", text)
	}
}

func TestErrorsAndExitCodes(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	cases := []struct {
		name string
		pass string
		args []string
		code int
		msg  string
	}{
		{"wrong passphrase", "nope", []string{"ls", "--vault", dir}, 4, "wrong passphrase"},
		{"no vault flag", pass, []string{"ls"}, 2, "vault"},
		{"unknown command", pass, []string{"frobnicate"}, 2, "unknown command"},
		{"bad class", pass, []string{"folder", "create", "--vault", dir, "X", "--class", "secret"}, 2, "unknown class"},
		{"no slash", pass, []string{"versions", "--vault", dir, "justafile"}, 2, "FOLDER/FILE"},
		{"missing folder", pass, []string{"ls", "--vault", dir, "--folder", "Nope"}, 1, "folders: "},
		{"missing file", pass, []string{"versions", "--vault", dir, "Public/nope.txt"}, 1, `no file "nope.txt" in folder "Public"`},
		{"not a vault", pass, []string{"ls", "--vault", t.TempDir()}, 1, "coffer init"},
		{"duplicate folder", pass, []string{"folder", "create", "--vault", dir, "Public", "--class", "public"}, 1, "exists"},
		{"missing import file", pass, []string{"import", "--vault", dir, "--folder", "Public", "/nonexistent/x.pdf"}, 1, "no such file"},
		{"import a directory", pass, []string{"import", "--vault", dir, "--folder", "Public", t.TempDir()}, 1, "not a regular file"},
		{"no passphrase", "", []string{"ls", "--vault", dir}, 1, "COFFER_PASSPHRASE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.pass, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.msg)
			}
			if !strings.HasPrefix(r.stderr, "coffer: ") {
				t.Errorf("message lacks the coffer: prefix: %q", r.stderr)
			}
		})
	}
}

func TestHostileFileNames(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := t.TempDir()
	names := []string{"line\nbreak.txt", "..foo", "CON", "aux.pdf", "Ünïcødé 文件 📄.md", "tab\tname", strings.Repeat("n", 255), "-dash.txt", `"quoted"`}
	var paths []string
	for i, n := range names {
		p := filepath.Join(src, n)
		if err := os.WriteFile(p, []byte{'0' + byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	ok(t, append([]string{"import", "--vault", dir, "--folder", "Public", "--"}, paths...)...)
	text := ok(t, "ls", "--vault", dir, "--folder", "Public")
	if strings.Contains(text, "line\nbreak") || strings.Contains(text, "tab\tname") {
		t.Errorf("ls printed a raw control character:\n%s", text)
	}
	if !strings.Contains(text, `"line\nbreak.txt"`) {
		t.Errorf("ls does not show the escaped name:\n%s", text)
	}
	var files []struct{ Name string }
	if err := json.Unmarshal([]byte(ok(t, "ls", "--vault", dir, "--folder", "Public", "--json")), &files); err != nil {
		t.Fatal(err)
	}
	if len(files) != len(names) {
		t.Fatalf("listed %d of %d", len(files), len(names))
	}
	out := t.TempDir()
	for i, n := range names {
		dst := filepath.Join(out, "copy")
		ok(t, "export", "--vault", dir, "Public/"+n, "--out", dst)
		if b, _ := os.ReadFile(dst); len(b) != 1 || b[0] != '0'+byte(i) {
			t.Errorf("%q: exported %q", n, b)
		}
		os.Remove(dst)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("export wrote elsewhere than --out: %v", entries)
	}
}

func TestCheckExitCodes(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	f := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(f, bytes.Repeat([]byte("quarterly numbers "), 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", "--vault", dir, "--folder", "Restricted", f)
	if s := ok(t, "check", "--vault", dir); !strings.Contains(s, "No damage") {
		t.Errorf("check: %q", s)
	}
	var chunk string
	_ = filepath.WalkDir(filepath.Join(dir, "objects", "chunk"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			chunk = p
		}
		return nil
	})
	b, err := os.ReadFile(chunk)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(chunk, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := expect(t, 1, "check", "--vault", dir)
	if !strings.Contains(r.stdout, "DAMAGED chunk/"+filepath.Base(chunk)) || !strings.Contains(r.stdout, "Restricted/report.txt v1") {
		t.Errorf("check output does not name the chunk and the file:\n%s", r.stdout)
	}
	// The gate answers before any chunk is read.
	expect(t, 3, "export", "--vault", dir, "Restricted/report.txt", "--out", filepath.Join(t.TempDir(), "x"))
}

func TestAuditCEFAndTamper(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), `deal|memo=v2\final.txt`)
	if err := os.WriteFile(src, []byte("memo"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", "--vault", dir, "--folder", "Confidential", src)
	expect(t, 3, "export", "--vault", dir, `Confidential/deal|memo=v2\final.txt`, "--out", filepath.Join(t.TempDir(), "x"))
	cef := ok(t, "audit", "--vault", dir, "--cef")
	var line string
	for _, l := range strings.Split(strings.TrimSpace(cef), "\n") {
		if !strings.HasPrefix(l, "CEF:0|Coffer|coffer|") {
			t.Fatalf("not a CEF line: %q", l)
		}
		if strings.Contains(l, "|export|export blocked|7|") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no blocked export in:\n%s", cef)
	}
	for _, want := range []string{`fname=deal|memo\=v2\\final.txt`, "cs1=Confidential", "outcome=blocked", "suser=ann@example.com"} {
		if !strings.Contains(line, want) {
			t.Errorf("CEF line lacks %q: %s", want, line)
		}
	}
	// Delete one audit entry behind Coffer's back.
	db, err := sql.Open("sqlite", filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM audit WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := expect(t, 1, "audit", "--vault", dir)
	if !strings.Contains(r.stderr, "TAMPERED entry 3") || !strings.Contains(r.stderr, "deleted") {
		t.Errorf("tamper report: %q", r.stderr)
	}
}

func TestPolicyAndRetention(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	var doc map[string]any
	if err := json.Unmarshal([]byte(ok(t, "policy", "--vault", dir)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["serial"].(float64) != 1 || doc["roles"].(map[string]any)["ann@example.com"] != "owner" {
		t.Fatalf("default policy: %v", doc)
	}
	doc["retention"] = map[string]any{"internal": map[string]any{"days": 30, "last": 2}}
	b, _ := json.Marshal(doc)
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := ok(t, "policy", "--vault", dir, "--set", file); !strings.Contains(s, "serial 2") {
		t.Errorf("set: %q", s)
	}
	if s := ok(t, "retention", "--vault", dir, "--dry-run"); !strings.Contains(s, "Would remove 0 versions") {
		t.Errorf("dry run: %q", s)
	}
	// A policy that drops the owner is refused: nobody could change it again.
	doc["roles"] = map[string]any{"eve@example.com": "owner"}
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, 1, "policy", "--vault", dir, "--set", file)
	if err := os.WriteFile(file, []byte(`{"v":1,"serial":1,"roles":{"a@b.c":"wizard"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := expect(t, 1, "policy", "--vault", dir, "--set", file); !strings.Contains(r.stderr, "invalid policy") {
		t.Errorf("invalid policy: %q", r.stderr)
	}
	log := ok(t, "audit", "--vault", dir)
	if !strings.Contains(log, "policy") || !strings.Contains(log, "retention") {
		t.Errorf("audit lacks policy and retention events:\n%s", log)
	}
}

// TestRemovedIndexSaysRebuild: a thief who deletes index.db does not get an
// empty vault with a fresh audit trail; the owner is told to rebuild, and
// `check --rebuild` brings every document back.
func TestRemovedIndexSaysRebuild(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	src := filepath.Join(t.TempDir(), "q3.txt")
	if err := os.WriteFile(src, []byte("Q3 numbers\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", "--vault", dir, "--folder", "Confidential", src)
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	r := expect(t, 1, "ls", "--vault", dir)
	if !strings.Contains(r.stderr, "coffer check --rebuild") {
		t.Fatalf("the message does not say how to recover: %s", r.stderr)
	}
	r = expect(t, 0, "check", "--vault", dir, "--rebuild")
	if !strings.Contains(r.stderr, "the index was rebuilt") || !strings.Contains(r.stdout, "No damage") {
		t.Fatalf("check --rebuild:\n%s%s", r.stdout, r.stderr)
	}
	if out := ok(t, "ls", "--vault", dir, "--folder", "Confidential"); !strings.Contains(out, "q3.txt") {
		t.Fatalf("ls after rebuild:\n%s", out)
	}
	if out := ok(t, "audit", "--vault", dir); !strings.Contains(out, "rebuild") {
		t.Fatalf("the audit trail does not record the rebuild:\n%s", out)
	}
}

// TestTraceNamesPagesOfPagesOnly: a trace code of a whole-file export
// resolves without a page ("page 0" read as a page that does not exist:
// the newcomer's F15); one of a preview names its page.
func TestTraceNamesPagesOfPagesOnly(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	pdf := filepath.Join(testenv.Corpus(t), "pdf", "asy-latex.pdf")
	ok(t, "import", "--vault", dir, "--folder", "Internal", pdf)
	work := t.TempDir()
	code := func(out string) string {
		i := strings.Index(out, "trace code ")
		if i < 0 {
			t.Fatalf("no trace code in %q", out)
		}
		return out[i+len("trace code ") : i+len("trace code ")+11]
	}
	exported := code(ok(t, "export", "--vault", dir, "Internal/asy-latex.pdf", "--out", filepath.Join(work, "out.pdf")))
	previewed := code(ok(t, "preview", "--vault", dir, "Internal/asy-latex.pdf", "--page", "2", "--dpi", "30", "--out", filepath.Join(work, "p.png")))
	if out := ok(t, "trace", "--vault", dir, exported); !strings.Contains(out, "export by ann@example.com") || strings.Contains(out, "page") {
		t.Errorf("trace of an export:\n%s", out)
	}
	if out := ok(t, "trace", "--vault", dir, previewed); !strings.HasSuffix(strings.TrimSpace(out), "version 1 page 2") {
		t.Errorf("trace of a preview:\n%s", out)
	}
}
