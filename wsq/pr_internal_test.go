package wsq

import (
	"math/rand/v2"
	"testing"
)

func TestPerfectReconstruction(t *testing.T) {
	fb, err := newFilterBank(defaultLowPass, defaultHighPass)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{37, 23}, {64, 64}, {545, 622}, {1, 1}, {2, 3}, {5, 1}} {
		w, h := size[0], size[1]
		pix := make([]float32, w*h)
		orig := make([]float32, w*h)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range pix {
			pix[i] = float32(rng.IntN(256)) - 128
			orig[i] = pix[i]
		}
		d := newDecomposition(w, h)
		p := newPlane(pix, w)
		for _, r := range d.nodes {
			p.analyze(fb, r)
		}
		for i := len(d.nodes) - 1; i >= 0; i-- {
			p.synthesize(fb, d.nodes[i])
		}
		var maxd float32
		for i := range pix {
			maxd = max(maxd, abs32(pix[i]-orig[i]))
		}
		if maxd > 0.01 {
			t.Errorf("%dx%d: max reconstruction error %g", w, h, maxd)
		}
	}
}
