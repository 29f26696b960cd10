package finger

import (
	"math"
	"math/bits"
	"slices"
)

// DescriptorBytes is the size of a Descriptor.
const DescriptorBytes = descriptorBits / 8

const descriptorWords = descriptorBits / 64

// Descriptor is the fixed-length, alignment-free summary of a template used
// to pre-select gallery entries before the exact comparator: a histogram of
// the geometry of its minutia pairs (distance and both directions relative
// to the line joining them, invariant to rotation and translation), of which
// the most populated cells are kept as set bits. Two descriptors compare by
// the count of bits they share (Similarity), millions of times per second.
type Descriptor [descriptorWords]uint64

// descriptorConfig shapes a descriptor; descriptorDefault is the one in use.
type descriptorConfig struct {
	minDist, maxDist float64 // pair lengths considered (pixels at 500 ppi)
	distBins         int     // bins over [minDist, maxDist)
	angleBins        int     // bins of each relative direction
	keep             float64 // fraction of the cells kept as set bits
}

var descriptorDefault = descriptorConfig{
	minDist: descriptorMinDistance, maxDist: descriptorMaxDistance,
	distBins: descriptorDistanceBins, angleBins: descriptorAngleBins, keep: descriptorKeep,
}

// Describe computes the descriptor of a template.
func Describe(t *Template) Descriptor {
	return descriptorDefault.describe(t)
}

func (cfg descriptorConfig) cells() int { return cfg.distBins * cfg.angleBins * cfg.angleBins }

// histogram returns the soft (linearly interpolated) histogram of the
// template's ordered minutia pairs over (distance, α, β), where α and β are
// the directions of the first and second minutia relative to the line from
// the first to the second.
func (cfg descriptorConfig) histogram(t *Template) []float32 {
	nD, nA := cfg.distBins, cfg.angleBins
	h := make([]float32, cfg.cells())
	dStep := (cfg.maxDist - cfg.minDist) / float64(nD)
	aStep := 2 * math.Pi / float64(nA)
	ms := t.Minutiae
	vote := func(d, alpha, beta float64) {
		u := (d-cfg.minDist)/dStep - 0.5
		v := wrapAngle(alpha)/aStep - 0.5
		w := wrapAngle(beta)/aStep - 0.5
		u0, v0, w0 := math.Floor(u), math.Floor(v), math.Floor(w)
		fu, fv, fw := u-u0, v-v0, w-w0
		for a := 0; a < 2; a++ {
			du := int(u0) + a
			if du < 0 || du >= nD {
				continue
			}
			wu := 1 - fu
			if a == 1 {
				wu = fu
			}
			for b := 0; b < 2; b++ {
				dv := (int(v0) + b + nA) % nA
				wv := 1 - fv
				if b == 1 {
					wv = fv
				}
				row := h[(du*nA+dv)*nA:]
				dw0 := (int(w0) + nA) % nA
				dw1 := (dw0 + 1) % nA
				row[dw0] += float32(wu * wv * (1 - fw))
				row[dw1] += float32(wu * wv * fw)
			}
		}
	}
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			dx, dy := float64(ms[j].X-ms[i].X), float64(ms[j].Y-ms[i].Y)
			d := math.Hypot(dx, dy)
			if d < cfg.minDist || d >= cfg.maxDist {
				continue
			}
			// Both orders of the pair: the line from j to i is line + π.
			line := math.Atan2(dy, dx)
			vote(d, ms[i].Direction-line, ms[j].Direction-line)
			vote(d, ms[j].Direction-line-math.Pi, ms[i].Direction-line-math.Pi)
		}
	}
	return h
}

func (cfg descriptorConfig) describe(t *Template) Descriptor {
	var d Descriptor
	h := cfg.histogram(t)
	keep := int(cfg.keep * float64(len(h)))
	// The keep most populated cells, ties going to the lower cell number:
	// those above the keep-th largest value, then those equal to it.
	cut := nthLargest(slices.Clone(h), keep)
	if cut <= 0 {
		cut = math.SmallestNonzeroFloat32
	}
	above := 0
	for c, v := range h {
		if v > cut {
			d[c/64] |= 1 << (c % 64)
			above++
		}
	}
	for c, v := range h {
		if above == keep {
			break
		}
		if v == cut {
			d[c/64] |= 1 << (c % 64)
			above++
		}
	}
	return d
}

// nthLargest returns the n-th largest value of v (1 the largest),
// reordering v (Hoare's selection).
func nthLargest(v []float32, n int) float32 {
	k := n - 1 // index in descending order
	lo, hi := 0, len(v)-1
	for lo < hi {
		pivot := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] > pivot {
				i++
			}
			for v[j] < pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// wrapAngle maps an angle within (-6π, 6π) to [0, 2π).
func wrapAngle(a float64) float64 {
	for a < 0 {
		a += 2 * math.Pi
	}
	for a >= 2*math.Pi {
		a -= 2 * math.Pi
	}
	return a
}

// Similarity counts the bits two descriptors share.
func (d *Descriptor) Similarity(e *Descriptor) int {
	n := 0
	for i := range d {
		n += bits.OnesCount64(d[i] & e[i])
	}
	return n
}
