//go:build unix

package wsq_test

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time of the process, so that
// the benchmarks can report throughput per core-second on a shared machine.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
