package fusion

import (
	_ "embed"
	"sync"
)

// calibrationJSON holds the calibrations Huella ships. It is generated, not
// edited: "huella eval fusion --write-calibration fusion/calibration.json"
// fitted on all the scores that each engine's eval command writes with
// --scores on the dev data (finger: FVC2002 DB1–DB4 B, all pairs; iris:
// CASIA-Iris-Interval, all pairs; face: LFW View 1 DevTrain). Regenerate it
// whenever an engine's scores change; BENCHMARKS.md records the run.
//
//go:embed calibration.json
var calibrationJSON []byte

var (
	defaultOnce sync.Once
	defaultSet  Set
	defaultErr  error
)

// Default returns the shipped calibrations, by modality name.
func Default() (Set, error) {
	defaultOnce.Do(func() { defaultSet, defaultErr = ParseSet(calibrationJSON) })
	return defaultSet, defaultErr
}
