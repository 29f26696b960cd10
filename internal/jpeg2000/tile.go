package jpeg2000

import (
	"cmp"
	"image"
	"image/color"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
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
	blocks         []*codeBlock
	bitplanes      int // M_b
	exponent       int // ε_b
	mantissa       int // μ_b
}

// precinctBand is the part of one subband inside one precinct: its
// code-blocks in raster order and their tag trees.
type precinctBand struct {
	nbx, nby   int
	blocks     []*codeBlock
	inclusion  *tagTree
	zeroPlanes *tagTree
}

// precinct is one packet's worth of a resolution: x0, y0 is where it starts
// on the reference grid (for the position-driven progressions).
type precinct struct {
	x0, y0 int
	bands  []precinctBand
}

type resolution struct {
	x0, y0, x1, y1 int
	bands          []*subband
	precincts      []*precinct
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
			res.bands = append(res.bands, b)
		}
		if err := res.partition(h, r, nl, tx0, ty0); err != nil {
			return nil, err
		}
		tc.res = append(tc.res, res)
	}
	return tc, nil
}

// Bounds on the structures a header may ask for, so that a small hostile
// file cannot make the decoder allocate gigabytes: real files use 32×32 or
// 64×64 code-blocks and a few precincts per resolution.
const (
	maxPrecinctsPerResolution = 1 << 16
	maxBlocksPerResolution    = 1 << 20
)

// partition divides resolution r into precincts and each subband's part of
// a precinct into code-blocks (T.800 B.6, B.7). Precincts are anchored at 0
// in the resolution's coordinates, code-blocks at 0 in the subband's.
func (res *resolution) partition(h *header, r, nl, tx0, ty0 int) error {
	if res.x1 <= res.x0 || res.y1 <= res.y0 {
		return nil
	}
	ppx, ppy := h.cod.ppx[r], h.cod.ppy[r]
	// In the subbands of r > 0, a precinct spans half as many samples.
	bpx, bpy := ppx, ppy
	if r > 0 {
		bpx, bpy = ppx-1, ppy-1
	}
	cbw, cbh := min(h.cod.cbw, bpx), min(h.cod.cbh, bpy)
	px0, py0 := res.x0>>ppx, res.y0>>ppy
	npx, npy := ceilShift(res.x1, ppx)-px0, ceilShift(res.y1, ppy)-py0
	if npx*npy > maxPrecinctsPerResolution {
		return unsupported("%d precincts in one resolution", npx*npy)
	}
	if bw, bh := ceilShift(res.x1-res.x0, cbw)+npx, ceilShift(res.y1-res.y0, cbh)+npy; bw*bh > maxBlocksPerResolution {
		return unsupported("about %d code-blocks in one resolution", bw*bh)
	}
	for j := 0; j < npy; j++ {
		for i := 0; i < npx; i++ {
			scale := nl - r
			// Where the precinct starts on the reference grid, clipped to the
			// tile: a precinct reaching before the tile is visited first.
			p := &precinct{
				x0: max(tx0, (px0+i)<<ppx<<scale),
				y0: max(ty0, (py0+j)<<ppy<<scale),
			}
			for _, b := range res.bands {
				// The precinct's window in this subband's coordinates.
				x0, x1 := max(b.x0, (px0+i)<<bpx), min(b.x1, (px0+i+1)<<bpx)
				y0, y1 := max(b.y0, (py0+j)<<bpy), min(b.y1, (py0+j+1)<<bpy)
				var pb precinctBand
				if x1 > x0 && y1 > y0 {
					bx0, by0 := x0>>cbw, y0>>cbh
					pb.nbx, pb.nby = ceilShift(x1, cbw)-bx0, ceilShift(y1, cbh)-by0
					for v := 0; v < pb.nby; v++ {
						for u := 0; u < pb.nbx; u++ {
							cb := &codeBlock{
								x0: max(x0, (bx0+u)<<cbw), y0: max(y0, (by0+v)<<cbh),
								x1: min(x1, (bx0+u+1)<<cbw), y1: min(y1, (by0+v+1)<<cbh),
								lblock: 3,
							}
							pb.blocks = append(pb.blocks, cb)
							b.blocks = append(b.blocks, cb)
						}
					}
					pb.inclusion = newTagTree(pb.nbx, pb.nby)
					pb.zeroPlanes = newTagTree(pb.nbx, pb.nby)
				}
				p.bands = append(p.bands, pb)
			}
			res.precincts = append(res.precincts, p)
		}
	}
	return nil
}

// readPacket decodes one packet (header and body) of a precinct for layer,
// from data, returning the bytes it used.
func readPacket(data []byte, prec *precinct, layer int, sop, eph bool) (int, error) {
	start := 0
	if sop && len(data) >= 6 && data[0] == 0xFF && data[1] == 0x91 {
		start = 6
	}
	br := &bitReader{data: data, pos: start}
	type contribution struct {
		cb     *codeBlock
		length int
	}
	var contribs []contribution
	if br.bit() == 1 {
		for _, b := range prec.bands {
			for i, cb := range b.blocks {
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
	if eph && pos+2 <= len(data) && data[pos] == 0xFF && data[pos+1] == 0x92 {
		pos += 2
	}
	for _, c := range contribs {
		if pos+c.length > len(data) {
			return 0, errorf("packet body truncated")
		}
		c.cb.data = append(c.cb.data, data[pos:pos+c.length]...)
		pos += c.length
	}
	return pos, nil
}

// packetRef names one packet of a tile.
type packetRef struct {
	c, r, layer int
	prec        *precinct
}

// packetOrder lists the tile's packets in the progression order of COD
// (T.800 B.12): the position-driven orders visit precincts by where they
// start on the reference grid, rows first.
func packetOrder(h *header, comps []*tileComponent) []packetRef {
	type entry struct {
		c, r, x, y int
		prec       *precinct
	}
	var all []entry
	for c, tc := range comps {
		for r, res := range tc.res {
			for _, p := range res.precincts {
				all = append(all, entry{c, r, p.x0, p.y0, p})
			}
		}
	}
	type key [4]int
	var keyOf func(e entry) key
	switch h.cod.progression {
	case 0, 1: // LRCP, RLCP: layers handled below; precincts in raster order
		keyOf = func(e entry) key { return key{e.r, e.c, 0, 0} }
	case 2: // RPCL
		keyOf = func(e entry) key { return key{e.r, e.y, e.x, e.c} }
	case 3: // PCRL
		keyOf = func(e entry) key { return key{e.y, e.x, e.c, e.r} }
	default: // CPRL
		keyOf = func(e entry) key { return key{e.c, e.y, e.x, e.r} }
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		ka, kb := keyOf(a), keyOf(b)
		for i := range ka {
			if ka[i] != kb[i] {
				return cmp.Compare(ka[i], kb[i])
			}
		}
		return 0
	})
	layers := h.cod.layers
	var out []packetRef
	switch h.cod.progression {
	case 0: // LRCP
		for l := 0; l < layers; l++ {
			for _, e := range all {
				out = append(out, packetRef{e.c, e.r, l, e.prec})
			}
		}
	case 1: // RLCP
		for r := 0; r <= h.cod.levels; r++ {
			for l := 0; l < layers; l++ {
				for _, e := range all {
					if e.r == r {
						out = append(out, packetRef{e.c, e.r, l, e.prec})
					}
				}
			}
		}
	default: // the layer is the innermost loop
		for _, e := range all {
			for l := 0; l < layers; l++ {
				out = append(out, packetRef{e.c, e.r, l, e.prec})
			}
		}
	}
	return out
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
	// Every packet takes at least one byte: a header asking for far more
	// packets than the tile has bytes is hostile, not merely truncated.
	packets := 0
	for _, tc := range comps {
		for _, res := range tc.res {
			packets += len(res.precincts) * h.cod.layers
		}
	}
	if packets > len(body)+1<<16 {
		return errorf("%d packets declared for %d bytes of tile data", packets, len(body))
	}
	pos := 0
	for _, p := range packetOrder(h, comps) {
		if pos >= len(body) {
			break // truncated codestream: keep what was read
		}
		n, err := readPacket(body[pos:], p.prec, p.layer, h.cod.sop, h.cod.eph)
		if err != nil {
			return err
		}
		pos += n
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
	type job struct {
		b      *subband
		cb     *codeBlock
		coeffs []float64
		step   float64
	}
	var jobs []job
	out := make([][][]float64, len(tc.res))
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
			for _, cb := range b.blocks {
				planes := b.bitplanes - cb.zeroPlanes
				if cb.passes == 0 || planes <= 0 {
					continue
				}
				if planes > 31 {
					return nil, errorf("%d bit-planes in a code-block", planes)
				}
				jobs = append(jobs, job{b, cb, coeffs, step})
			}
		}
	}
	// Code-blocks are independent: decode them on every core, each worker
	// writing its blocks' disjoint areas of the subbands.
	var wg sync.WaitGroup
	next := make(chan job)
	for range min(runtime.GOMAXPROCS(0), max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cbd := &codeBlockDecoder{}
			for j := range next {
				cbd.decodeInto(j.b, j.cb, j.coeffs, j.step, h)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return out, nil
}

// decodeInto runs tier-1 on code-block cb of subband b and writes its
// reconstructed coefficients (times step) into the subband's coeffs.
func (cbd *codeBlockDecoder) decodeInto(b *subband, cb *codeBlock, coeffs []float64, step float64, h *header) {
	w, hh := cb.x1-cb.x0, cb.y1-cb.y0
	bw := b.x1 - b.x0
	cbd.w, cbd.h, cbd.band, cbd.style = w, hh, b.orient, h.cod.cbStyle
	cbd.flags = make([]uint8, (w+2)*(hh+2))
	cbd.mag = make([]int32, w*hh)
	low := cbd.decode(cb.data, b.bitplanes-cb.zeroPlanes, cb.passes)
	// Reconstruct mid-way in the undecoded bits: exact when every plane of a
	// reversible code-block was decoded.
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
