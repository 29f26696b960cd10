package jpeg2000

import (
	"image"
	"image/color"
	"math"
	"math/bits"
)

// tagTree is the quad-tree coding of per-code-block values (T.800 B.10.2).
type tagTree struct {
	levels [][]tagNode // levels[0] is the leaves
	widths []int
}

type tagNode struct {
	value, low int
	known      bool
}

func newTagTree(w, h int) *tagTree {
	t := &tagTree{}
	for {
		t.levels = append(t.levels, make([]tagNode, w*h))
		t.widths = append(t.widths, w)
		if w == 1 && h == 1 {
			return t
		}
		w, h = (w+1)/2, (h+1)/2
	}
}

// decode decodes leaf (x, y) against threshold and reports whether its
// value is below the threshold; the value is then known.
func (t *tagTree) decode(br *bitReader, x, y, threshold int) (int, bool) {
	var path []*tagNode
	for l := range t.levels {
		path = append(path, &t.levels[l][(y>>l)*t.widths[l]+(x>>l)])
	}
	low := 0
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		if low > n.low {
			n.low = low
		} else {
			low = n.low
		}
		for !n.known && low < threshold {
			if br.bit() == 1 {
				n.value, n.known = low, true
			} else {
				low++
			}
		}
		n.low = low
		if !n.known {
			return 0, false
		}
	}
	leaf := path[0]
	return leaf.value, leaf.value < threshold
}

// bitReader reads packet headers: MSB first, a 0 bit stuffed after 0xFF.
type bitReader struct {
	data []byte
	pos  int
	buf  uint32
	ct   int
}

func (b *bitReader) bit() int {
	if b.ct == 0 {
		stuffed := b.buf == 0xFF
		b.buf, b.ct = 0, 8
		if stuffed {
			b.ct = 7
		}
		if b.pos < len(b.data) {
			b.buf = uint32(b.data[b.pos])
			b.pos++
		}
	}
	b.ct--
	return int(b.buf>>b.ct) & 1
}

func (b *bitReader) bits(n int) int {
	v := 0
	for range n {
		v = v<<1 | b.bit()
	}
	return v
}

// align ends a packet header: a byte after 0xFF is part of the header.
func (b *bitReader) align() {
	if b.buf == 0xFF && b.ct == 0 {
		b.bit()
	}
	b.ct = 0
	b.buf = 0
}

type codeBlock struct {
	x0, y0, x1, y1 int // in subband coordinates
	included       bool
	zeroPlanes     int
	lblock         int
	passes         int
	data           []byte
}

type subband struct {
	orient         int
	x0, y0, x1, y1 int
	nbx, nby       int
	blocks         []codeBlock
	inclusion      *tagTree
	zeroPlanes     *tagTree
	bitplanes      int // M_b
	exponent       int // ε_b
	mantissa       int // μ_b
}

type resolution struct {
	x0, y0, x1, y1 int
	bands          []*subband
}

// tileComponent holds one component of one tile through decoding.
type tileComponent struct {
	x0, y0, x1, y1 int
	res            []*resolution
}

func ceilShift(a, n int) int { return (a + (1 << n) - 1) >> n }

func newTileComponent(h *header, c, tx0, ty0, tx1, ty1 int) (*tileComponent, error) {
	nl := h.cod.levels
	tc := &tileComponent{x0: tx0, y0: ty0, x1: tx1, y1: ty1}
	q := h.qcd
	for r := 0; r <= nl; r++ {
		res := &resolution{
			x0: ceilShift(tx0, nl-r), y0: ceilShift(ty0, nl-r),
			x1: ceilShift(tx1, nl-r), y1: ceilShift(ty1, nl-r),
		}
		orients := []int{bandHL, bandLH, bandHH}
		nb := nl - r + 1
		if r == 0 {
			orients = []int{bandLL}
			nb = nl
		}
		for k, o := range orients {
			xob, yob := 0, 0
			if o == bandHL || o == bandHH {
				xob = 1
			}
			if o == bandLH || o == bandHH {
				yob = 1
			}
			b := &subband{orient: o}
			if nb == 0 {
				b.x0, b.y0, b.x1, b.y1 = tx0, ty0, tx1, ty1
			} else {
				off := 1 << (nb - 1)
				b.x0, b.x1 = ceilShift(tx0-off*xob, nb), ceilShift(tx1-off*xob, nb)
				b.y0, b.y1 = ceilShift(ty0-off*yob, nb), ceilShift(ty1-off*yob, nb)
			}
			// Quantisation entry of this band.
			idx := 0
			if r > 0 {
				idx = 3*(r-1) + 1 + k
			}
			var eps int
			switch {
			case q.style == 1:
				eps = q.exponents[0] - nl + nb
				if r == 0 {
					eps = q.exponents[0]
				}
			case idx < len(q.exponents):
				eps = q.exponents[idx]
			default:
				return nil, errorf("quantisation table has %d entries, band %d needs more", len(q.exponents), idx)
			}
			b.bitplanes = q.guardBits + eps - 1
			b.exponent = eps
			if idx < len(q.mantissas) && q.style != 1 {
				b.mantissa = q.mantissas[idx]
			} else {
				b.mantissa = q.mantissas[0]
			}
			if b.bitplanes > 30 {
				return nil, errorf("%d bit-planes", b.bitplanes)
			}
			if b.x1 > b.x0 && b.y1 > b.y0 {
				cw, ch := h.cod.cbw, h.cod.cbh
				bx0, by0 := b.x0>>cw, b.y0>>ch
				b.nbx, b.nby = ceilShift(b.x1, cw)-bx0, ceilShift(b.y1, ch)-by0
				for j := 0; j < b.nby; j++ {
					for i := 0; i < b.nbx; i++ {
						cb := codeBlock{
							x0: max(b.x0, (bx0+i)<<cw), y0: max(b.y0, (by0+j)<<ch),
							x1: min(b.x1, (bx0+i+1)<<cw), y1: min(b.y1, (by0+j+1)<<ch),
							lblock: 3,
						}
						b.blocks = append(b.blocks, cb)
					}
				}
				b.inclusion = newTagTree(b.nbx, b.nby)
				b.zeroPlanes = newTagTree(b.nbx, b.nby)
			}
			res.bands = append(res.bands, b)
		}
		tc.res = append(tc.res, res)
	}
	return tc, nil
}

// readPacket decodes one packet (header and body) of resolution res for
// layer, from data, returning the bytes it used.
func readPacket(data []byte, res *resolution, layer int) (int, error) {
	br := &bitReader{data: data}
	type contribution struct {
		cb     *codeBlock
		length int
	}
	var contribs []contribution
	if br.bit() == 1 {
		for _, b := range res.bands {
			for i := range b.blocks {
				cb := &b.blocks[i]
				bx, by := i%b.nbx, i/b.nbx
				var in bool
				if cb.included {
					in = br.bit() == 1
				} else {
					_, in = b.inclusion.decode(br, bx, by, layer+1)
				}
				if !in {
					continue
				}
				if !cb.included {
					for t := 1; ; t++ {
						if v, ok := b.zeroPlanes.decode(br, bx, by, t); ok {
							cb.zeroPlanes = v
							break
						}
						if t > 64 {
							return 0, errorf("zero bit-plane count")
						}
					}
					cb.included = true
				}
				passes := 1
				switch {
				case br.bit() == 0:
				case br.bit() == 0:
					passes = 2
				default:
					if v := br.bits(2); v < 3 {
						passes = 3 + v
					} else if v = br.bits(5); v < 31 {
						passes = 6 + v
					} else {
						passes = 37 + br.bits(7)
					}
				}
				for br.bit() == 1 {
					cb.lblock++
					if cb.lblock > 32 {
						return 0, errorf("code-block length field")
					}
				}
				n := br.bits(cb.lblock + bits.Len(uint(passes)) - 1)
				cb.passes += passes
				contribs = append(contribs, contribution{cb, n})
			}
		}
	}
	br.align()
	pos := br.pos
	for _, c := range contribs {
		if pos+c.length > len(data) {
			return 0, errorf("packet body truncated")
		}
		c.cb.data = append(c.cb.data, data[pos:pos+c.length]...)
		pos += c.length
	}
	return pos, nil
}

// tileConsumed, when set (by tests), receives how many bytes of each tile's
// data the packets used.
var tileConsumed func(used, total int)

// decodeTile decodes tile (px, py) into the component planes.
func decodeTile(h *header, px, py int, body []byte, planes [][]int32) error {
	tx0, ty0 := max(h.tileX0+px*h.tileW, h.x0), max(h.tileY0+py*h.tileH, h.y0)
	tx1, ty1 := min(h.tileX0+(px+1)*h.tileW, h.width), min(h.tileY0+(py+1)*h.tileH, h.height)
	comps := make([]*tileComponent, len(h.comps))
	for c := range comps {
		tc, err := newTileComponent(h, c, tx0, ty0, tx1, ty1)
		if err != nil {
			return err
		}
		comps[c] = tc
	}
	nl, layers := h.cod.levels, h.cod.layers
	pos := 0
	packet := func(c, r, l int) error {
		res := comps[c].res[r]
		if res.x1 <= res.x0 || res.y1 <= res.y0 {
			return nil // no precinct, no packet
		}
		if pos >= len(body) {
			return nil // truncated codestream: keep what was read
		}
		n, err := readPacket(body[pos:], res, l)
		pos += n
		return err
	}
	var err error
	loop := func(f func(c, r, l int) error, outer, middle, inner int, order func(a, b, c int) (int, int, int)) {
		for a := 0; a < outer && err == nil; a++ {
			for b := 0; b < middle && err == nil; b++ {
				for d := 0; d < inner && err == nil; d++ {
					c, r, l := order(a, b, d)
					err = f(c, r, l)
				}
			}
		}
	}
	nc := len(comps)
	switch h.cod.progression {
	case 0: // LRCP
		loop(packet, layers, nl+1, nc, func(l, r, c int) (int, int, int) { return c, r, l })
	case 1: // RLCP
		loop(packet, nl+1, layers, nc, func(r, l, c int) (int, int, int) { return c, r, l })
	case 2: // RPCL
		loop(packet, nl+1, nc, layers, func(r, c, l int) (int, int, int) { return c, r, l })
	default: // PCRL and CPRL with one precinct per resolution
		loop(packet, nc, nl+1, layers, func(c, r, l int) (int, int, int) { return c, r, l })
	}
	if err != nil {
		return err
	}
	if tileConsumed != nil {
		tileConsumed(pos, len(body))
	}
	samples := make([][]float64, len(comps))
	for c, tc := range comps {
		coeffs, err := tc.decodeBlocks(h, c)
		if err != nil {
			return err
		}
		if h.cod.reversible {
			samples[c] = inverseDWT53(tc, coeffs)
		} else {
			samples[c] = inverseDWT97(tc, coeffs)
		}
	}
	if len(samples) == 3 && h.cod.mct {
		inverseMCT(samples, h.cod.reversible)
	}
	w := tx1 - tx0
	for c := range samples {
		cw, _ := compSize(h, c)
		for y := ty0; y < ty1; y++ {
			row := planes[c][(y-h.y0)*cw+(tx0-h.x0):]
			for x, v := range samples[c][(y-ty0)*w : (y-ty0+1)*w] {
				row[x] = int32(math.Round(v))
			}
		}
	}
	return nil
}

// inverseMCT undoes the component transform: the reversible RCT (integer
// floors) or the irreversible ICT (YCbCr to RGB).
func inverseMCT(s [][]float64, reversible bool) {
	for i := range s[0] {
		y0, y1, y2 := s[0][i], s[1][i], s[2][i]
		if reversible {
			g := y0 - math.Floor((y1+y2)/4)
			s[0][i], s[1][i], s[2][i] = y2+g, g, y1+g
		} else {
			s[0][i] = y0 + 1.402*y2
			s[1][i] = y0 - 0.344136*y1 - 0.714136*y2
			s[2][i] = y0 + 1.772*y1
		}
	}
}

// decodeBlocks runs tier-1 on every code-block and returns each subband's
// coefficients, per resolution and band.
func (tc *tileComponent) decodeBlocks(h *header, c int) ([][][]float64, error) {
	out := make([][][]float64, len(tc.res))
	cbd := &codeBlockDecoder{}
	for r, res := range tc.res {
		out[r] = make([][]float64, len(res.bands))
		for k, b := range res.bands {
			bw, bh := b.x1-b.x0, b.y1-b.y0
			if bw <= 0 || bh <= 0 {
				continue
			}
			coeffs := make([]float64, bw*bh)
			step := 1.0
			if !h.cod.reversible {
				gain := [4]int{0, 1, 1, 2}[b.orient]
				step = math.Ldexp(1+float64(b.mantissa)/2048, h.comps[c].depth+gain-b.exponent)
			}
			out[r][k] = coeffs
			for i := range b.blocks {
				cb := &b.blocks[i]
				if cb.passes == 0 {
					continue
				}
				planes := b.bitplanes - cb.zeroPlanes
				if planes <= 0 || planes > 31 {
					if planes <= 0 {
						continue
					}
					return nil, errorf("%d bit-planes in a code-block", planes)
				}
				w, hh := cb.x1-cb.x0, cb.y1-cb.y0
				cbd.w, cbd.h, cbd.band = w, hh, b.orient
				cbd.flags = make([]uint8, (w+2)*(hh+2))
				cbd.mag = make([]int32, w*hh)
				low := cbd.decode(cb.data, planes, cb.passes)
				// Reconstruct mid-way in the undecoded bits: exact when every
				// plane of a reversible code-block was decoded.
				half := 0.0
				switch {
				case low > 0:
					half = math.Ldexp(1, low-1)
				case !h.cod.reversible:
					half = 0.5
				}
				for y := 0; y < hh; y++ {
					for x := 0; x < w; x++ {
						m := cbd.mag[y*w+x]
						if m == 0 {
							continue
						}
						v := (float64(m) + half) * step
						if cbd.flags[cbd.idx(x, y)]&fNeg != 0 {
							v = -v
						}
						coeffs[(cb.y0-b.y0+y)*bw+(cb.x0-b.x0+x)] = v
					}
				}
			}
		}
	}
	return out, nil
}

// interleave places the four bands of resolution r into one array (T.800
// 2D_INTERLEAVE): LL on even/even samples, HL odd/even, LH even/odd, HH odd/odd.
func interleave(tc *tileComponent, r int, ll []float64, coeffs [][][]float64) []float64 {
	res, prev := tc.res[r], tc.res[r-1]
	w, h := res.x1-res.x0, res.y1-res.y0
	a := make([]float64, w*h)
	bands := [4][]float64{ll, coeffs[r][0], coeffs[r][1], coeffs[r][2]}
	widths := [4]int{prev.x1 - prev.x0, res.bands[0].x1 - res.bands[0].x0, res.bands[1].x1 - res.bands[1].x0, res.bands[2].x1 - res.bands[2].x0}
	for y := 0; y < h; y++ {
		ay := res.y0 + y
		by := ay/2 - res.y0/2
		if ay&1 == 0 {
			by = ay/2 - ceilShift(res.y0, 1)
		}
		for x := 0; x < w; x++ {
			ax := res.x0 + x
			bx := ax/2 - res.x0/2
			if ax&1 == 0 {
				bx = ax/2 - ceilShift(res.x0, 1)
			}
			if b := bands[(ax&1)|(ay&1)<<1]; b != nil {
				a[y*w+x] = b[by*widths[(ax&1)|(ay&1)<<1]+bx]
			}
		}
	}
	return a
}

// inverseDWT53 runs the reversible 5/3 synthesis from the lowest resolution
// up, on integers, and returns the tile-component samples.
func inverseDWT53(tc *tileComponent, coeffs [][][]float64) []float64 {
	ll := coeffs[0][0]
	for r := 1; r < len(tc.res); r++ {
		res := tc.res[r]
		w, h := res.x1-res.x0, res.y1-res.y0
		a := interleave(tc, r, ll, coeffs)
		ints := make([]int32, len(a))
		for i, v := range a {
			ints[i] = int32(v)
		}
		col := make([]int32, h)
		for y := 0; y < h; y++ {
			synth53(ints[y*w:(y+1)*w], res.x0)
		}
		for x := 0; x < w; x++ {
			for y := range col {
				col[y] = ints[y*w+x]
			}
			synth53(col, res.y0)
			for y := range col {
				ints[y*w+x] = col[y]
			}
		}
		for i, v := range ints {
			a[i] = float64(v)
		}
		ll = a
	}
	if ll == nil {
		return make([]float64, (tc.x1-tc.x0)*(tc.y1-tc.y0))
	}
	return ll
}

// inverseDWT97 runs the irreversible 9/7 synthesis from the lowest
// resolution up and returns the tile-component samples.
func inverseDWT97(tc *tileComponent, coeffs [][][]float64) []float64 {
	ll := coeffs[0][0]
	for r := 1; r < len(tc.res); r++ {
		res := tc.res[r]
		w, h := res.x1-res.x0, res.y1-res.y0
		a := interleave(tc, r, ll, coeffs)
		col := make([]float64, h)
		for y := 0; y < h; y++ {
			synth97(a[y*w:(y+1)*w], res.x0)
		}
		for x := 0; x < w; x++ {
			for y := range col {
				col[y] = a[y*w+x]
			}
			synth97(col, res.y0)
			for y := range col {
				a[y*w+x] = col[y]
			}
		}
		ll = a
	}
	if ll == nil {
		return make([]float64, (tc.x1-tc.x0)*(tc.y1-tc.y0))
	}
	return ll
}

// pse maps absolute position i of a line starting at i0 with n samples to
// an index into it, by periodic symmetric extension.
func pse(i, i0, n int) int {
	j := i - i0
	period := 2 * (n - 1)
	j %= period
	if j < 0 {
		j += period
	}
	if j >= n {
		j = period - j
	}
	return j
}

// Lifting constants of the 9/7 transform (T.800 Table F.4).
const (
	alpha97 = -1.586134342059924
	beta97  = -0.052980118572961
	gamma97 = 0.882911075530934
	delta97 = 0.443506852043971
	k97     = 1.230174104914001
)

// synth97 inverts the irreversible 9/7 lifting of one line whose first
// sample sits at absolute coordinate i0 (T.800 F.3.8.2), in place.
func synth97(x []float64, i0 int) {
	n := len(x)
	if n == 1 {
		if i0&1 == 1 {
			x[0] /= 2
		}
		return
	}
	const pad = 4
	ext := make([]float64, n+2*pad)
	for k := range ext {
		ext[k] = x[pse(i0-pad+k, i0, n)]
	}
	even := func(k int) bool { return (i0-pad+k)&1 == 0 }
	for k := range ext {
		if even(k) {
			ext[k] *= k97
		} else {
			ext[k] /= k97
		}
	}
	step := func(isEven bool, c float64, from, to int) {
		for k := from; k < to; k++ {
			if even(k) == isEven {
				ext[k] -= c * (ext[k-1] + ext[k+1])
			}
		}
	}
	step(true, delta97, 1, n+2*pad-1)
	step(false, gamma97, 2, n+2*pad-2)
	step(true, beta97, 3, n+2*pad-3)
	step(false, alpha97, 4, n+2*pad-4)
	copy(x, ext[pad:pad+n])
}

// synth53 inverts the reversible 5/3 lifting of one line whose first sample
// sits at absolute coordinate i0 (T.800 F.3.8.1), in place.
func synth53(x []int32, i0 int) {
	n := len(x)
	if n == 1 {
		if i0&1 == 1 {
			x[0] /= 2
		}
		return
	}
	// ext holds positions i0-2 … i0+n+1, symmetrically extended.
	ext := make([]int32, n+4)
	at := func(i int) int { // absolute position → index into x by PSE
		j := i - i0
		period := 2 * (n - 1)
		j %= period
		if j < 0 {
			j += period
		}
		if j >= n {
			j = period - j
		}
		return j
	}
	for k := range ext {
		ext[k] = x[at(i0-2+k)]
	}
	// Step 1: even positions from their odd neighbours.
	for k := 1; k < n+3; k++ {
		if (i0-2+k)&1 == 0 {
			ext[k] -= (ext[k-1] + ext[k+1] + 2) >> 2
		}
	}
	// Step 2: odd positions from their even neighbours.
	for k := 2; k < n+2; k++ {
		if (i0-2+k)&1 == 1 {
			ext[k] += (ext[k-1] + ext[k+1]) >> 1
		}
	}
	copy(x, ext[2:n+2])
}

func toImage(h *header, planes [][]int32) image.Image {
	w, hh := compSize(h, 0)
	r := image.Rect(0, 0, w, hh)
	depth := h.comps[0].depth
	sample := func(c, i int) int32 {
		v := planes[c][i]
		cp := h.comps[c]
		if !cp.signed {
			v += 1 << (cp.depth - 1)
		}
		return max(0, min(1<<cp.depth-1, v))
	}
	switch {
	case len(planes) == 1 && depth <= 8:
		g := image.NewGray(r)
		for i := range g.Pix {
			g.Pix[i] = uint8(sample(0, i) << (8 - depth))
		}
		return g
	case len(planes) == 1:
		g := image.NewGray16(r)
		for i := range planes[0] {
			g.SetGray16(i%w, i/w, color.Gray16{Y: uint16(sample(0, i) << (16 - depth))})
		}
		return g
	}
	m := image.NewRGBA(r)
	for i := 0; i < w*hh; i++ {
		for c := 0; c < 3; c++ {
			v := sample(c, i)
			if d := h.comps[c].depth; d > 8 {
				v >>= d - 8
			} else {
				v <<= 8 - d
			}
			m.Pix[4*i+c] = uint8(v)
		}
		m.Pix[4*i+3] = 0xFF
	}
	return m
}
