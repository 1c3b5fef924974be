//go:build !linux

package suspend

import "time"

// SystemClocks are Go's monotonic clock, which stops during sleep on
// macOS (CLOCK_UPTIME_RAW), and the wall clock, which runs on (and also
// moves when set).
func SystemClocks() Clocks {
	start := time.Now()
	wall := start.Round(0)
	return Clocks{
		Awake: func() time.Duration { return time.Since(start) },
		Total: func() time.Duration { return time.Now().Round(0).Sub(wall) },
	}
}
