//go:build !linux

package finger

import "time"

// threadClock falls back to the wall clock where thread CPU time is not
// available.
type threadClock struct{}

var clockStart = time.Now()

func (threadClock) lock()   {}
func (threadClock) unlock() {}

func (threadClock) now() time.Duration { return time.Since(clockStart) }
