package display_test

import (
	"testing"

	"github.com/coffer-vault/coffer/internal/display"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"term-sheet.pdf":          "term-sheet.pdf",
		"Q3 results.xlsx":         "Q3 results.xlsx",
		"Überweisung.pdf":         "Überweisung.pdf",
		"invoice\u202efdp.exe":    `"invoice\u202efdp.exe"`,
		"two\nlines.txt":          `"two\nlines.txt"`,
		"nul\x00.txt":             `"nul\x00.txt"`,
		" leading.txt":            `" leading.txt"`,
		`"quoted".txt`:            `"\"quoted\".txt"`,
		"bad\xffutf8":             `"bad\xffutf8"`,
		"zero\u200bwidth.txt":     `"zero\u200bwidth.txt"`,
		"isolate\u2066x\u2069.md": `"isolate\u2066x\u2069.md"`,
	} {
		if got := display.Name(in); got != want {
			t.Errorf("Name(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"no preview for this type":             "no preview for this type",
		"invoice\u202efdp.exe (x): no preview": `invoice\u202efdp.exe (x): no preview`,
		"line\nbreak":                          `line\nbreak`,
		"bad \xff byte":                        `bad \xff byte`,
		"Überweisung.pdf":                      "Überweisung.pdf",
	} {
		if got := display.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":           "report.pdf",
		"invoice\u202efdp.exe": "invoice_fdp.exe",
		"../../etc/passwd":     "passwd",
		`a\\b\\c.txt`:          "c.txt",
		"..":                   "copy",
		"  ":                   "copy",
		"nul\x00.txt":          "nul_.txt",
	} {
		if got := display.FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}
