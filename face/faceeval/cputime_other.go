//go:build !linux

package faceeval

import "time"

func threadCPU() time.Duration { return 0 }

const haveThreadCPU = false
