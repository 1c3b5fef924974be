package audit

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// ParseCEF parses a CEF line by the format's rules, independently of the
// writer: seven header fields separated by unescaped "|" (escapes \| and
// \\), then space-separated key=value extensions whose values escape \=,
// \\, \n and \r and contain no raw line break. Exported to the package's
// tests only.
func parseCEF(line string) (header []string, ext map[string]string, err error) {
	if strings.ContainsAny(line, "\n\r") {
		return nil, nil, fmt.Errorf("raw line break")
	}
	if !strings.HasPrefix(line, "CEF:0|") {
		return nil, nil, fmt.Errorf("no CEF:0 prefix")
	}
	var cur strings.Builder
	i := 0
	for i < len(line) && len(header) < 7 {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && (line[i+1] == '|' || line[i+1] == '\\'):
			cur.WriteByte(line[i+1])
			i += 2
			continue
		case c == '\\':
			return nil, nil, fmt.Errorf("bad header escape at %d", i)
		case c == '|':
			header = append(header, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
		i++
	}
	if len(header) != 7 {
		return nil, nil, fmt.Errorf("%d header fields", len(header))
	}
	ext = map[string]string{}
	keyRE := regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	rest := line[i:]
	// Split at unescaped "=": each split point's preceding word is a key.
	var parts []string
	cur.Reset()
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		if c == '\\' {
			if j+1 >= len(rest) || !strings.ContainsRune(`\=nr`, rune(rest[j+1])) {
				return nil, nil, fmt.Errorf("bad extension escape in %q", rest)
			}
			cur.WriteByte(c)
			cur.WriteByte(rest[j+1])
			j++
			continue
		}
		if c == '=' {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	unescape := strings.NewReplacer(`\\`, `\`, `\=`, `=`, `\n`, "\n", `\r`, "\r")
	key := parts[0]
	for k := 1; k < len(parts); k++ {
		val := parts[k]
		next := ""
		if k < len(parts)-1 {
			sp := strings.LastIndexByte(val, ' ')
			if sp < 0 {
				return nil, nil, fmt.Errorf("no key before value %q", val)
			}
			val, next = val[:sp], val[sp+1:]
		}
		if !keyRE.MatchString(key) {
			return nil, nil, fmt.Errorf("bad key %q", key)
		}
		ext[key] = unescape.Replace(val)
		key = next
	}
	return header, ext, nil
}

func TestCEFEscaping(t *testing.T) {
	hostile := "Q3 | draft = v2\\final\nline two\r"
	e := Event{Seq: 42, Time: time.Unix(1700000000, 0), Action: Export, Outcome: Blocked, User: "ann@example.com",
		Device: "dev1", Folder: "f1", FolderName: "Deals|M&A", File: "x1", FileName: hostile, Version: 3,
		Reason: "confidential documents never leave Coffer (export=blocked)"}
	line := e.CEF("1.0|beta")
	header, ext, err := parseCEF(line)
	if err != nil {
		t.Fatalf("%v in %q", err, line)
	}
	want := []string{"CEF:0", "Coffer", "coffer", "1.0|beta", "export", "export blocked", "7"}
	if strings.Join(header, "¦") != strings.Join(want, "¦") {
		t.Errorf("header %q", header)
	}
	for k, v := range map[string]string{"fname": hostile, "cs1": "Deals|M&A", "reason": e.Reason, "suser": "ann@example.com",
		"act": "export", "outcome": "blocked", "cn1": "3", "externalId": "42", "rt": "1700000000000"} {
		if ext[k] != v {
			t.Errorf("%s = %q, want %q", k, ext[k], v)
		}
	}
}

func TestCEFOmitsEmptyFields(t *testing.T) {
	line := Event{Seq: 1, Time: time.Unix(0, 0), Action: Unlock, Outcome: OK, User: "a@b.c", Device: "d"}.CEF("dev")
	_, ext, err := parseCEF(line)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"fname", "cs1", "reason", "cn1"} {
		if _, ok := ext[k]; ok {
			t.Errorf("empty %s present in %q", k, line)
		}
	}
}

// An entry is written by a device, and its user may have modified it:
// escape sequences, a line break or a right-to-left override in any field
// must neither act on the terminal that shows it nor forge a line, in the
// terminal line or in CEF (which escaped only "\", "|", "=" and line
// breaks: ESC went through to the SIEM's console).
func TestHostileEntryFields(t *testing.T) {
	forged := "x\r\x1b[2K   77  2026-11-30T09:00:00Z  export  ok  bob@acme.test\n"
	e := Event{Seq: 26, Time: time.Unix(1700000000, 0), Action: Action("preview\x1b[8m"), Outcome: Outcome("ok\u202e"),
		User: "ann\x1b]0;title\x07@acme.test", FolderName: "Deals\u2028", FileName: "a\x9bb.pdf", Trace: "T\x1bR", Reason: forged}
	line := e.Line()
	if strings.ContainsFunc(line, control) {
		t.Errorf("the terminal line holds control characters: %q", line)
	}
	for _, want := range []string{`preview\x1b[8m`, `ok\u202e`, `ann\x1b]0;title\a@acme.test`, `x\r\x1b[2K`, `Deals\u2028`} {
		if !strings.Contains(line, want) {
			t.Errorf("the terminal line %q does not spell out %q", line, want)
		}
	}
	cef := e.CEF("1.0")
	if strings.ContainsFunc(cef, control) {
		t.Errorf("the CEF line holds control characters: %q", cef)
	}
	header, ext, err := parseCEF(cef)
	if err != nil {
		t.Fatalf("%v in %q", err, cef)
	}
	if header[4] != `preview\x1b[8m` || ext["act"] != `preview\x1b[8m` || ext["suser"] != `ann\x1b]0;title\a@acme.test` {
		t.Errorf("CEF header %q, act %q, suser %q", header, ext["act"], ext["suser"])
	}
	// Line breaks stay CEF's own escapes; the rest is spelled out.
	if want := "x\r\\x1b[2K   77  2026-11-30T09:00:00Z  export  ok  bob@acme.test\n"; ext["reason"] != want {
		t.Errorf("CEF reason %q, want %q", ext["reason"], want)
	}
}

// control reports characters that act on a terminal or a console.
func control(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u2028' || r == utf8.RuneError
}

func TestValidWord(t *testing.T) {
	for _, w := range []string{"preview", "preview-to-file", "folder-create", "ok", "a1"} {
		if !ValidWord(w) {
			t.Errorf("%q refused", w)
		}
	}
	for _, w := range []string{"", "Preview", "-x", "1x", "preview\x1b[8m", "ok\u202e", "a b", strings.Repeat("a", 33)} {
		if ValidWord(w) {
			t.Errorf("%q accepted", w)
		}
	}
}
