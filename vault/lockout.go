package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/coffer-vault/coffer/vault/store"
)

// DefaultMaxFailures is how many wrong passphrases in a row are allowed
// before unlock is refused for a while.
const DefaultMaxFailures = 10

const lockoutFile = "unlock.json"

// ErrLocked is wrapped by the error Open returns while the vault refuses
// unlock attempts after too many wrong passphrases.
var ErrLocked = errors.New("vault is locked after too many wrong passphrases")

// LockedError says until when unlock is refused.
type LockedError struct {
	Failures int
	Until    time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%d wrong passphrases in a row: unlock is refused until %s UTC",
		e.Failures, e.Until.UTC().Format("2006-01-02 15:04:05"))
}

// Unwrap lets errors.Is(err, ErrLocked) match.
func (e *LockedError) Unwrap() error { return ErrLocked }

// lockout is unlock.json: the count of wrong passphrases since the last
// successful unlock. It cannot be protected by a key (there is none before
// unlock), so it slows down guessing through Coffer on this machine, not an
// attacker who can write the vault folder (they delete the file, or copy
// the vault and run scrypt themselves, paying its cost per guess). What it
// must not let such an attacker do is lock the owner out for long or hide
// guesses: values out of range are read as "the limit was reached just
// now" (one short wait), never as "no failures" or a date far ahead.
type lockout struct {
	Failures int   `json:"failures"`
	Last     int64 `json:"last"`                // unix nanoseconds of the last failure
	Max      int   `json:"max,omitempty"`       // the policy's limit, cached for before unlock
	Wipe     int   `json:"wipe,omitempty"`      // the policy's wipe_after_failures, cached likewise
	WipeDays int   `json:"wipe_days,omitempty"` // the policy's wipe_after_days, cached likewise
}

// Bounds a sane unlock.json stays within.
const (
	maxFailuresCounted = 1 << 20
	maxLimit           = 1000            // as policy.Document allows
	clockSlack         = 5 * time.Minute // a last failure this far ahead of now is planted
)

// sane returns l if it is within bounds, else the state "limit reached
// now", and whether it was sane.
func (l lockout) sane(now time.Time) (lockout, bool) {
	if l.Max < 0 || l.Max > maxLimit {
		l.Max = 0
	}
	limit := l.Max
	if limit < 1 {
		limit = DefaultMaxFailures
	}
	if l.Failures < 0 || l.Failures > maxFailuresCounted || l.Last < 0 || time.Unix(0, l.Last).After(now.Add(clockSlack)) {
		return lockout{Failures: limit, Last: now.UnixNano(), Max: l.Max}, false
	}
	return l, true
}

// backoff is how long unlock is refused after failures wrong passphrases:
// nothing up to max, then 30 s doubling per further failure, at most 1 h.
func backoff(failures, max int) time.Duration {
	if failures < max {
		return 0
	}
	d := 30 * time.Second
	for range failures - max {
		d *= 2
		if d >= time.Hour {
			return time.Hour
		}
	}
	return d
}

// readLockout reads unlock.json; a file that is not valid JSON counts as
// out of range. Callers hold the unlock lock.
func readLockout(dir string, now time.Time) lockout {
	var l lockout
	b, err := store.ReadRegular(filepath.Join(dir, lockoutFile), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return l
	}
	if err != nil || json.Unmarshal(b, &l) != nil {
		l = lockout{Failures: -1}
	}
	l, ok := l.sane(now)
	if !ok {
		_ = writeLockout(dir, l) // the short wait starts now, once
	}
	return l
}

func writeLockout(dir string, l lockout) error {
	b, _ := json.Marshal(l)
	return store.WriteFileAtomic(filepath.Join(dir, lockoutFile), b, 0o600)
}

// checkLockout returns a *LockedError if unlock must be refused now.
func checkLockout(dir string, now time.Time) error {
	l := readLockout(dir, now)
	max := l.Max
	if max < 1 {
		max = DefaultMaxFailures
	}
	if d := backoff(l.Failures, max); d > 0 {
		if until := time.Unix(0, l.Last).Add(d); now.Before(until) {
			return &LockedError{Failures: l.Failures, Until: until}
		}
	}
	return nil
}

// recordFailure counts a wrong passphrase and returns the new count, the
// limit in force and the count that wipes the vault (0: never).
func recordFailure(dir string, now time.Time) (n, max, wipe int) {
	l := readLockout(dir, now)
	l.Failures++
	l.Last = now.UnixNano()
	_ = writeLockout(dir, l)
	if l.Max < 1 {
		return l.Failures, DefaultMaxFailures, l.Wipe
	}
	return l.Failures, l.Max, l.Wipe
}

// clearFailures resets the count after a successful unlock and returns how
// many wrong passphrases preceded it.
func clearFailures(dir string) int {
	l := readLockout(dir, time.Now())
	if l.Failures > 0 {
		n := l.Failures
		l.Failures, l.Last = 0, 0
		_ = writeLockout(dir, l)
		return n
	}
	return 0
}

// SetMaxFailures caches the policy's limit of wrong passphrases where Open
// can read it before unlock.
func (v *Vault) SetMaxFailures(n int) error {
	return v.setLockoutLimits(n, -1)
}

// SetWipeAfterFailures caches the policy's wipe_after_failures (0: never)
// where Open can read it before unlock. Only an enrolled vault, which has
// a server to send the receipt to, wipes itself this way.
func (v *Vault) SetWipeAfterFailures(n int) error {
	if v.user.Org == nil {
		n = 0
	}
	return v.setLockoutLimits(-1, n)
}

// SetWipeAfterDays caches the policy's wipe_after_days (0: never) where a
// start before unlock can read it (DeadlinePassed).
func (v *Vault) SetWipeAfterDays(days int) error {
	if v.user.Org == nil {
		days = 0
	}
	unlock, err := lockFile(v.dir, "unlock")
	if err != nil {
		return err
	}
	defer unlock()
	l := readLockout(v.dir, time.Now())
	if l.WipeDays == days {
		return nil
	}
	l.WipeDays = days
	return writeLockout(v.dir, l)
}

func (v *Vault) setLockoutLimits(max, wipe int) error {
	unlock, err := lockFile(v.dir, "unlock")
	if err != nil {
		return err
	}
	defer unlock()
	l := readLockout(v.dir, time.Now())
	old := l
	if max >= 0 {
		l.Max = max
	}
	if wipe >= 0 {
		l.Wipe = wipe
	}
	if l == old {
		return nil
	}
	return writeLockout(v.dir, l)
}
