// Package cpulevel caps the instruction sets the 1:N scan kernels (iris,
// face, finger) may use. Each engine picks the fastest kernel its CPU runs;
// the environment variable HUELLA_CPU, read once at start, lowers that
// choice so that every path can be evaluated and benchmarked on one machine:
//
//	HUELLA_CPU=generic  pure Go only
//	HUELLA_CPU=avx2     at most AVX2 (no AVX-512)
//	HUELLA_CPU=avx512   no cap (the default)
package cpulevel

import (
	"fmt"
	"os"
)

// Level is an instruction-set level a kernel needs, lowest first.
type Level int

// The levels a kernel may need. Generic is pure Go and runs everywhere.
const (
	Generic Level = iota
	AVX2
	AVX512
)

// String returns the level's name as HUELLA_CPU spells it.
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Parse reads a level name as HUELLA_CPU spells it; "" means no cap.
func Parse(s string) (Level, error) {
	switch s {
	case "", "avx512":
		return AVX512, nil
	case "avx2":
		return AVX2, nil
	case "generic", "purego":
		return Generic, nil
	}
	return AVX512, fmt.Errorf("HUELLA_CPU=%q: want generic, avx2 or avx512", s)
}

var limit, limitErr = Parse(os.Getenv("HUELLA_CPU"))

// Limit is the highest level HUELLA_CPU allows (AVX512 when it is unset or
// invalid; Check reports an invalid value).
func Limit() Level { return limit }

// Check returns an error when HUELLA_CPU is set to an unknown level, so
// that a command can refuse to run with a cap it would silently ignore.
func Check() error { return limitErr }
