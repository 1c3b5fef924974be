package suspend

import (
	"sync/atomic"
	"testing"
	"time"
)

// fake is a pair of clocks the test moves.
type fake struct{ awake, total atomic.Int64 }

func (f *fake) clocks() Clocks {
	return Clocks{
		Awake: func() time.Duration { return time.Duration(f.awake.Load()) },
		Total: func() time.Duration { return time.Duration(f.total.Load()) },
	}
}

func (f *fake) run(d time.Duration)   { f.awake.Add(int64(d)); f.total.Add(int64(d)) }
func (f *fake) sleep(d time.Duration) { f.total.Add(int64(d)) }

func TestSlept(t *testing.T) {
	var f fake
	d := NewWithClocks(f.clocks())
	for range 3600 {
		f.run(time.Second)
		// Drift between the clocks of 0.5 ms a second: an hour of it
		// is 1.8 s, and never a sleep, since each look compares only the
		// advance since the last.
		f.total.Add(int64(500 * time.Microsecond))
		if d.Slept() {
			t.Fatal("awake time with slow drift counted as sleep")
		}
	}
	f.sleep(Gap / 2)
	if d.Slept() {
		t.Fatalf("a pause of %v counted as sleep", Gap/2)
	}
	f.sleep(10 * time.Minute)
	if !d.Slept() {
		t.Fatal("10 minutes asleep not seen")
	}
	f.run(time.Hour)
	if !d.Slept() {
		t.Fatal("a sleep seen once is forgotten")
	}
}

// TestSystemClocks: this machine's clocks advance together while it is
// awake (the test cannot make it sleep).
func TestSystemClocks(t *testing.T) {
	c := SystemClocks()
	a0, t0 := c.Awake(), c.Total()
	time.Sleep(50 * time.Millisecond)
	da, dt := c.Awake()-a0, c.Total()-t0
	if da < 50*time.Millisecond || dt < 50*time.Millisecond {
		t.Fatalf("over a 50 ms sleep the clocks moved %v (awake) and %v (total)", da, dt)
	}
	if diff := dt - da; diff > Gap || diff < -Gap {
		t.Fatalf("the clocks parted by %v while awake", diff)
	}
	if New().Slept() {
		t.Fatal("a new detector says the computer slept")
	}
}
