package iris

import "math"

// polarIris is the unwrapped iris: PolarRows radii (rows, pupil side first) by
// PolarCols angles (columns), with the validity of each sample (1 = iris),
// and the radius in input pixels of the circle each code band samples (the
// columns' spacing in pixels is 2π·radius/PolarCols).
type polarIris struct {
	values, valid *grid
	bandRadius    [Bands]float64
}

// unwrappedIris samples the iris between the pupil and the limbus on
// Daugman's rubber sheet; samples outside the image, on reflections, on
// eyelashes (a mask factor times smaller than g) or under the eyelids are
// invalid.
func unwrappedIris(g, reflections, lashes *grid, factor int, p, l circle, lids eyelids) polarIris {
	inv := 1 / float64(factor)
	out := polarIris{values: newGrid(PolarCols, PolarRows), valid: newGrid(PolarCols, PolarRows)}
	for b := range out.bandRadius {
		f := PolarInner + (PolarOuter-PolarInner)*(float64(b)+0.5)/Bands
		out.bandRadius[b] = p.R + f*(l.R-p.R)
	}
	// The outer circle of the sheet is the limbus re-centred half-way to the
	// pupil's centre: on dark irises the limbus centre disagrees by several
	// pixels between images of one eye (MMU2), and the sheet's outer
	// reference does not need it.
	outer := circle{(p.X + l.X) / 2, (p.Y + l.Y) / 2, l.R}
	for c := 0; c < PolarCols; c++ {
		theta := 2 * math.Pi * float64(c) / PolarCols
		px, py := p.point(theta)
		lx, ly := outer.point(theta)
		for r := 0; r < PolarRows; r++ {
			f := PolarInner + (PolarOuter-PolarInner)*(float64(r)+0.5)/PolarRows
			x, y := px+f*(lx-px), py+f*(ly-py)
			v, ok := g.at(x, y)
			i := r*PolarCols + c
			out.values.v[i] = v
			if ok && reflections.nearest(x, y, 1) == 0 && lashes.nearest((x+0.5)*inv-0.5, (y+0.5)*inv-0.5, 1) == 0 && !lids.covered(x, y) {
				out.valid.v[i] = 1
			}
		}
	}
	return out
}

// noiseMask invalidates eyelashes (much darker than the iris) and eyelid skin
// (much brighter), judged against the median and MAD of the valid samples.
func noiseMask(p polarIris) {
	// Median and MAD from a histogram in quarter grey levels.
	const bins = 4 * 256
	var hist [bins]int
	total := 0
	for i, ok := range p.valid.v {
		if ok != 0 {
			hist[min(max(int(4*p.values.v[i]), 0), bins-1)]++
			total++
		}
	}
	if total < 16 {
		return
	}
	quantile := func(h *[bins]int, n int) float64 {
		acc := 0
		for i, c := range h {
			acc += c
			if 2*acc >= n {
				return float64(i) / 4
			}
		}
		return float64(bins-1) / 4
	}
	med := quantile(&hist, total)
	var devHist [bins]int
	for i, c := range hist {
		devHist[min(int(4*math.Abs(float64(i)/4-med)), bins-1)] += c
	}
	mad := max(quantile(&devHist, total), 2)
	lo, hi := float32(med-NoiseDarkMAD*mad), float32(med+NoiseBrightMAD*mad)
	for i, v := range p.values.v {
		if v < lo || v > hi {
			p.valid.v[i] = 0
		}
	}
}
