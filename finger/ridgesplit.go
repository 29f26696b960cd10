package finger

import (
	"math"
	"sort"
)

// splitMergedRidges restores valleys that a blot has filled. In the binary
// image such a valley merges its two neighbouring ridges into one region
// about twice as wide across the flow as a ridge, whose skeleton wanders
// between them. A ridge pixel lies in such a region when the run of ridge
// pixels across the flow through it is longer than mergedRidgeWidth times
// the print's median run (measured in local ridge periods, so the ratio of
// ridge to valley width of each sensor sets its own norm). Inside those
// runs the pixels that the enhanced image does not show clearly dark —
// above −mergedRidgeDepth times the RMS of the ridge pixels of their block —
// are the blotted valley between two ridge centres, and become valley, but
// only where the enhanced profile across the flow does show two ridge
// centres about one period apart on either side (betweenTwoCentres): a
// wide region with one dark centre is a fork or an ending, never cut.
func splitMergedRidges(b []uint8, e *floatImage, o *orientationField, periods *blockField, m *blockMask) {
	w, h := e.w, e.h
	// The median run across the flow, in local periods, on a sparse grid.
	var ratios []float64
	for y := 2; y < h; y += 4 {
		for x := 2; x < w; x += 4 {
			if b[y*w+x] == 0 {
				continue
			}
			p := periods.v[(y/blockSize)*periods.bw+x/blockSize]
			ratios = append(ratios, ridgeRun(b, w, h, o, x, y, 2*p)/p)
		}
	}
	if len(ratios) == 0 {
		return
	}
	sort.Float64s(ratios)
	wide := mergedRidgeWidth * ratios[len(ratios)/2]

	// RMS of the enhanced image over the ridge pixels of each block.
	rms := make([]float64, m.bw*m.bh)
	count := make([]int, m.bw*m.bh)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if b[y*w+x] == 0 {
				continue
			}
			v := float64(e.v[y*w+x])
			k := (y/blockSize)*m.bw + x/blockSize
			rms[k] += v * v
			count[k]++
		}
	}
	for k := range rms {
		if count[k] > 0 {
			rms[k] = math.Sqrt(rms[k] / float64(count[k]))
		}
	}

	// Runs are measured on the binary image as it was: collect, then clear.
	var clear []int
	var prof []float32
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if b[i] == 0 {
				continue
			}
			k := (y/blockSize)*m.bw + x/blockSize
			if float64(e.v[i]) < -mergedRidgeDepth*rms[k] {
				continue
			}
			limit := wide * periods.v[k]
			if ridgeRun(b, w, h, o, x, y, limit) > limit && betweenTwoCentres(b, e, o, x, y, periods.v[k], &prof) {
				clear = append(clear, i)
			}
		}
	}
	for _, i := range clear {
		b[i] = 0
	}
}

// ridgeRun is the length in pixels of the run of ridge pixels across the
// local flow through (x, y), followed at most limit pixels each way.
func ridgeRun(b []uint8, w, h int, o *orientationField, x, y int, limit float64) float64 {
	theta := o.at(x, y)
	nx, ny := -math.Sin(theta), math.Cos(theta)
	run := 1.0
	for _, s := range [2]float64{-1, 1} {
		for d := 1.0; d <= limit; d++ {
			px := int(math.Round(float64(x) + s*d*nx))
			py := int(math.Round(float64(y) + s*d*ny))
			if px < 0 || py < 0 || px >= w || py >= h || b[py*w+px] == 0 {
				break
			}
			run++
		}
	}
	return run
}

// betweenTwoCentres reports whether (x, y), inside a merged ridge region,
// lies between two ridge centres: the enhanced profile across the flow,
// over the ridge run through (x, y) and mergedCentreReach periods beyond
// each end, has dark centres (local minima below zero) on both sides of
// (x, y), the nearest ones between mergedCentreMin and mergedCentreMax local
// periods apart with a lighter point between them. A region whose profile
// shows one dark centre (a fork or an ending seen across the flow) is never
// cut.
func betweenTwoCentres(b []uint8, e *floatImage, o *orientationField, x, y int, period float64, prof *[]float32) bool {
	w, h := e.w, e.h
	theta := o.at(x, y)
	nx, ny := -math.Sin(theta), math.Cos(theta)
	// The run's extent each way, then its profile from one end to the other.
	var reach [2]int
	for j, s := range [2]float64{-1, 1} {
		for d := 1; ; d++ {
			px := int(math.Round(float64(x) + s*float64(d)*nx))
			py := int(math.Round(float64(y) + s*float64(d)*ny))
			if px < 0 || py < 0 || px >= w || py >= h || b[py*w+px] == 0 {
				break
			}
			reach[j] = d
		}
	}
	// mergedCentreReach periods beyond each end, so that a centre at the
	// run's edge, or the next ridge's across a narrow valley, is seen.
	ext := int(math.Round(period * mergedCentreReach))
	p := (*prof)[:0]
	for d := -reach[0] - ext; d <= reach[1]+ext; d++ {
		px := int(math.Round(float64(x) + float64(d)*nx))
		py := int(math.Round(float64(y) + float64(d)*ny))
		if px < 0 || py < 0 || px >= w || py >= h {
			p = append(p, 0)
			continue
		}
		p = append(p, e.v[py*w+px])
	}
	*prof = p
	c := reach[0] + ext // index of (x, y)
	// The nearest dark centre on each side of (x, y).
	left, right := -1, -1
	for i := c - 1; i >= 1; i-- {
		if p[i] < 0 && p[i] <= p[i-1] && p[i] <= p[i+1] {
			left = i
			break
		}
	}
	for i := c + 1; i < len(p)-1; i++ {
		if p[i] < 0 && p[i] <= p[i-1] && p[i] <= p[i+1] {
			right = i
			break
		}
	}
	if left < 0 || right < 0 {
		return false
	}
	sep := float64(right-left) / period
	if sep < mergedCentreMin || sep > mergedCentreMax {
		return false
	}
	// The lightest point between them, which must be lighter than both.
	k := left
	for i := left + 1; i < right; i++ {
		if p[i] > p[k] {
			k = i
		}
	}
	if p[k] <= p[left] || p[k] <= p[right] {
		return false
	}
	return left < c && c < right
}
