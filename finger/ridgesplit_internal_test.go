package finger

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// splitStages runs the extraction up to the binary image of one dev print
// and returns it with what splitMergedRidges needs.
func splitStages(t *testing.T, set, name string) ([]uint8, *floatImage, *orientationField, *blockField, *blockMask) {
	t.Helper()
	dir := datasets.Path(t, set)
	img := datasets.Gray(t, filepath.Join(dir, name))
	g := resampledImage(img, StandardPPI)
	o := blockOrientations(g)
	m := segmentationMask(blockContrasts(g), o)
	periods, clarity := ridgePeriods(g, o, m)
	m = ridgeMask(m, clarity)
	e := enhancedImage(g, o, periods, m)
	return binarizedImage(e, m), e, o, periods, m
}

// TestSplitMergedRidges checks the valley restoration on a wet, blotted
// FVC2002 DB4 print (finger 110) and a clean FVC2002 DB1 one: on the wet
// print it turns at least 0.1% of the ridge pixels back into valley (0.19%
// when written), on the clean one at most 0.05% (none); it never adds ridge, and
// never clears a pixel among the darkest of the enhanced ridges.
func TestSplitMergedRidges(t *testing.T) {
	share := map[string]float64{}
	for _, c := range []struct{ set, name string }{
		{"fingerprint/fvc2002/DB4_B", "110_2.tif"},
		{"fingerprint/fvc2002/DB1_B", "101_1.tif"},
	} {
		b, e, o, periods, m := splitStages(t, c.set, c.name)
		before := append([]uint8(nil), b...)
		splitMergedRidges(b, e, o, periods, m)
		ridge, cleared := 0, 0
		for i := range b {
			if b[i] > before[i] {
				t.Fatalf("%s/%s: pixel %d became ridge", c.set, c.name, i)
			}
			if before[i] == 1 {
				ridge++
			}
			if b[i] < before[i] {
				cleared++
				if e.v[i] < 0 && e.v[i] < -4*rmsOfRidges(before, e) {
					t.Errorf("%s/%s: cleared pixel %d is among the darkest (%.1f)", c.set, c.name, i, e.v[i])
				}
			}
		}
		share[c.set] = float64(cleared) / float64(ridge)
		t.Logf("%s/%s: %d of %d ridge pixels cleared (%.2f%%)", c.set, c.name, cleared, ridge, 100*share[c.set])
	}
	wet, clean := share["fingerprint/fvc2002/DB4_B"], share["fingerprint/fvc2002/DB1_B"]
	if wet < 0.001 {
		t.Errorf("wet print: %.2f%% of ridge pixels cleared, want >= 0.1%%", 100*wet)
	}
	if clean > 0.0005 {
		t.Errorf("clean print: %.2f%% of ridge pixels cleared, want <= 0.05%%", 100*clean)
	}
}

// rmsOfRidges is the RMS of the enhanced image over the ridge pixels.
func rmsOfRidges(b []uint8, e *floatImage) float32 {
	var s float64
	n := 0
	for i, v := range b {
		if v == 1 {
			s += float64(e.v[i]) * float64(e.v[i])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return float32(math.Sqrt(s / float64(n)))
}
