package finger

import (
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestRidgeMaskDropsContactEdge checks the ridge-period trim of the
// segmentation on an FVC2004 DB2 print whose contact area ends in a
// straight, bright strip down the left and right sides: contrast and
// coherence take the strip's edge for ridges, the ridge mask does not, and
// it keeps the print itself.
func TestRidgeMaskDropsContactEdge(t *testing.T) {
	dir := datasets.Path(t, "fingerprint/fvc2004/DB2_B")
	img := datasets.Gray(t, filepath.Join(dir, "104_3.tif"))
	g := resampledImage(img, StandardPPI)
	o := blockOrientations(g)
	m := segmentationMask(blockContrasts(g), o)
	_, clarity := ridgePeriods(g, o, m)
	r := ridgeMask(m, clarity)
	// The strips: the two outermost block columns on each side.
	strip := func(mask *blockMask) int {
		n := 0
		for by := 0; by < mask.bh; by++ {
			for _, bx := range []int{0, 1, mask.bw - 2, mask.bw - 1} {
				if mask.fg[by*mask.bw+bx] {
					n++
				}
			}
		}
		return n
	}
	if got := strip(m); got < 20 {
		t.Fatalf("segmentation mask has %d strip blocks, want >= 20 (the case this test is about)", got)
	}
	if got := strip(r); got > 2 {
		t.Errorf("ridge mask has %d strip blocks, want <= 2", got)
	}
	if kept := float64(r.count()) / float64(m.count()); kept < 0.7 {
		t.Errorf("ridge mask keeps %.2f of the segmentation mask, want >= 0.70", kept)
	}
}
