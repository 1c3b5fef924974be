package vault_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/vault"
)

// TestParallelGuessesEachCount: sixteen wrong guesses at once used to all
// get a scrypt try with one left. Attempts are serialised, so the limit
// holds: with a limit of 3, three guesses are tried and the rest refused.
func TestParallelGuessesEachCount(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	if err := v.SetMaxFailures(3); err != nil {
		t.Fatal(err)
	}
	v.Close()
	var mu sync.Mutex
	tried, locked := 0, 0
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := vault.Open(ctx, dir, "a wrong guess")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, vault.ErrWrongPassphrase):
				tried++
			case errors.Is(err, vault.ErrLocked):
				locked++
			default:
				t.Errorf("guess: %v", err)
			}
		})
	}
	wg.Wait()
	if tried != 3 || locked != 13 {
		t.Fatalf("%d guesses were tried and %d refused; want 3 and 13", tried, locked)
	}
}

// TestPlantedLockoutFile: someone with the folder writes unlock.json to
// lock the owner out for decades, or to hide guesses with a negative
// count, or fills it with garbage. Each is read as "the limit was reached
// just now": one short wait, never a free run of guesses.
func TestPlantedLockoutFile(t *testing.T) {
	ctx := context.Background()
	v, dir := newVault(t)
	v.Close()
	year2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for name, planted := range map[string]string{
		"locked until 2100": `{"failures":1000,"last":` + jsonInt(year2100) + `}`,
		"negative count":    `{"failures":-1000000,"last":0}`,
		"garbage":           `not json at all`,
		"huge limit":        `{"failures":-5,"last":0,"max":1000000000}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := copyVault(t, dir)
			path := filepath.Join(d, "unlock.json")
			if err := os.WriteFile(path, []byte(planted), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := vault.Open(ctx, d, testPass)
			var le *vault.LockedError
			if !errors.As(err, &le) {
				t.Fatalf("a planted unlock.json gave %v, want a short lock", err)
			}
			if wait := time.Until(le.Until); wait > time.Minute {
				t.Fatalf("locked for %s", wait)
			}
			// After the short wait the owner gets in.
			var l map[string]any
			b, _ := os.ReadFile(path)
			if err := json.Unmarshal(b, &l); err != nil {
				t.Fatalf("unlock.json was not rewritten sane: %s", b)
			}
			l["last"] = time.Now().Add(-time.Minute).UnixNano()
			b, _ = json.Marshal(l)
			os.WriteFile(path, b, 0o600)
			v, err := vault.Open(ctx, d, testPass)
			if err != nil {
				t.Fatalf("after the wait: %v", err)
			}
			v.Close()
		})
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
