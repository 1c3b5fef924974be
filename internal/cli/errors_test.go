package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/coffer-vault/coffer/internal/cli"
)

// styleProblems checks a message against the CLI's rules for errors (as
// age's): one line, the program's name first, then lowercase; no doubled
// punctuation; no word said twice in a row; no temp file's name.
func styleProblems(prog, stderr string) []string {
	var bad []string
	line, ok := strings.CutPrefix(stderr, prog+": ")
	if !ok {
		bad = append(bad, "no "+prog+": prefix")
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		bad = append(bad, "not one line")
	}
	if r := []rune(line); len(r) == 0 || unicode.IsUpper(r[0]) {
		bad = append(bad, "does not start lowercase")
	}
	if regexp.MustCompile(`[.;:,]\s*[.;:,]`).MatchString(line) {
		bad = append(bad, "doubled punctuation")
	}
	if strings.HasSuffix(strings.TrimSpace(line), ".") {
		bad = append(bad, "ends with a period")
	}
	// Names, paths and commands quoted in the message are not its words.
	text := regexp.MustCompile(`"[^"]*"|'[^']*'|\S*[/_]\S*`).ReplaceAllString(line, " ")
	words := strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || r == '-' {
			return unicode.ToLower(r)
		}
		return ' '
	}, text))
	for i := 1; i < len(words); i++ {
		if words[i] == words[i-1] {
			bad = append(bad, "says "+words[i]+" twice")
		}
	}
	// A phrase said twice, small words aside ("export blocked … export is
	// blocked", "trace code … unknown trace code").
	small := map[string]bool{"a": true, "an": true, "the": true, "is": true, "are": true, "of": true, "in": true, "to": true, "it": true, "its": true, "or": true, "and": true}
	var content []string
	for _, w := range words {
		if !small[w] {
			content = append(content, w)
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(content); i++ {
		pair := content[i] + " " + content[i+1]
		if seen[pair] {
			bad = append(bad, "repeats "+pair)
		}
		seen[pair] = true
	}
	if strings.Contains(line, ".coffer-") {
		bad = append(bad, "names a temp file")
	}
	return bad
}

// TestErrorMessages runs every command's error paths through the CLI's
// entry point: the exit code, what the message says, and its style.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	work := t.TempDir()
	doc := filepath.Join(work, "memo.txt")
	if err := os.WriteFile(doc, []byte("quarterly numbers\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Public", "Confidential"} {
		ok(t, "import", "--vault", dir, "--folder", f, doc)
	}
	taken := filepath.Join(work, "taken.txt")
	if err := os.WriteFile(taken, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notEmpty := filepath.Join(work, "notempty")
	if err := os.MkdirAll(filepath.Join(notEmpty, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	fresh := func() string { return filepath.Join(t.TempDir(), "vault") }
	cases := []struct {
		name string
		pass string // "" asks the terminal, which the tests have not: what comes before must not ask
		args []string
		code int
		says string
	}{
		// usage
		{"unknown command", pass, []string{"frobnicate"}, 2, `unknown command "frobnicate" (see 'coffer --help')`},
		{"unknown flag", pass, []string{"ls", "--vault", dir, "--bogus"}, 2, "unknown flag: --bogus (see 'coffer ls --help')"},
		{"missing flags", pass, []string{"init"}, 2, "missing --user and --vault (see 'coffer init --help')"},
		{"missing vault", pass, []string{"ls"}, 2, "missing --vault"},
		{"no subcommand", pass, []string{"folder"}, 2, "want a subcommand: create"},
		{"bad class", pass, []string{"folder", "create", "--vault", dir, "X", "--class", "secret"}, 2, `unknown class "secret"`},
		{"no slash", pass, []string{"versions", "--vault", dir, "memo.txt"}, 2, "want FOLDER/FILE"},
		{"version 0", pass, []string{"restore", "--vault", dir, "Public/memo.txt", "--version", "0"}, 2, "--version must be 1 or more"},
		{"json and cef", pass, []string{"audit", "--vault", dir, "--json", "--cef"}, 2, "--json and --cef exclude each other"},
		{"export out empty", "", []string{"export", "--vault", dir, "Public/memo.txt", "--out", ""}, 2, "--out is empty"},
		{"preview out empty", "", []string{"preview", "--vault", dir, "Public/memo.txt", "--out", ""}, 2, "--out is empty"},
		{"preview page 0", pass, []string{"preview", "--vault", dir, "Public/memo.txt", "--page", "0", "--out", filepath.Join(work, "p.png")}, 2, "--page must be 1 or more"},
		{"preview dpi NaN", pass, []string{"preview", "--vault", dir, "Public/memo.txt", "--dpi", "NaN", "--out", filepath.Join(work, "p.png")}, 2, "--dpi between 18 and 600"},
		{"not a trace code", "", []string{"trace", "--vault", dir, "ABC"}, 2, `"ABC" is not a trace code: they look like K7Q4M-ZP2XA`},
		{"init user @", "", []string{"init", "--vault", fresh(), "--user", "@"}, 2, `--user: "@" is not an e-mail address`},
		{"init user bob@", "", []string{"init", "--vault", fresh(), "--user", "bob@"}, 2, `--user: "bob@" is not an e-mail address`},
		{"init user no dot", "", []string{"init", "--vault", fresh(), "--user", "bob@localhost"}, 2, "its domain has no dot"},
		{"init user with name", "", []string{"init", "--vault", fresh(), "--user", "Bob <bob@example.com>"}, 2, "is not an e-mail address"},
		{"share with bob@", "", []string{"share", "--vault", dir, "Public", "--with", "bob@"}, 2, `--with: "bob@" is not an e-mail address`},
		{"share bad role", "", []string{"share", "--vault", dir, "Public", "--with", "bob@example.com", "--role", "boss"}, 2, "--role: viewer or editor"},
		// the file system, before the passphrase is asked
		{"export to missing folder", "", []string{"export", "--vault", dir, "Public/memo.txt", "--out", "/missing-dir/x"}, 1, "folder /missing-dir does not exist: create it first, or choose another --out"},
		{"export to a folder", "", []string{"export", "--vault", dir, "Public/memo.txt", "--out", work}, 1, "is a folder: give --out a file name in it, such as " + filepath.Join(work, "memo.txt")},
		{"export to a folder with force", "", []string{"export", "--vault", dir, "Public/memo.txt", "--out", work, "--force"}, 1, "is a folder: give --out a file name in it"},
		{"export over a file", "", []string{"export", "--vault", dir, "Public/memo.txt", "--out", taken}, 1, "already exists: choose another --out, or add --force to replace it"},
		{"preview to missing folder", "", []string{"preview", "--vault", dir, "Public/memo.txt", "--out", "/missing-dir/p.png"}, 1, "folder /missing-dir does not exist"},
		{"preview to a folder", "", []string{"preview", "--vault", dir, "Public/memo.txt", "--out", work, "--force"}, 1, "such as " + filepath.Join(work, "page.png")},
		{"init on a vault", "", []string{"init", "--vault", dir, "--user", "bob@example.com"}, 1, "a vault exists in " + dir + " already: open it with 'coffer ls --vault " + dir + "', or choose another --vault"},
		{"init in a full folder", "", []string{"init", "--vault", notEmpty, "--user", "bob@example.com"}, 1, "is not empty: init makes a new vault, in an empty or new folder"},
		{"init on a file", "", []string{"init", "--vault", taken, "--user", "bob@example.com"}, 1, "is a file: init makes a new vault"},
		{"not a vault", pass, []string{"ls", "--vault", work}, 1, "is not a Coffer vault (create one with 'coffer init --vault"},
		// after unlocking
		{"no passphrase", "", []string{"ls", "--vault", dir}, 1, "no passphrase: set COFFER_PASSPHRASE or run in a terminal to be asked"},
		{"weak passphrase", "password", []string{"init", "--vault", fresh(), "--user", "bob@example.com"}, 1, "passphrase too easy to guess (very weak): use four or more unrelated words, not names, dates, keyboard runs or your e-mail; nothing was created"},
		{"missing folder", pass, []string{"ls", "--vault", dir, "--folder", "Nope"}, 1, `no folder "Nope" in this vault (folders: `},
		{"missing file", pass, []string{"export", "--vault", dir, "Public/nope.txt", "--out", filepath.Join(work, "n.txt")}, 1, `no file "nope.txt" in folder "Public"; 'coffer ls --folder NAME' lists a folder's files`},
		{"missing version", pass, []string{"restore", "--vault", dir, "Public/memo.txt", "--version", "5"}, 1, "no version 5 (the file has 1); 'coffer versions' lists them"},
		{"duplicate folder", pass, []string{"folder", "create", "--vault", dir, "Public", "--class", "public"}, 1, `folder "Public" already exists; choose another name`},
		{"import missing file", pass, []string{"import", "--vault", dir, "--folder", "Public", "/nonexistent/x.pdf"}, 1, "import /nonexistent/x.pdf: no such file or directory"},
		// An escape sequence in a file name (here: set the terminal's title)
		// reaches the terminal escaped.
		{"import hostile name", pass, []string{"import", "--vault", dir, "--folder", "Public", "/nonexistent/\x1b]0;pwned\a.pdf"}, 1, `\x1b]0;pwned\a.pdf`},
		{"export blocked", pass, []string{"export", "--vault", dir, "Confidential/memo.txt", "--out", filepath.Join(work, "c.txt")}, 3, `export blocked in folder "Confidential": confidential documents never leave Coffer`},
		{"preview blocked", pass, []string{"preview", "--vault", dir, "Confidential/memo.txt", "--out", filepath.Join(work, "c.png")}, 3, `preview-to-file blocked in folder "Confidential": confidential documents never leave Coffer`},
		{"share unenrolled", pass, []string{"share", "--vault", dir, "Public", "--with", "bob@example.com"}, 1, "this vault is not enrolled in an organisation: join one with 'coffer enroll'"},
		{"unknown trace code", pass, []string{"trace", "--vault", dir, "K7Q4M-ZP2XA"}, 1, "unknown trace code: K7Q4M-ZP2XA is not in this device's audit trail"},
		// last: the next unlock warns of it
		{"wrong passphrase", "not it at all", []string{"ls", "--vault", dir}, 4, "wrong passphrase; try again"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.pass, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.says) {
				t.Errorf("coffer %q: exit %d, stderr %q; want exit %d saying %q", tc.args, r.code, r.stderr, tc.code, tc.says)
			}
			if strings.ContainsFunc(r.stderr, func(c rune) bool { return c < ' ' && c != '\n' }) {
				t.Errorf("coffer %q: a control character reached the terminal: %q", tc.args, r.stderr)
			}
			if p := styleProblems("coffer", r.stderr); len(p) > 0 {
				t.Errorf("coffer %q: %q: %s", tc.args, r.stderr, strings.Join(p, ", "))
			}
		})
	}
	// Nothing of a refused export is left behind.
	if e, _ := os.ReadDir(work); len(e) != 3 {
		t.Errorf("%s holds %d entries after the refusals, want memo.txt, taken.txt and notempty", work, len(e))
	}
}

// TestStyleProblems: the style check finds what the issue saw.
func TestStyleProblems(t *testing.T) {
	for msg, want := range map[string]string{
		"coffer: passphrase too easy to guess: add a word or two, such as your e-mail.; nothing was created\n":                          "doubled punctuation",
		"coffer: preview-to-file blocked: folder \"Conf\" is confidential: documents never leave Coffer (preview-to-file is blocked)\n": "repeats",
		"coffer: open /missing-dir/.coffer-export-2948753383: no such file or directory\n":                                              "names a temp file",
		"coffer: Vault exists\n":     "lowercase",
		"coffer: a\nb\n":             "one line",
		"coffer: the the vault\n":    "twice",
		"coffer: the vault is ok.\n": "period",
	} {
		if p := styleProblems("coffer", msg); !strings.Contains(strings.Join(p, ","), want) {
			t.Errorf("styleProblems(%q) = %q, want %q", msg, p, want)
		}
	}
	if p := styleProblems("coffer", "coffer: export blocked in folder \"Confidential\": confidential documents never leave Coffer\n"); len(p) > 0 {
		t.Errorf("a good message: %q", p)
	}
}

// TestNoDisplayBeforeGUI: without a display the window is not even tried;
// one line says what to run instead, exit 1.
func TestNoDisplayBeforeGUI(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		vars []string
		gui  bool
	}{
		{map[string]string{}, []string{"DISPLAY"}, false},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, []string{"DISPLAY"}, false},
		{map[string]string{"DISPLAY": ":0"}, []string{"DISPLAY"}, true},
		{map[string]string{}, nil, true}, // Windows, macOS
	} {
		var stdout, stderr bytes.Buffer
		called := false
		env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			Getenv:      func(k string) string { return tc.env[k] },
			DisplayVars: tc.vars,
			GUI: func(context.Context, string, string) error {
				called = true
				return nil
			}}
		code := cli.Main(context.Background(), []string{"gui", "--vault", t.TempDir()}, env)
		if called != tc.gui {
			t.Errorf("env %v, display vars %v: window opened %v, want %v", tc.env, tc.vars, called, tc.gui)
		}
		if !tc.gui {
			if code != 1 || !strings.HasPrefix(stderr.String(), "coffer: no display found (DISPLAY is not set)") ||
				!strings.Contains(stderr.String(), "'coffer --help'") || !strings.Contains(stderr.String(), "'make tour'") {
				t.Errorf("env %v: exit %d, %q", tc.env, code, stderr.String())
			}
			if p := styleProblems("coffer", stderr.String()); len(p) > 0 {
				t.Errorf("%q: %s", stderr.String(), strings.Join(p, ", "))
			}
		}
	}
}
