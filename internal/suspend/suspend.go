// Package suspend tells whether the computer has slept (suspended,
// hibernated) — or had its clock set forward — since a session began, so
// that an unlocked vault locks when the lid closes rather than some time
// after it opens again.
//
// Go's timers and its monotonic clock stop while the computer sleeps
// (CLOCK_MONOTONIC on Linux, CLOCK_UPTIME_RAW on macOS): an idle timer of
// 15 minutes fires after 15 minutes of awake time, however long the laptop
// slept in between, and the first touch of whoever opens the lid counts
// as the user's. A Detector compares that clock with one that runs on
// during sleep: CLOCK_BOOTTIME on Linux, the wall clock elsewhere (there a
// clock set forward counts as sleep too: the safer mistake). Where the
// monotonic clock itself runs on during sleep, nothing is detected, and
// the idle lock counts the sleep as idle time anyway.
package suspend

import (
	"sync"
	"time"
)

// Gap is how far the clock that runs during sleep may get ahead of the
// one that does not between two looks before the computer is taken to
// have slept: well over scheduling delays and clock slewing between looks
// a second apart, well under any real sleep.
const Gap = 2 * time.Second

// Clocks are the two clocks a Detector compares, each as time since some
// fixed point: Awake stops while the computer sleeps, Total does not.
type Clocks struct {
	Awake, Total func() time.Duration
}

// Detector watches one session. Safe for concurrent use.
type Detector struct {
	clocks Clocks

	mu           sync.Mutex
	awake, total time.Duration // at the last look
	slept        bool
}

// New starts watching with the system's clocks.
func New() *Detector { return NewWithClocks(SystemClocks()) }

// NewWithClocks starts watching with c (tests).
func NewWithClocks(c Clocks) *Detector {
	return &Detector{clocks: c, awake: c.Awake(), total: c.Total()}
}

// Slept reports whether the computer slept since the Detector was made.
// Once it did, Slept stays true. Call it often (every second or so, and
// before acting on a user's input): each call compares the clocks' advance
// since the previous one, so slow drift between them never adds up.
func (d *Detector) Slept() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.slept {
		return true
	}
	awake, total := d.clocks.Awake(), d.clocks.Total()
	if (total-d.total)-(awake-d.awake) > Gap {
		d.slept = true
		return true
	}
	d.awake, d.total = awake, total
	return false
}
