//go:build linux

package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time the process has used (every thread), which
// the machine's load does not inflate as it does wall time.
func processCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
