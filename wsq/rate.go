package wsq

// The encoder's rate control and quantiser: synthesis gains, the bin-width
// allocation, quantise-and-count passes and the search for the target rate.

import (
	"math"
	"sync"
)

// synthesisGains returns, for each subband, the energy that one unit
// coefficient adds to the reconstructed image: the squared norm of the
// synthesis basis functions of the subband, the product of a horizontal and
// a vertical one-dimensional gain. An error e in a coefficient of subband k
// adds about gain[k]·e² to the squared error of the image.
func synthesisGains(fb *filterBank) [numSubbands]float64 {
	tree := newDecomposition(4096, 4096) // far from borders: no edge effects
	// g0[m] = (-1)^m h1[m] and g1[m] = (-1)^m h0[m] (see newFilterBank).
	full := func(half []float64, sign float64) []float64 {
		n := len(half) - 1
		out := make([]float64, 2*n+1)
		for m := -n; m <= n; m++ {
			c := half[abs(m)]
			if m%2 != 0 {
				c *= sign
			}
			out[m+n] = c
		}
		return out
	}
	synth := [2][]float64{full(fb.hiHalf, -1), full(fb.loHalf, -1)}
	energy := func(path []int) float64 { // path: bands from the top level down
		s := []float64{1}
		for i := len(path) - 1; i >= 0; i-- {
			g := synth[path[i]]
			up := make([]float64, 2*len(s)-1)
			for j, v := range s {
				up[2*j] = v
			}
			out := make([]float64, len(up)+len(g)-1)
			for j, v := range up {
				for m, c := range g {
					out[j+m] += v * c
				}
			}
			s = out
		}
		e := 0.0
		for _, v := range s {
			e += v * v
		}
		return e
	}
	var gains [numSubbands]float64
	for k, s := range tree.subbands {
		var px, py []int
		// The nodes containing the subband, largest first, and the quadrant
		// of each that holds it.
		for size := 1 << 30; ; {
			best := -1
			for i, n := range tree.nodes {
				a := n.w * n.h
				if a < size && s.x >= n.x && s.y >= n.y && s.x+s.w <= n.x+n.w && s.y+s.h <= n.y+n.h && (best < 0 || a > tree.nodes[best].w*tree.nodes[best].h) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			n := tree.nodes[best]
			size = n.w * n.h
			for qi, q := range n.quadrants() {
				if s.x >= q.x && s.y >= q.y && s.x+s.w <= q.x+q.w && s.y+s.h <= q.y+q.h {
					// In an inverted node the high band is stored first.
					px = append(px, qi&1^b2i(n.invX))
					py = append(py, qi>>1^b2i(n.invY))
					break
				}
			}
		}
		gains[k] = energy(px) * energy(py)
	}
	return gains
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

var defaultGains = sync.OnceValue(func() [numSubbands]float64 {
	fb, err := newFilterBank(defaultLowPass, defaultHighPass)
	if err != nil {
		panic(err)
	}
	return synthesisGains(fb)
})

// allocation is the shape of the bin widths, Q_k = scale·shape[k] (0: the
// subband is not coded), with the encoder's decision rule.
type allocation struct {
	shape [numSubbands]float64
	// zeroTo is the zero threshold θ/Q: |c| < θ quantises to 0.
	zeroTo float64
	// rounding ρ: a coefficient at or above θ maps to
	// max(1, floor((|c|-δ)/Q + ρ)), where Q·p + δ is the reconstruction.
	rounding float64
	// offset δ_k/Q_k of each subband: the decoder reconstructs p ≥ 1 at
	// Q·(p - C) + Z/2 = Q·p + δ, so Z = 2(δ + C·Q).
	offset [numSubbands]float64
	// centroids: update offset to the centroid of the nonzero bins after
	// each pass.
	centroids bool
}

// table returns the DQT for scale, with Q and Z exactly as the file stores
// them; subbands marked in empty are left out.
func (a *allocation) table(scale float64, empty *[numSubbands]bool) *quantTable {
	qt := &quantTable{binCenter: binCenter}
	for k := 0; k < numCodedSubbands; k++ {
		if a.shape[k] == 0 || (empty != nil && empty[k]) {
			continue
		}
		q := decimalValue(decimal16(scale * a.shape[k]))
		if q == 0 {
			continue
		}
		qt.q[k] = q
		qt.z[k] = decimalValue(decimal16(2 * q * max(0, a.offset[k]+binCenter)))
	}
	return qt
}

// passResult is what one quantisation pass measured.
type passResult struct {
	bytes int                  // estimated file size
	empty [numSubbands]bool    // coded subbands whose coefficients are all zero
	sum   [numSubbands]float64 // Σ (|c| - Q|p|)/Q over nonzero coefficients
	count [numSubbands]int     // nonzero coefficients
}

// blockOf returns the coefficient block (0, 1 or 2) of subband k.
func blockOf(k int) int {
	switch {
	case k < blockSplit1:
		return 0
	case k < blockSplit2:
		return 1
	}
	return 2
}

// decisionRule is the quantiser of one subband in the form its inner loop
// uses: |c| < theta maps to 0, else to max(1, floor(|c|·invQ + bias)).
type decisionRule struct {
	theta      float32
	invQ, bias float64
}

func (a *allocation) rule(qt *quantTable, k int) decisionRule {
	q := qt.q[k]
	delta := qt.z[k]/2 - q*qt.binCenter
	return decisionRule{theta: float32(a.zeroTo * q), invQ: 1 / q, bias: a.rounding - delta/q}
}

// magnitude returns the quantised |c| for av = |c|.
func (r decisionRule) magnitude(av float32) int32 {
	if av < r.theta {
		return 0
	}
	f := float64(av)*r.invQ + r.bias
	if f >= maxCoefficient {
		return maxCoefficient
	}
	return max(1, int32(f)) // truncation is floor here, and ≤ 0 becomes 1
}

// quantize maps each coded subband of qt to integers with the decision rule.
func (a *allocation) quantize(qt *quantTable, plane []float32, tree *decomposition, width int) []int32 {
	out := make([]int32, 0, qt.codedCount(tree))
	for k, r := range tree.subbands[:numCodedSubbands] {
		q := qt.q[k]
		if q == 0 {
			continue
		}
		rule := a.rule(qt, k)
		for y := r.y; y < r.y+r.h; y++ {
			for _, v := range plane[y*width+r.x : y*width+r.x+r.w] {
				p := rule.magnitude(abs32(v))
				if v < 0 {
					p = -p
				}
				out = append(out, p)
			}
		}
	}
	return out
}

// measure quantises with qt and estimates the file size from the symbol
// histograms (Huffman code lengths, extra bits, byte stuffing) without
// writing the stream.
func (a *allocation) measure(qt *quantTable, plane []float32, tree *decomposition, width, headerBytes int) passResult {
	var res passResult
	var hist [3][256]int
	var extra [3]int
	runs := [3]int{}
	flush := func(b int) {
		run := runs[b]
		for run > 0 {
			switch {
			case run <= symMaxZeroRun:
				hist[b][run]++
				run = 0
			case run <= 0xFF:
				hist[b][symZeroRun8]++
				extra[b] += 8
				run = 0
			default:
				hist[b][symZeroRun16]++
				extra[b] += 16
				run -= min(run, maxZeroRunField)
			}
		}
		runs[b] = 0
	}
	for k, r := range tree.subbands[:numCodedSubbands] {
		q := qt.q[k]
		if q == 0 {
			continue
		}
		b := blockOf(k)
		rule := a.rule(qt, k)
		zerosBefore := runs[b]
		nonzero := 0
		sum := 0.0
		for y := r.y; y < r.y+r.h; y++ {
			for _, v := range plane[y*width+r.x : y*width+r.x+r.w] {
				av := abs32(v)
				p := rule.magnitude(av)
				if p == 0 {
					runs[b]++
					continue
				}
				flush(b)
				nonzero++
				sum += float64(av)*rule.invQ - float64(p)
				if v < 0 {
					p = -p
				}
				switch {
				case p >= maxInlineNeg && p <= maxInlinePos:
					hist[b][p+symValueOffset]++
				case p > 0 && p <= 0xFF:
					hist[b][symPos8]++
					extra[b] += 8
				case p < 0 && p >= -0xFF:
					hist[b][symNeg8]++
					extra[b] += 8
				case p > 0:
					hist[b][symPos16]++
					extra[b] += 16
				default:
					hist[b][symNeg16]++
					extra[b] += 16
				}
			}
		}
		if nonzero == 0 {
			res.empty[k] = true
			runs[b] = zerosBefore // a left-out subband adds no zeros
		}
		res.sum[k], res.count[k] = sum, nonzero
	}
	for b := range runs {
		flush(b)
	}
	total := headerBytes
	tables := [2][256]int{hist[0]}
	for s := range tables[1] {
		tables[1][s] = hist[1][s] + hist[2][s]
	}
	var codes [2]*huffCode
	for i := range tables {
		codes[i] = newHuffCodeFreq(tables[i])
		total += 2 + 2 + 1 + maxHuffBits + len(codes[i].values)
	}
	for b := range hist {
		bits := extra[b]
		for s, n := range hist[b] {
			bits += n * int(codes[min(b, 1)].length[s])
		}
		n := (bits + 7) / 8
		total += 2 + 2 + 1 + n + n/stuffingEstimate
	}
	res.bytes = total + 2 // EOI
	return res
}

// stuffingEstimate: about one byte in so many of the entropy-coded data is
// 0xFF and gets a zero byte stuffed after it.
const stuffingEstimate = 200

// fitRate finds the scale whose file is the largest not above target
// bytes, updating the reconstruction offsets on the way, and returns the
// table to write (empty subbands left out). It searches ln(scale) by
// secant steps, bracketing the target once it has been crossed.
//
// The scale never goes below minScale: finer steps would clamp
// coefficients to the format's 16 bits or refine beyond what 8-bit pixels
// can show.
func (a *allocation) fitRate(plane []float32, tree *decomposition, width, headerBytes, target int, minScale float64) *quantTable {
	type point struct {
		x    float64 // ln scale
		f    float64 // ln bytes - ln target
		res  passResult
		done bool
	}
	eval := func(x float64) point {
		res := a.measure(a.table(math.Exp(x), nil), plane, tree, width, headerBytes)
		if a.centroids {
			for k := range res.count {
				if res.count[k] > 0 {
					a.offset[k] = res.sum[k] / float64(res.count[k])
				}
			}
		}
		return point{x: x, f: math.Log(float64(res.bytes)) - math.Log(float64(target)), res: res, done: true}
	}
	var lo, hi, best, prev point // lo: too large (small scale); hi: fits
	xMin := math.Log(minScale)
	x := max(xMin, math.Log(initialScale))
	for range maxRatePasses {
		p := eval(x)
		if p.f <= 0 {
			if !best.done || p.f > best.f {
				best = p
			}
			hi = p
			if p.f > math.Log(1-rateTolerance) || p.x <= xMin {
				break
			}
		} else {
			if allEmpty(&p.res, a) {
				return a.table(math.Exp(p.x), &p.res.empty) // the headers alone exceed the target
			}
			lo = p
		}
		if lo.done && hi.done {
			// Regula falsi inside the bracket, kept off its ends; the
			// offsets stay as they are from here so the search sees one
			// function.
			a.centroids = false
			w := hi.x - lo.x
			if w < 1e-3 {
				break
			}
			x = lo.x + w*lo.f/(lo.f-hi.f)
			x = min(max(x, lo.x+0.1*w), hi.x-0.1*w)
		} else {
			// A secant step through the last two passes, or the typical slope.
			slope := rateSlope
			if prev.done && prev.x != p.x {
				if sl := -(p.f - prev.f) / (p.x - prev.x); sl > 0.05 && sl < 5 {
					slope = sl
				}
			}
			x = p.x + max(-1, min(1, p.f/slope))
			if p.f <= 0 {
				x -= 0.002 // aim just inside the target
			}
		}
		x = max(x, xMin)
		prev = p
	}
	if !best.done {
		best = lo
	}
	return a.table(math.Exp(best.x), &best.res.empty)
}

// allEmpty reports whether a pass left every subband empty.
func allEmpty(res *passResult, a *allocation) bool {
	for k := 0; k < numCodedSubbands; k++ {
		if a.shape[k] != 0 && !res.empty[k] {
			return false
		}
	}
	return true
}

const (
	// maxRatePasses bounds the quantisation passes of the rate search.
	maxRatePasses = 12
	// rateTolerance: the search stops once the file is within this
	// fraction below the target.
	rateTolerance = 0.005
	// rateSlope is the first guess of -d ln(bytes) / d ln(scale), as
	// measured on fingerprints at 0.3–2 bits per pixel.
	rateSlope = 1.4
	// finestStep is the smallest step worth coding, in grey levels: the
	// quantisation noise of a step of 0.5 is a quarter of that of rounding
	// pixels to 8 bits.
	finestStep = 0.5
	// initialScale is the first scale tried, typical of 0.75 bit per pixel.
	initialScale = 20
)

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
