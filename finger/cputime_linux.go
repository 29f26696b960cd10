package finger

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadClock measures the CPU time of the calling goroutine's thread, so
// that timings on a shared machine count one core's work, not the wait for
// it. Callers lock the goroutine to its thread while measuring.
type threadClock struct{}

func (threadClock) lock()   { runtime.LockOSThread() }
func (threadClock) unlock() { runtime.UnlockOSThread() }

func (threadClock) now() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
