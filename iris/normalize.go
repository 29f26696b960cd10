package iris

import (
	"math"
	"sort"
)

// polarIris is the unwrapped iris: PolarRows radii (rows, pupil side first) by
// PolarCols angles (columns), with the validity of each sample (1 = iris).
type polarIris struct {
	values, valid *grid
}

// unwrappedIris samples the iris between the pupil and the limbus on
// Daugman's rubber sheet; samples outside the image, on reflections or under
// the eyelids are invalid.
func unwrappedIris(g, reflections *grid, p, l circle, lids eyelids) polarIris {
	out := polarIris{values: newGrid(PolarCols, PolarRows), valid: newGrid(PolarCols, PolarRows)}
	for c := 0; c < PolarCols; c++ {
		theta := 2 * math.Pi * float64(c) / PolarCols
		px, py := p.point(theta)
		lx, ly := l.point(theta)
		for r := 0; r < PolarRows; r++ {
			f := PolarInner + (PolarOuter-PolarInner)*(float64(r)+0.5)/PolarRows
			x, y := px+f*(lx-px), py+f*(ly-py)
			v, ok := g.at(x, y)
			i := r*PolarCols + c
			out.values.v[i] = v
			if ok && reflections.nearest(x, y, 1) == 0 && !lids.covered(x, y) {
				out.valid.v[i] = 1
			}
		}
	}
	return out
}

// noiseMask invalidates eyelashes (much darker than the iris) and eyelid skin
// (much brighter), judged against the median and MAD of the valid samples.
func noiseMask(p polarIris) {
	var vals []float64
	for i, ok := range p.valid.v {
		if ok != 0 {
			vals = append(vals, float64(p.values.v[i]))
		}
	}
	if len(vals) < 16 {
		return
	}
	sort.Float64s(vals)
	med := vals[len(vals)/2]
	dev := make([]float64, len(vals))
	for i, v := range vals {
		dev[i] = math.Abs(v - med)
	}
	sort.Float64s(dev)
	mad := max(dev[len(dev)/2], 2)
	lo, hi := float32(med-NoiseDarkMAD*mad), float32(med+NoiseBrightMAD*mad)
	for i, v := range p.values.v {
		if v < lo || v > hi {
			p.valid.v[i] = 0
		}
	}
}
