//go:build !unix

package wsq_test

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
