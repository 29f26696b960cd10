package iris

import (
	"math"
	"math/bits"
)

// Shifts is the number of rotations compared: −MaxShift … +MaxShift columns.
const Shifts = 2*MaxShift + 1

// RotRows is the number of probe rows the kernel reads: one per shift,
// rounded up to a multiple of four (the extra rows repeat shift 0, which
// changes no minimum or maximum) unless a single row remains, which the
// kernel takes alone more cheaply.
const RotRows = Shifts + (4-Shifts%4)%4*min(1, Shifts%4/2)

// shiftPenalty is added to the distance at each shift (indexed by
// shift+MaxShift): RollPenalty per column beyond FreeShift, a prior on how
// far two images of one eye roll, so that the outer shifts a rotated eye
// needs do not lower every impostor's minimum as much as free shifts would.
var shiftPenalty = func() (p [Shifts]float64) {
	for s := range p {
		p[s] = RollPenalty * float64(max(0, abs(s-MaxShift)-FreeShift))
	}
	return p
}()

// normalizedHD is Daugman's score normalisation of a masked fractional Hamming
// distance: d differing bits among n compared, rescaled to the spread expected
// for NormBits compared bits, so that a match on few bits counts for less.
// It reads precomputed tables so that every search method computes the same
// floating-point value.
func normalizedHD(d, n int) float64 {
	if n < MinCompareBits {
		return 0.5
	}
	return 0.5 - (0.5-float64(d)*normTables.inv[n])*normTables.sqrt[n]
}

// normTables holds 1/n and sqrt(n/NormBits) for every possible n.
var normTables = func() (t struct{ inv, sqrt [CodeBits + 1]float64 }) {
	for n := 1; n <= CodeBits; n++ {
		t.inv[n] = 1 / float64(n)
		t.sqrt[n] = math.Sqrt(float64(n) / NormBits)
	}
	return t
}()

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
// distance over rotations of ±MaxShift columns, each raised by the roll
// prior (RollPenalty per column beyond FreeShift), (0 = identical, about
// 0.5 for different eyes), and the shift that gave it.
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
	// rot holds, for each shift s, the rotated code then the rotated mask.
	rot [RotRows][EntryWords]uint64
	// maskNibbles holds, for each shift, the low then the high nibble of
	// every byte of the rotated mask (as bytes 0–15), for the AVX2 kernel.
	maskNibbles [RotRows][EntryWords]uint64
}

// NewProbe prepares t for matching.
func NewProbe(t *Template) *Probe {
	p := &Probe{}
	for s := -MaxShift; s <= MaxShift; s++ {
		copy(p.rot[s+MaxShift][:CodeWords], rotated(t.Code, s))
		copy(p.rot[s+MaxShift][CodeWords:], rotated(t.Mask, s))
	}
	for s := Shifts; s < RotRows; s++ {
		p.rot[s] = p.rot[MaxShift]
	}
	const lowNibbles = 0x0f0f0f0f0f0f0f0f
	for s := range p.rot {
		for i, w := range p.rot[s][CodeWords:] {
			p.maskNibbles[s][i] = w & lowNibbles
			p.maskNibbles[s][CodeWords+i] = w >> 4 & lowNibbles
		}
	}
	return p
}

// distance is the exhaustive comparison of the probe with one gallery entry
// (code then mask): every shift, every word, in plain Go. It is the
// reference the fast paths are tested against.
func (p *Probe) distance(entry []uint64) (float64, int) {
	code, mask := entry[:CodeWords], entry[CodeWords:EntryWords]
	best, bestShift := math.Inf(1), 0
	for s := range Shifts {
		pc, pm := p.rot[s][:CodeWords], p.rot[s][CodeWords:]
		d, n := 0, 0
		for i := range code {
			m := pm[i] & mask[i]
			d += bits.OnesCount64((pc[i] ^ code[i]) & m)
			n += bits.OnesCount64(m)
		}
		if h := normalizedHD(d, n) + shiftPenalty[s]; h < best {
			best, bestShift = h, s-MaxShift
		}
	}
	return best, bestShift
}

// fastDistance returns the same value as distance, with the fastest kernel
// the CPU runs (see Kernel). When bound is
// finite it may return early with a value above bound (and shift 0) once a
// lower bound on every shift's distance exceeds bound: such an entry cannot
// enter the candidate list, and the ones that can get their exact distance.
func (p *Probe) fastDistance(entry []uint64, bound float64) (float64, int) {
	var counts [RotRows]uint64
	minD, maxN, minN := p.counts(entry, &counts)
	return bestOf(&counts, minD, maxN, minN, bound)
}

// bestOf is fastDistance from the kernel's counts and extrema.
func bestOf(counts *[RotRows]uint64, minD, maxN, minN uint32, bound float64) (float64, int) {
	if lowerBound(minD, maxN, minN) > bound+boundMargin {
		return lowerBound(minD, maxN, minN), 0
	}
	best, bestShift := math.Inf(1), 0
	for s, c := range counts[:Shifts] {
		if h := normalizedHD(int(uint32(c)), int(c>>32)) + shiftPenalty[s]; h < best {
			best, bestShift = h, s-MaxShift
		}
	}
	return best, bestShift
}

// boundMargin absorbs floating-point rounding when a lower bound is compared
// with a computed distance.
const boundMargin = 1e-9

// lowerBound bounds the distance at every shift from below, given the
// smallest d, the largest n and the smallest n over the shifts:
// normalizedHD grows with d and falls with n, and a shift comparing fewer
// than MinCompareBits bits scores 0.5.
func lowerBound(minD, maxN, minN uint32) float64 {
	lower := normalizedHD(int(minD), int(maxN))
	if minN < MinCompareBits {
		lower = min(lower, 0.5)
	}
	return lower
}

// countsGo is the pure-Go form of the kernel: n<<32 | d for every row, and
// the smallest d and the largest and smallest n over the rows.
func (p *Probe) countsGo(entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	e := (*[EntryWords]uint64)(entry)
	minD, minN = math.MaxUint32, math.MaxUint32
	for s := range p.rot {
		r := &p.rot[s]
		var d, n int
		for i := 0; i < CodeWords; i += 4 {
			m0 := r[CodeWords+i] & e[CodeWords+i]
			m1 := r[CodeWords+i+1] & e[CodeWords+i+1]
			m2 := r[CodeWords+i+2] & e[CodeWords+i+2]
			m3 := r[CodeWords+i+3] & e[CodeWords+i+3]
			n += bits.OnesCount64(m0) + bits.OnesCount64(m1) + bits.OnesCount64(m2) + bits.OnesCount64(m3)
			d += bits.OnesCount64((r[i]^e[i])&m0) + bits.OnesCount64((r[i+1]^e[i+1])&m1) +
				bits.OnesCount64((r[i+2]^e[i+2])&m2) + bits.OnesCount64((r[i+3]^e[i+3])&m3)
		}
		out[s] = uint64(n)<<32 | uint64(d)
		minD, maxN, minN = min(minD, uint32(d)), max(maxN, uint32(n)), min(minN, uint32(n))
	}
	return minD, maxN, minN
}

// FusedDistance combines the distances of the two eyes of one encounter
// (NaN for an eye that was not compared): their mean when both are present,
// which separates mates further than either eye alone because impostor
// distances of independent eyes average towards 0.5; else the one present;
// 0.5 (no information) when neither is.
func FusedDistance(left, right float64) float64 {
	switch {
	case math.IsNaN(left) && math.IsNaN(right):
		return 0.5
	case math.IsNaN(left):
		return right
	case math.IsNaN(right):
		return left
	}
	return (left + right) / 2
}
