package audit

import (
	"strconv"
	"strings"

	"github.com/coffer-vault/coffer/internal/display"
)

// CEF formats an event as one ArcSight Common Event Format line for a SIEM:
//
//	CEF:0|Coffer|coffer|VERSION|action|name|severity|extensions
//
// No maintained Go CEF library is available to this project, and the format
// is small: header fields escape "\" and "|"; extension values escape "\",
// "=" and line breaks (as \n and \r). Keys are standard CEF keys.
func (e Event) CEF(version string) string {
	var b strings.Builder
	b.WriteString("CEF:0|Coffer|coffer|")
	b.WriteString(cefHeader(version))
	b.WriteByte('|')
	b.WriteString(cefHeader(string(e.Action)))
	b.WriteByte('|')
	b.WriteString(cefHeader(string(e.Action) + " " + string(e.Outcome)))
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(e.Severity()))
	b.WriteByte('|')
	ext := [][2]string{
		{"rt", strconv.FormatInt(e.Time.UnixMilli(), 10)},
		{"externalId", strconv.FormatInt(e.Seq, 10)},
		{"act", string(e.Action)},
		{"outcome", string(e.Outcome)},
		{"suser", e.User},
		{"deviceExternalId", e.Device},
		{"dvchost", e.DeviceName},
		{"src", e.IP},
	}
	if e.Folder != "" {
		ext = append(ext, [2]string{"cs1Label", "folder"}, [2]string{"cs1", e.FolderName},
			[2]string{"cs2Label", "folderId"}, [2]string{"cs2", e.Folder})
	}
	if e.File != "" {
		ext = append(ext, [2]string{"fname", e.FileName}, [2]string{"fileId", e.File})
	}
	if e.Version > 0 {
		ext = append(ext, [2]string{"cn1Label", "version"}, [2]string{"cn1", strconv.Itoa(e.Version)})
	}
	if e.Page > 0 {
		ext = append(ext, [2]string{"cn2Label", "page"}, [2]string{"cn2", strconv.Itoa(e.Page)})
	}
	if e.Trace != "" {
		ext = append(ext, [2]string{"cs3Label", "traceCode"}, [2]string{"cs3", e.Trace})
	}
	if e.Reason != "" {
		ext = append(ext, [2]string{"reason", e.Reason})
	}
	first := true
	for _, kv := range ext {
		if kv[1] == "" {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(cefValue(kv[1]))
	}
	return b.String()
}

// Severity maps an outcome to CEF's 0–10 scale.
func (e Event) Severity() int {
	switch e.Outcome {
	case Blocked:
		return 7
	case Failed:
		return 5
	}
	return 3
}

var headerEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\n", " ", "\r", " ")
var valueEscaper = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)

func cefHeader(s string) string { return headerEscaper.Replace(printable(s)) }
func cefValue(s string) string  { return valueEscaper.Replace(printable(s)) }

// printable spells out, as display.Text does, every character of s that
// does not print but a line break (which CEF escapes itself): an escape
// sequence or a right-to-left override in a field would act on the
// terminal or the console that shows the SIEM's events. The spelling's
// backslash is then escaped as CEF's, so the field reads "\x1b".
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\r' && display.Text(string(r)) != string(r) }) {
		return s
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		body, nl := strings.CutSuffix(line, "\n")
		for _, part := range strings.SplitAfter(body, "\r") {
			p, cr := strings.CutSuffix(part, "\r")
			b.WriteString(display.Text(p))
			if cr {
				b.WriteByte('\r')
			}
		}
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
