package wsq

import "fmt"

// filterBank holds the analysis filters of a WSQ transform table and the
// synthesis filters derived from them. All four are symmetric, so each is
// kept as a half filter: tap 0 (the centre) first, then taps ±1, ±2, …, all
// padded to the same length pad+1.
type filterBank struct {
	pad int
	// lo and hi are the analysis low- and high-pass filters.
	lo, hi []float32
	// synEven and synOdd are the synthesis filters applied to the interleaved
	// band signal (low band on even samples, high band on odd samples) to
	// produce even and odd output samples.
	synEven, synOdd []float32
	// loHalf and hiHalf are the analysis filters as a DTT writes them.
	loHalf, hiHalf []float64
}

// newFilterBank builds the bank from half filters (centre tap first).
func newFilterBank(loHalf, hiHalf []float64) (*filterBank, error) {
	if len(loHalf) == 0 || len(hiHalf) == 0 || 2*len(loHalf)-1 > maxFilterTaps || 2*len(hiHalf)-1 > maxFilterTaps {
		return nil, fmt.Errorf("transform filters of %d and %d taps out of range", 2*len(loHalf)-1, 2*len(hiHalf)-1)
	}
	pad := max(len(loHalf), len(hiHalf)) - 1
	fb := &filterBank{pad: pad, loHalf: loHalf, hiHalf: hiHalf}
	fb.lo, fb.hi = make([]float32, pad+1), make([]float32, pad+1)
	fb.synEven, fb.synOdd = make([]float32, pad+1), make([]float32, pad+1)
	tap := func(half []float64, m int) float64 {
		if m >= len(half) {
			return 0
		}
		return half[m]
	}
	for m := 0; m <= pad; m++ {
		h0, h1 := tap(loHalf, m), tap(hiHalf, m)
		fb.lo[m], fb.hi[m] = float32(h0), float32(h1)
		// Synthesis low-pass g0[m] = (-1)^m h1[m]; high-pass g1[m] = (-1)^m h0[m].
		// Output sample x takes the low band through g0 where x-m is even.
		if m%2 == 0 {
			fb.synEven[m], fb.synOdd[m] = float32(h1), float32(h0)
		} else {
			fb.synEven[m], fb.synOdd[m] = float32(-h0), float32(-h1)
		}
	}
	return fb, nil
}

// reflect maps index i of a whole-sample symmetric extension of a signal of
// length n back into [0, n).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// bandIndex returns where sample p of the interleaved band signal of a line
// of length n is stored: low bands hold the even samples, high bands the odd
// ones, and inv puts the high band first.
func bandIndex(p, n int, inv bool) int {
	low, high := (n+1)/2, n/2
	if p%2 == 0 {
		if inv {
			return high + p/2
		}
		return p / 2
	}
	if inv {
		return p / 2
	}
	return low + p/2
}

// symmetricDot returns f[0]*e[c] + Σ_m f[m]*(e[c-m]+e[c+m]).
func symmetricDot(f, e []float32, c int) float32 {
	if len(f) == 5 { // the 9/7 filters of every real file
		e := e[c-4 : c+5]
		return f[0]*e[4] + f[1]*(e[3]+e[5]) + f[2]*(e[2]+e[6]) + f[3]*(e[1]+e[7]) + f[4]*(e[0]+e[8])
	}
	s := f[0] * e[c]
	for m := 1; m < len(f); m++ {
		s += f[m] * (e[c-m] + e[c+m])
	}
	return s
}

// columnFilter sets dst = f[0]*rows[0] + Σ_m f[m]*(rows[2m-1]+rows[2m]), where
// rows holds the centre row then the pairs of rows at distance m. The
// 9/7 case is fused into one pass over dst.
func columnFilter(dst []float32, f []float32, rows [][]float32) {
	if len(f) == 5 {
		n := len(dst)
		c, a1, b1, a2, b2 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n], rows[4][:n]
		a3, b3, a4, b4 := rows[5][:n], rows[6][:n], rows[7][:n], rows[8][:n]
		f0, f1, f2, f3, f4 := f[0], f[1], f[2], f[3], f[4]
		for x := range dst {
			dst[x] = f0*c[x] + f1*(a1[x]+b1[x]) + f2*(a2[x]+b2[x]) + f3*(a3[x]+b3[x]) + f4*(a4[x]+b4[x])
		}
		return
	}
	for x := range dst {
		dst[x] = f[0] * rows[0][x]
	}
	for m := 1; m < len(f); m++ {
		if f[m] != 0 {
			addScaled(dst, f[m], rows[2*m-1], rows[2*m])
		}
	}
}

// addScaled sets dst[x] += c*(a[x]+b[x]).
func addScaled(dst []float32, c float32, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for x := range dst {
		dst[x] += c * (a[x] + b[x])
	}
}

// plane is a float coefficient image with scratch space for the transform.
type plane struct {
	pix    []float32
	stride int
	tmp    []float32
	ext    []float32
	zero   []float32 // stays all zero
	line   []float32
}

func newPlane(pix []float32, width int) *plane {
	return &plane{pix: pix, stride: width}
}

func (p *plane) scratch(n int) []float32 {
	if cap(p.tmp) < n {
		p.tmp = make([]float32, n)
	}
	return p.tmp[:n]
}

func (p *plane) extended(n int) []float32 {
	if cap(p.ext) < n {
		p.ext = make([]float32, n)
	}
	return p.ext[:n]
}

func (p *plane) row(y, x, w int) []float32 {
	return p.pix[y*p.stride+x : y*p.stride+x+w]
}

// analyze applies one level of the 2-D forward transform to region r.
func (p *plane) analyze(fb *filterBank, r region) {
	if r.w == 0 || r.h == 0 {
		return
	}
	p.analyzeRows(fb, r)
	p.analyzeColumns(fb, r)
}

// synthesize inverts analyze on region r. Each output row is made in one
// go while its inputs are in cache: the column filter gathers its bands into
// a line, the row filter turns the line into pixels in the scratch buffer,
// which is copied back once the region is done (the plane's rows are
// inputs until then).
func (p *plane) synthesize(fb *filterBank, r region) {
	if r.w == 0 || r.h == 0 {
		return
	}
	n, w := r.h, r.w
	rows := newRowSynthesis(fb, w, r.invX)
	tmp := p.scratch(n * w)
	if len(p.zero) < w {
		p.zero, p.line = make([]float32, w), make([]float32, w)
	}
	zero, line := p.zero[:w], p.line[:w]
	rowAt := func(i int) []float32 {
		if n == 1 && i%2 != 0 {
			return zero // a single sample has no high band
		}
		return p.row(r.y+bandIndex(reflect(i, n), n, r.invY), r.x, w)
	}
	taps := make([][]float32, 2*fb.pad+1)
	for i := 0; i < n; i++ {
		f := fb.synEven
		if i%2 == 1 {
			f = fb.synOdd
		}
		taps[0] = rowAt(i)
		for m := 1; m <= fb.pad; m++ {
			taps[2*m-1], taps[2*m] = rowAt(i-m), rowAt(i+m)
		}
		columnFilter(line, f, taps)
		rows.run(line, tmp[i*w:(i+1)*w])
	}
	for i := 0; i < n; i++ {
		copy(p.row(r.y+i, r.x, w), tmp[i*w:(i+1)*w])
	}
}

func (p *plane) analyzeRows(fb *filterBank, r region) {
	n, pad := r.w, fb.pad
	ext := p.extended(n + 2*pad)
	out := p.scratch(n)
	low, high := (n+1)/2, n/2
	loOff, hiOff := 0, low
	if r.invX {
		loOff, hiOff = high, 0
	}
	for y := r.y; y < r.y+r.h; y++ {
		row := p.row(y, r.x, n)
		for i := range ext {
			ext[i] = row[reflect(i-pad, n)]
		}
		for k := 0; k < low; k++ {
			out[loOff+k] = symmetricDot(fb.lo, ext, 2*k+pad)
		}
		for k := 0; k < high; k++ {
			out[hiOff+k] = symmetricDot(fb.hi, ext, 2*k+1+pad)
		}
		copy(row, out)
	}
}

func (p *plane) analyzeColumns(fb *filterBank, r region) {
	n, w := r.h, r.w
	tmp := p.scratch(n * w)
	low, high := (n+1)/2, n/2
	loOff, hiOff := 0, low
	if r.invY {
		loOff, hiOff = high, 0
	}
	rowAt := func(i int) []float32 { return p.row(r.y+reflect(i, n), r.x, w) }
	rows := make([][]float32, 2*fb.pad+1)
	filter := func(dst []float32, centre int, f []float32) {
		rows[0] = rowAt(centre)
		for m := 1; m <= fb.pad; m++ {
			rows[2*m-1], rows[2*m] = rowAt(centre-m), rowAt(centre+m)
		}
		columnFilter(dst, f, rows)
	}
	for k := 0; k < low; k++ {
		filter(tmp[(loOff+k)*w:(loOff+k+1)*w], 2*k, fb.lo)
	}
	for k := 0; k < high; k++ {
		filter(tmp[(hiOff+k)*w:(hiOff+k+1)*w], 2*k+1, fb.hi)
	}
	for i := 0; i < n; i++ {
		copy(p.row(r.y+i, r.x, w), tmp[i*w:(i+1)*w])
	}
}

// rowSynthesis inverts the row transform of lines of one length: it
// interleaves the stored bands (low on even samples, high on odd ones),
// extends them symmetrically and applies the synthesis filters.
type rowSynthesis struct {
	fb           *filterBank
	n, low, high int
	loOff, hiOff int
	ext          []float32
	border       []int // pairs (extension index, stored index or -1 for zero)
}

func newRowSynthesis(fb *filterBank, n int, inv bool) *rowSynthesis {
	pad := fb.pad
	rs := &rowSynthesis{fb: fb, n: n, low: (n + 1) / 2, high: n / 2, ext: make([]float32, n+2*pad)}
	rs.hiOff = rs.low
	if inv {
		rs.loOff, rs.hiOff = rs.high, 0
	}
	for i := range rs.ext {
		if i >= pad && i < pad+n {
			continue
		}
		j := bandIndex(reflect(i-pad, n), n, inv)
		if n == 1 && (i-pad)%2 != 0 {
			j = -1 // a single sample has no high band
		}
		rs.border = append(rs.border, i, j)
	}
	return rs
}

// run writes the synthesis of the stored bands in to out.
func (rs *rowSynthesis) run(in, out []float32) {
	fb, n, pad, ext := rs.fb, rs.n, rs.fb.pad, rs.ext
	inner := ext[pad : pad+n]
	lo, hi := in[rs.loOff:rs.loOff+rs.low], in[rs.hiOff:rs.hiOff+rs.high]
	for k, v := range hi {
		inner[2*k], inner[2*k+1] = lo[k], v
	}
	if rs.low > rs.high {
		inner[n-1] = lo[rs.low-1]
	}
	for b := 0; b < len(rs.border); b += 2 {
		if j := rs.border[b+1]; j < 0 {
			ext[rs.border[b]] = 0
		} else {
			ext[rs.border[b]] = in[j]
		}
	}
	x := 0
	if pad == 4 { // the 9/7 filters of every real file, unrolled
		fe, fo := fb.synEven[:5], fb.synOdd[:5]
		out := out[:n]
		for ; x+1 < n; x += 2 {
			e := ext[x : x+10]
			out[x] = fe[0]*e[4] + fe[1]*(e[3]+e[5]) + fe[2]*(e[2]+e[6]) + fe[3]*(e[1]+e[7]) + fe[4]*(e[0]+e[8])
			out[x+1] = fo[0]*e[5] + fo[1]*(e[4]+e[6]) + fo[2]*(e[3]+e[7]) + fo[3]*(e[2]+e[8]) + fo[4]*(e[1]+e[9])
		}
	}
	for ; x+1 < n; x += 2 {
		out[x] = symmetricDot(fb.synEven, ext, x+pad)
		out[x+1] = symmetricDot(fb.synOdd, ext, x+1+pad)
	}
	if x < n {
		out[x] = symmetricDot(fb.synEven, ext, x+pad)
	}
}
