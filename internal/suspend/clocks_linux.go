package suspend

import (
	"time"

	"golang.org/x/sys/unix"
)

// SystemClocks are CLOCK_MONOTONIC, which stops during suspend, and
// CLOCK_BOOTTIME, which does not (clock_gettime(2)); neither moves when
// the wall clock is set.
func SystemClocks() Clocks {
	return Clocks{Awake: clock(unix.CLOCK_MONOTONIC), Total: clock(unix.CLOCK_BOOTTIME)}
}

func clock(id int32) func() time.Duration {
	return func() time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(id, &ts); err != nil {
			return 0 // not on any kernel Go supports (BOOTTIME: 2.6.39)
		}
		return time.Duration(ts.Nano())
	}
}
