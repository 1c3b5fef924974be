package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/app"
	"github.com/coffer-vault/coffer/vault"
)

func TestCheckEmail(t *testing.T) {
	for s, ok := range map[string]bool{
		"ann@example.com":                        true,
		"ann.trader+q3@bank.co.uk":               true,
		"gail@consult.test":                      true,
		"jürgen@bank.de":                         true,
		"":                                       false,
		"@":                                      false,
		"bob@":                                   false,
		"@example.com":                           false,
		"bob":                                    false,
		"bob@localhost":                          false,
		"bob@example..com":                       false,
		"bob@-example.com":                       false,
		"bob@exa_mple.com":                       false,
		"bob@[10.0.0.1]":                         false,
		"Bob <bob@example.com>":                  false,
		"bob@example.com, eve@example.com":       false,
		" bob@example.com":                       false,
		"bob@example.com\n":                      false,
		strings.Repeat("b", 90) + "@example.com": false, // over watermark.MaxEmail
	} {
		if err := app.CheckEmail(s); (err == nil) != ok {
			t.Errorf("CheckEmail(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

// TestCheckName: a name is refused when it is chosen, not at every
// preview, when watermarks could not show it as written or it would crowd
// the trace code out: too long, a control character, a bidi override, a
// letter no watermark font has. Names in the scripts the fonts cover
// pass. Init refuses before making anything.
func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"":                      true,
		"Ann Trader":            true,
		"陈美玲":                   true,
		"Łucja Wąs-Øster":       true,
		"Ἀθηνᾶ Παππᾶ":           true,
		"Анна Петрова":          true,
		"سارة أحمد":             true,
		"שרה כהן":               true,
		"김민준":                   true,
		"山田太郎":                  true,
		"Zoë Ǹgúgı̃":            true,
		strings.Repeat("a", 64): true,
		strings.Repeat("a", 65): false,
		"Ann\nTrader":           false,
		"Ann\x1b[2JTrader":      false,
		"\u202emoc.elpmaxe@evE": false,
		"Eve \u2066x\u2069":     false,
		"👩\u200d💼 Emoji":        false,
		"\xff\xfe":              false,
		`A\nB\nC`:               false, // pdfcpu would break the stamp's line
	} {
		if err := app.CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	dir := filepath.Join(t.TempDir(), "v")
	_, err := app.Init(context.Background(), dir, vault.Identity{Email: "ann@example.com", Name: strings.Repeat("Mallory ", 250)}, "correct horse battery staple 17")
	if err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Errorf("Init with a 2000-letter name: %v", err)
	}
	if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("Init with a refused name left %s: %v", dir, serr)
	}
}
