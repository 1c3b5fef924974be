package app_test

import (
	"testing"

	"github.com/coffer-vault/coffer/app"
)

func TestCheckEmail(t *testing.T) {
	for s, ok := range map[string]bool{
		"ann@example.com":                  true,
		"ann.trader+q3@bank.co.uk":         true,
		"gail@consult.test":                true,
		"jürgen@bank.de":                   true,
		"":                                 false,
		"@":                                false,
		"bob@":                             false,
		"@example.com":                     false,
		"bob":                              false,
		"bob@localhost":                    false,
		"bob@example..com":                 false,
		"bob@-example.com":                 false,
		"bob@exa_mple.com":                 false,
		"bob@[10.0.0.1]":                   false,
		"Bob <bob@example.com>":            false,
		"bob@example.com, eve@example.com": false,
		" bob@example.com":                 false,
		"bob@example.com\n":                false,
	} {
		if err := app.CheckEmail(s); (err == nil) != ok {
			t.Errorf("CheckEmail(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}
