//go:build !linux

package tattoo

import "time"

var processStart = time.Now()

// threadCPUTime falls back to wall-clock time where per-thread CPU time is
// not available.
func threadCPUTime() time.Duration { return time.Since(processStart) }

func lockThread() func() { return func() {} }
