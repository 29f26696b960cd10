//go:build linux

package tattoo

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime returns the CPU time consumed so far by the calling OS
// thread, so that per-image times stay honest on a busy machine. The caller
// must hold runtime.LockOSThread.
func threadCPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lockThread pins the goroutine to its thread for threadCPUTime.
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
