package iris

import (
	"math"
	"math/bits"
)

// Shifts is the number of rotations compared: −MaxShift … +MaxShift columns.
const Shifts = 2*MaxShift + 1

// normalizedHD is Daugman's score normalisation of a masked fractional Hamming
// distance: d differing bits among n compared, rescaled to the spread expected
// for NormBits compared bits, so that a match on few bits counts for less.
func normalizedHD(d, n int) float64 {
	if n < MinCompareBits {
		return 0.5
	}
	hd := float64(d) / float64(n)
	return 0.5 - (0.5-hd)*math.Sqrt(float64(n)/NormBits)
}

// rotated returns the code rotated by shift columns (bit i of the result is
// bit i+shift·ColumnBits of src, modulo CodeBits).
func rotated(src []uint64, shift int) []uint64 {
	k := ((shift*ColumnBits)%CodeBits + CodeBits) % CodeBits
	dst := make([]uint64, CodeWords)
	wordShift, bitShift := k/64, uint(k%64)
	for i := range dst {
		lo := src[(i+wordShift)%CodeWords]
		hi := src[(i+wordShift+1)%CodeWords]
		if bitShift == 0 {
			dst[i] = lo
		} else {
			dst[i] = lo>>bitShift | hi<<(64-bitShift)
		}
	}
	return dst
}

// Distance compares two templates: the smallest normalised masked Hamming
// distance over rotations of ±MaxShift columns (0 = identical, about 0.5 for
// different eyes), and the shift that gave it.
func Distance(a, b *Template) (dist float64, shift int) {
	p := NewProbe(a)
	entry := make([]uint64, 2*CodeWords)
	copy(entry, b.Code)
	copy(entry[CodeWords:], b.Mask)
	return p.distance(entry)
}

// Score is the similarity of two templates (higher = more alike): the
// negated Distance, for the evaluation package's convention.
func Score(a, b *Template) float64 {
	d, _ := Distance(a, b)
	return -d
}

// Probe is a template prepared for matching against many others: its code
// and mask at every rotation, contiguous. Build it once per search.
type Probe struct {
	// rot holds, for each shift s, the rotated code then the rotated mask
	// (2·CodeWords words).
	rot [Shifts][2 * CodeWords]uint64
}

// NewProbe prepares t for matching.
func NewProbe(t *Template) *Probe {
	p := &Probe{}
	for s := -MaxShift; s <= MaxShift; s++ {
		copy(p.rot[s+MaxShift][:CodeWords], rotated(t.Code, s))
		copy(p.rot[s+MaxShift][CodeWords:], rotated(t.Mask, s))
	}
	return p
}

// distance is the exhaustive comparison of the probe with one gallery entry
// (code then mask, 2·CodeWords words): every shift, every word.
func (p *Probe) distance(entry []uint64) (float64, int) {
	code, mask := entry[:CodeWords], entry[CodeWords:2*CodeWords]
	best, bestShift := math.Inf(1), 0
	for s := range p.rot {
		pc, pm := p.rot[s][:CodeWords], p.rot[s][CodeWords:]
		d, n := 0, 0
		for i := range code {
			m := pm[i] & mask[i]
			d += bits.OnesCount64((pc[i] ^ code[i]) & m)
			n += bits.OnesCount64(m)
		}
		if h := normalizedHD(d, n); h < best {
			best, bestShift = h, s-MaxShift
		}
	}
	return best, bestShift
}
