package jpeg2000

// Tier-1: the embedded block coder (T.800 Annex D) for one code-block.

const (
	ctxRunLength = 17
	ctxUniform   = 18
)

// Subband orientations.
const (
	bandLL = iota
	bandHL
	bandLH
	bandHH
)

// flags of one coefficient during decoding.
const (
	fSig     = 1 << 0 // significant
	fVisited = 1 << 1 // coded in the current bit-plane's significance pass
	fRefined = 1 << 2 // refined at least once
	fNeg     = 1 << 3 // negative
)

// zcContext returns the zero-coding context (T.800 Table D.1).
func zcContext(band, h, v, d int) int {
	switch band {
	case bandHL:
		h, v = v, h
	case bandHH:
		hv := h + v
		switch {
		case d >= 3:
			return 8
		case d == 2:
			if hv >= 1 {
				return 7
			}
			return 6
		case d == 1:
			if hv >= 2 {
				return 5
			}
			if hv == 1 {
				return 4
			}
			return 3
		default:
			if hv >= 2 {
				return 2
			}
			if hv == 1 {
				return 1
			}
			return 0
		}
	}
	switch {
	case h == 2:
		return 8
	case h == 1:
		if v >= 1 {
			return 7
		}
		if d >= 1 {
			return 6
		}
		return 5
	default:
		if v == 2 {
			return 4
		}
		if v == 1 {
			return 3
		}
		if d >= 2 {
			return 2
		}
		if d == 1 {
			return 1
		}
		return 0
	}
}

// Code-block style bits of COD (T.800 Table A.19) this decoder honours.
const (
	styleReset   = 0x02 // reset the contexts after each pass
	styleVCausal = 0x08 // stripe-causal context formation
	styleERTerm  = 0x10 // predictable termination (nothing to do when decoding)
	styleSegMark = 0x20 // segmentation symbol after each cleanup pass
)

// codeBlockDecoder holds the state of one code-block's bit-plane decoding.
type codeBlockDecoder struct {
	w, h  int
	band  int
	style int
	flags []uint8 // (w+2)*(h+2), with a border
	mag   []int32 // w*h magnitudes
	mq    mqDecoder
}

func (cb *codeBlockDecoder) idx(x, y int) int { return (y+1)*(cb.w+2) + x + 1 }

func (cb *codeBlockDecoder) sig(i int) int { return int(cb.flags[i] & fSig) }

// below reports whether the row under coefficient row y takes part in its
// contexts: not in stripe-causal mode on a stripe's last row.
func (cb *codeBlockDecoder) below(y int) bool {
	return cb.style&styleVCausal == 0 || y%4 != 3
}

// neighbours counts significant horizontal, vertical and diagonal
// neighbours of coefficient i in row y.
func (cb *codeBlockDecoder) neighbours(i, y int) (h, v, d int) {
	s := cb.w + 2
	h = cb.sig(i-1) + cb.sig(i+1)
	v = cb.sig(i - s)
	d = cb.sig(i-s-1) + cb.sig(i-s+1)
	if cb.below(y) {
		v += cb.sig(i + s)
		d += cb.sig(i+s-1) + cb.sig(i+s+1)
	}
	return
}

// signContribution is the contribution of two neighbours to the sign context.
func (cb *codeBlockDecoder) signContribution(a, b int) int {
	c := 0
	for _, i := range []int{a, b} {
		if cb.flags[i]&fSig != 0 {
			if cb.flags[i]&fNeg != 0 {
				c--
			} else {
				c++
			}
		}
	}
	return max(-1, min(1, c))
}

// decodeSign decodes the sign of coefficient i in row y (T.800 Table D.3).
func (cb *codeBlockDecoder) decodeSign(i, y int) {
	s := cb.w + 2
	hc := cb.signContribution(i-1, i+1)
	down := i + s
	if !cb.below(y) {
		down = 0 // the border corner: never significant
	}
	vc := cb.signContribution(i-s, down)
	var ctx, xor int
	switch {
	case hc == 1:
		xor = 0
		ctx = 13 - (1 - vc) // vc 1→13, 0→12, -1→11
	case hc == 0:
		switch vc {
		case 1:
			ctx, xor = 10, 0
		case 0:
			ctx, xor = 9, 0
		default:
			ctx, xor = 10, 1
		}
	default:
		xor = 1
		ctx = 13 - (1 + vc) // vc -1→13, 0→12, 1→11
	}
	if cb.mq.decode(ctx)^xor != 0 {
		cb.flags[i] |= fNeg
	}
}

// decode runs numPasses coding passes over the block's data, starting at the
// bit-plane numBitplanes-1, and returns the lowest bit-plane reached (0 when
// every plane was decoded).
func (cb *codeBlockDecoder) decode(data []byte, numBitplanes, numPasses int) int {
	cb.mq.init(data)
	cb.mq.resetContexts()
	plane := numBitplanes - 1
	pass := 2 // the first pass is a cleanup pass
	for n := 0; n < numPasses && plane >= 0; n++ {
		switch pass {
		case 0:
			cb.significancePass(plane)
		case 1:
			cb.refinementPass(plane)
		case 2:
			cb.cleanupPass(plane)
			if cb.style&styleSegMark != 0 {
				for range 4 {
					cb.mq.decode(ctxUniform)
				}
			}
		}
		if cb.style&styleReset != 0 {
			cb.mq.resetContexts()
		}
		pass++
		if pass == 3 {
			pass = 0
			plane--
		}
	}
	if pass == 0 {
		return plane + 1 // stopped after a cleanup pass
	}
	return plane // stopped within a bit-plane
}

func (cb *codeBlockDecoder) becomeSignificant(i, x, y, plane int) {
	cb.flags[i] |= fSig
	cb.mag[y*cb.w+x] |= 1 << plane
	cb.decodeSign(i, y)
}

func (cb *codeBlockDecoder) significancePass(plane int) {
	for y0 := 0; y0 < cb.h; y0 += 4 {
		for x := 0; x < cb.w; x++ {
			for y := y0; y < min(y0+4, cb.h); y++ {
				i := cb.idx(x, y)
				if cb.flags[i]&fSig != 0 {
					continue
				}
				h, v, d := cb.neighbours(i, y)
				if h+v+d == 0 {
					continue
				}
				cb.flags[i] |= fVisited
				if cb.mq.decode(zcContext(cb.band, h, v, d)) == 1 {
					cb.becomeSignificant(i, x, y, plane)
				}
			}
		}
	}
}

func (cb *codeBlockDecoder) refinementPass(plane int) {
	for y0 := 0; y0 < cb.h; y0 += 4 {
		for x := 0; x < cb.w; x++ {
			for y := y0; y < min(y0+4, cb.h); y++ {
				i := cb.idx(x, y)
				if cb.flags[i]&(fSig|fVisited) != fSig {
					continue
				}
				ctx := 16
				if cb.flags[i]&fRefined == 0 {
					ctx = 14
					if h, v, d := cb.neighbours(i, y); h+v+d > 0 {
						ctx = 15
					}
				}
				if cb.mq.decode(ctx) == 1 {
					cb.mag[y*cb.w+x] |= 1 << plane
				}
				cb.flags[i] |= fRefined
			}
		}
	}
}

func (cb *codeBlockDecoder) cleanupPass(plane int) {
	for y0 := 0; y0 < cb.h; y0 += 4 {
		for x := 0; x < cb.w; x++ {
			y := y0
			// Run-length mode: a full stripe column of insignificant,
			// unvisited coefficients with no significant neighbour.
			if y0+4 <= cb.h {
				run := true
				for k := 0; k < 4 && run; k++ {
					i := cb.idx(x, y0+k)
					h, v, d := cb.neighbours(i, y)
					run = cb.flags[i]&(fSig|fVisited) == 0 && h+v+d == 0
				}
				if run {
					if cb.mq.decode(ctxRunLength) == 0 {
						continue
					}
					k := cb.mq.decode(ctxUniform)<<1 | cb.mq.decode(ctxUniform)
					y = y0 + k
					cb.becomeSignificant(cb.idx(x, y), x, y, plane)
					y++
				}
			}
			for ; y < min(y0+4, cb.h); y++ {
				i := cb.idx(x, y)
				if cb.flags[i]&(fSig|fVisited) != 0 {
					continue
				}
				h, v, d := cb.neighbours(i, y)
				if cb.mq.decode(zcContext(cb.band, h, v, d)) == 1 {
					cb.becomeSignificant(i, x, y, plane)
				}
			}
		}
		// Clear the visited flags of the stripe for the next bit-plane.
		for yy := y0; yy < min(y0+4, cb.h); yy++ {
			for x := 0; x < cb.w; x++ {
				cb.flags[cb.idx(x, yy)] &^= fVisited
			}
		}
	}
}
