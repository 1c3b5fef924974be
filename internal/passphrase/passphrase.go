// Package passphrase judges how hard a new vault passphrase is to guess,
// with zxcvbn (github.com/trustelem/zxcvbn, a Go port that scores as the
// original JavaScript does), so that the command line and the desktop app
// give the same hint and refuse the same passphrases.
//
// The port builds its dictionaries when the program starts, as every Go
// port does; this one takes about 23 ms and 10 MB where
// github.com/ccojocar/zxcvbn-go, used before, took about 70 ms and 18 MB
// (GODEBUG=inittrace=1) — on every command, a preview's included.
package passphrase

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trustelem/zxcvbn"
)

// MinScore is the lowest zxcvbn score a new vault accepts: 3 means about
// 10^10 guesses, years at the vault's scrypt cost on one GPU rig. Below it
// a stolen laptop's vault falls to a dictionary attack.
const MinScore = 3

// ErrWeak is wrapped by Check's error for a passphrase below MinScore.
var ErrWeak = errors.New("passphrase too easy to guess")

// Strength is zxcvbn's verdict in words a user can act on.
type Strength struct {
	Score int    // 0 (guessable at once) to 4 (very hard)
	Label string // "very weak" … "very strong"
	Hint  string // what to do about it; empty when strong
}

// OK reports whether a new vault may use the passphrase.
func (s Strength) OK() bool { return s.Score >= MinScore }

// measuredRunes is how much of a passphrase zxcvbn looks at: its matching
// grows steeply with length (25 ms for 100 digits here, 30 ms for 64
// random characters, on every keystroke of the first-run screen).
const measuredRunes = 64

// minDistinct is the fewest different characters a passphrase needs:
// zxcvbn rates twelve "é" as very strong (it guesses them by brute force
// over all of Unicode), and zxcvbn-go, used before, "12" repeated 50 times.
const minDistinct = 6

var labels = [...]string{"very weak", "weak", "fair", "strong", "very strong"}

// Measure judges p; userInputs (the owner's name and e-mail) count as
// known words, so a passphrase built from them scores low.
func Measure(p string, userInputs ...string) Strength {
	if p == "" {
		return Strength{Score: 0, Label: labels[0], Hint: "Enter a passphrase: four or more unrelated words work well."}
	}
	// The product's own words are the likeliest in a passphrase for it
	// ("Coffer2024!" scored 3 without them).
	inputs := []string{"coffer", "vault", "passphrase"}
	for _, in := range userInputs {
		inputs = append(inputs, strings.Fields(strings.NewReplacer("@", " ", ".", " ").Replace(in))...)
		inputs = append(inputs, in)
	}
	rs := []rune(p)
	if len(rs) > measuredRunes {
		p = string(rs[:measuredRunes])
	}
	r := zxcvbn.PasswordStrength(p, inputs)
	score := min(max(r.Score, 0), 4)
	distinct := map[rune]bool{}
	for _, c := range rs {
		distinct[c] = true
	}
	if len(distinct) < minDistinct {
		score = min(score, 1)
	}
	s := Strength{Score: score, Label: labels[score]}
	switch {
	case score < 2:
		s.Hint = "Easy to guess: use four or more unrelated words, not names, dates, keyboard runs or your e-mail."
	case score < MinScore:
		s.Hint = "Almost: add another unrelated word or two."
	case score < 4:
		s.Hint = "Good. Another word makes it very strong."
	}
	return s
}

// Check returns an error wrapping ErrWeak, with the hint, when a new vault
// must not use p.
func Check(p string, userInputs ...string) error {
	s := Measure(p, userInputs...)
	if s.OK() {
		return nil
	}
	// The hint's advice, as the rest of an error message: "Easy to guess:
	// use four…" becomes "passphrase too easy to guess (weak): use four…".
	advice := s.Hint
	if _, after, ok := strings.Cut(advice, ": "); ok {
		advice = after
	}
	return fmt.Errorf("%w (%s): %s", ErrWeak, s.Label, strings.TrimSuffix(advice, "."))
}
