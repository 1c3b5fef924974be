package passphrase_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coffer-vault/coffer/internal/passphrase"
)

func TestMeasure(t *testing.T) {
	who := []string{"Ann Trader", "ann.trader@example.com"}
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"", false},
		{"password", false},
		{"Summer2026!", false},
		{"Coffer2024!", false},
		{"Password2024!", false},
		{"Alice1985!", false},
		{"correcthorse", false},
		{"qwertyuiop", false},
		{strings.Repeat("12", 50), false},
		{"éééééééééééé", false},
		{"ann.trader@example.com", false},
		{"AnnTrader1", false},
		{"correct horse battery staple", true},
		{"frozen vault v1 passphrase", true},
		{"gravel tulip anchor noodle", true},
	} {
		s := passphrase.Measure(tc.p, who...)
		if s.OK() != tc.ok {
			t.Errorf("Measure(%q) = score %d (%s), want ok=%v", tc.p, s.Score, s.Label, tc.ok)
		}
		if s.Label == "" || (s.Score < 4 && s.Hint == "") {
			t.Errorf("Measure(%q) = %+v: no words for the user", tc.p, s)
		}
		err := passphrase.Check(tc.p, who...)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, passphrase.ErrWeak)) {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// Scores only rise as words are added: the hint "add another word" is true.
func TestMoreWordsNeverWeaker(t *testing.T) {
	p := ""
	last := -1
	for _, w := range []string{"gravel", "tulip", "anchor", "noodle", "violet"} {
		p += w + " "
		s := passphrase.Measure(p)
		if s.Score < last {
			t.Fatalf("%q scores %d, lower than with a word fewer (%d)", p, s.Score, last)
		}
		last = s.Score
	}
	if last != 4 {
		t.Fatalf("five unrelated words score %d, want 4", last)
	}
}

// A pasted 2,000-character secret is judged by its first 64 characters
// (zxcvbn's cost grows steeply with length; the UI measures every
// keystroke), and is strong.
func TestLongPassphrase(t *testing.T) {
	long := strings.Repeat("x7#Kq2!mZ9", 200)
	s := passphrase.Measure(long)
	if s != passphrase.Measure(long[:64]) || !s.OK() {
		t.Errorf("2,000 characters: %+v; first 64: %+v", s, passphrase.Measure(long[:64]))
	}
}
