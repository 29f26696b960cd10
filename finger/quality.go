package finger

import (
	"math"
	"sort"
)

// imageQuality rates a print 0–100 from what extraction measured: the ridge
// clarity inside the foreground (the mean autocorrelation peak of the
// oriented ridge profiles, as NFIQ 2's local clarity) and the foreground
// area. Orientation coherence and the minutiae count predicted failures
// less well on the dev data (see BENCHMARKS.md).
func imageQuality(o *orientationField, m *blockMask, clarity *blockField, minutiae int) int {
	var clear float64
	n := 0
	for b, fg := range m.fg {
		if fg {
			clear += clarity.v[b]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	clear /= float64(n)
	area := math.Min(1, float64(n)/qualityFullArea)
	q := 100 * math.Min(1, clear/qualityFullClarity) * math.Sqrt(area)
	return int(math.Round(math.Min(100, math.Max(0, q))))
}

// printQuality is the quality a template reports (0–100): the ridge
// quality of imageQuality times the square root of its minutiae's mean
// reliability relative to qualityFullReliability (a typical print's), times
// two factors read from the minutiae count against the foreground area (in
// blocks) that predict failed genuine comparisons on every dev set:
//
//   - excess density: the share of the minutiae the area can hold at
//     qualityMaxDensity per block. Wet, blotted or smudged prints break and
//     bridge their ridges into more minutiae than a finger has, and those
//     are false (FVC2002 DB4's blotted fingers);
//   - evidence: the count relative to qualityFullMinutiae. A small or
//     sparse print leaves the comparator few minutiae to pair (FVC2002
//     DB1's partial prints).
//
// The rejection of non-prints keeps to the ridge quality. See BENCHMARKS.md
// ("Quality, issue 14").
func printQuality(ridges int, minutiae []Minutia, foreground int) int {
	if len(minutiae) == 0 || foreground <= 0 {
		return 0
	}
	var sum float64
	for _, m := range minutiae {
		sum += float64(m.Quality) / 100
	}
	n := float64(len(minutiae))
	q := float64(ridges) * math.Sqrt(sum/n/qualityFullReliability)
	q *= min(1, qualityMaxDensity*float64(foreground)/n)
	q *= min(1, n/qualityFullMinutiae)
	return int(math.Round(min(100, max(0, q))))
}

// reliabilityMaps are the local quality maps a minutia's reliability is
// read from (after NIST mindtct's low-contrast, low-flow and high-curvature
// maps and its distance to the border), each per block in [0, 1] with 1 the
// most reliable.
type reliabilityMaps struct {
	bw, bh int
	// contrast is the grey contrast relative to the print's own typical
	// contrast: low on smudged or faint patches.
	contrast []float64
	// flow is the orientation coherence: low where no ridge flow shows.
	flow []float64
	// straightness is 1 minus the local curvature of the orientation field
	// (the turn of the doubled angle over the 3×3 blocks): low near cores
	// and deltas, where ridge directions change fast.
	straightness []float64
	// border is the distance to the background, in blocks, capped at
	// reliabilityBorderBlocks and scaled to [0, 1].
	border []float64
}

// minutiaReliabilityMaps builds the reliability maps of a print.
func minutiaReliabilityMaps(contrast *blockField, o *orientationField, m *blockMask) *reliabilityMaps {
	bw, bh := m.bw, m.bh
	r := &reliabilityMaps{bw: bw, bh: bh, contrast: make([]float64, bw*bh), flow: make([]float64, bw*bh),
		straightness: make([]float64, bw*bh), border: make([]float64, bw*bh)}
	var fg []float64
	for b, f := range m.fg {
		if f {
			fg = append(fg, contrast.v[b])
		}
	}
	typical := 1.0
	if len(fg) > 0 {
		sort.Float64s(fg)
		typical = max(fg[len(fg)/2], 1)
	}
	// Chessboard distance to the nearest background block (or image edge).
	dist := make([]int, bw*bh)
	for b := range dist {
		if m.fg[b] {
			dist[b] = bw + bh
		}
	}
	for b := range dist {
		bx, by := b%bw, b/bw
		if bx == 0 || by == 0 || bx == bw-1 || by == bh-1 {
			dist[b] = min(dist[b], 1)
		}
	}
	for pass := 0; pass < 2; pass++ {
		for i := range dist {
			b := i
			if pass == 1 {
				b = len(dist) - 1 - i
			}
			bx, by := b%bw, b/bw
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := bx+dx, by+dy
					if x < 0 || y < 0 || x >= bw || y >= bh {
						continue
					}
					dist[b] = min(dist[b], dist[y*bw+x]+1)
				}
			}
		}
	}
	for b := range m.fg {
		r.contrast[b] = min(1, contrast.v[b]/typical)
		r.flow[b] = o.coherence[b]
		r.border[b] = min(1, float64(dist[b])/reliabilityBorderBlocks)
		bx, by := b%bw, b/bw
		vx, vy := o.vx[b], o.vy[b]
		n0 := math.Hypot(vx, vy)
		if n0 == 0 {
			continue
		}
		var turn float64
		n := 0
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				x, y := bx+dx, by+dy
				if (dx == 0 && dy == 0) || x < 0 || y < 0 || x >= bw || y >= bh {
					continue
				}
				wx, wy := o.vx[y*bw+x], o.vy[y*bw+x]
				if n1 := math.Hypot(wx, wy); n1 > 0 {
					// 1 − cos of the doubled-angle difference, in [0, 2].
					turn += 1 - (vx*wx+vy*wy)/(n0*n1)
					n++
				}
			}
		}
		if n > 0 {
			r.straightness[b] = max(0, 1-turn/float64(n)/reliabilityMaxTurn)
		}
	}
	return r
}

// at returns the reliability of a minutia at a pixel in [0, 1]: the
// product of the maps of its block, with its ridge clarity.
func (r *reliabilityMaps) at(x, y int, clarity float64) float64 {
	bx := min(max(x/blockSize, 0), r.bw-1)
	by := min(max(y/blockSize, 0), r.bh-1)
	b := by*r.bw + bx
	return min(1, clarity/qualityFullClarity) * r.contrast[b] * min(1, r.flow[b]/reliabilityFullFlow) *
		r.straightness[b] * r.border[b]
}
