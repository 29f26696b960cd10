package wsq

import "testing"

// TestSynthesisGainsMatchReconstruction checks the computed gains against
// the energy of the real reconstruction of a unit coefficient placed in the
// middle of each subband.
func TestSynthesisGainsMatchReconstruction(t *testing.T) {
	fb, err := newFilterBank(defaultLowPass, defaultHighPass)
	if err != nil {
		t.Fatal(err)
	}
	gains := synthesisGains(fb)
	const size = 1024
	tree := newDecomposition(size, size)
	for _, k := range []int{0, 3, 7, 8, 15, 18, 27, 33, 51, 53, 59, 62} {
		pix := make([]float32, size*size)
		r := tree.subbands[k]
		pix[(r.y+r.h/2)*size+r.x+r.w/2] = 1
		reconstruct(pix, tree, fb, size)
		e := 0.0
		for _, v := range pix {
			e += float64(v) * float64(v)
		}
		if d := e/gains[k] - 1; d > 0.01 || d < -0.01 {
			t.Errorf("subband %d: energy %.4f, gain %.4f", k, e, gains[k])
		}
	}
}
