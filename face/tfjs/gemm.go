package tfjs

import (
	"math"
	"runtime"
	"sync"
)

// Exec carries how many goroutines an operation may use. The zero value
// (or Workers ≤ 0) uses every CPU; Workers 1 runs on the calling goroutine.
type Exec struct {
	Workers int
}

func (e Exec) workers() int {
	if e.Workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return e.Workers
}

// parallel runs f over [0, n) split into contiguous chunks, one per worker,
// each a multiple of align (except the last).
func (e Exec) parallel(n, align int, f func(lo, hi int)) {
	w := e.workers()
	if w <= 1 || n <= align {
		f(0, n)
		return
	}
	chunk := (n + w - 1) / w
	chunk = (chunk + align - 1) / align * align
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// gemmKBlock bounds the slice of the shared dimension one packed panel of B
// covers, so the panel stays in L1/L2 cache; gemmRowBlock bounds the rows of
// A one pass over the panels reads, so they stay in L2 while every panel
// reuses them.
const (
	gemmKBlock   = 1024
	gemmRowBlock = 64
)

// Epilogue is what a product or convolution applies to each output value as
// it writes it: its column's (channel's) bias when Bias is not nil, then a
// clamp to [Lo, Hi]. NoEpilogue adds nothing and clamps nothing.
type Epilogue struct {
	Bias   []float32
	Lo, Hi float32
}

// NoEpilogue leaves the values as computed.
var NoEpilogue = Epilogue{Lo: float32(math.Inf(-1)), Hi: float32(math.Inf(1))}

// clamps says whether the epilogue bounds the values at all.
func (ep *Epilogue) clamps() bool {
	return !math.IsInf(float64(ep.Lo), -1) || !math.IsInf(float64(ep.Hi), 1)
}

// apply runs the epilogue on dst, the columns j0.. of one output row.
func (ep *Epilogue) apply(dst []float32, j0 int) {
	if ep.Bias != nil {
		b := ep.Bias[j0 : j0+len(dst)]
		for j := range dst {
			dst[j] += b[j]
		}
	}
	if ep.clamps() {
		lo, hi := ep.Lo, ep.Hi
		for j, v := range dst {
			dst[j] = min(max(v, lo), hi)
		}
	}
}

// PackedMatrix is the right operand of a product, packed once into column
// panels in the layout the kernel reads: for a constant reused by many
// products, such as a convolution's filter.
type PackedMatrix struct {
	k, n, width int
	data        []float32
}

// PackMatrix packs the row-major matrix b [k×n].
func PackMatrix(k, n int, b []float32) *PackedMatrix {
	if len(b) < k*n {
		panic("tfjs: pack: slice shorter than its dimensions")
	}
	width := 4
	if haveFMA {
		width = 16
	}
	return packMatrix(k, n, b, width)
}

// packMatrix packs b in panels of width columns.
func packMatrix(k, n int, b []float32, width int) *PackedMatrix {
	np := (n + width - 1) / width
	p := &PackedMatrix{k: k, n: n, width: width, data: make([]float32, np*width*k)}
	// Panel q holds columns width·q.. for every row of b, interleaved:
	// data[q·width·k + r·width + j] = b[r·n + width·q + j] (zero beyond n).
	for q := 0; q < np; q++ {
		dst := p.data[q*width*k : (q+1)*width*k]
		j0 := width * q
		w := min(width, n-j0)
		for r := 0; r < k; r++ {
			copy(dst[r*width:r*width+w], b[r*n+j0:r*n+j0+w])
		}
	}
	return p
}

// Gemm computes c = a·b for row-major a [m×k], b [k×n] and c [m×n],
// overwriting c. It packs b in column panels and runs a register-blocked
// kernel, splitting rows of c over the workers.
func (e Exec) Gemm(m, n, k int, a, b, c []float32) {
	if len(a) < m*k || len(b) < k*n || len(c) < m*n {
		panic("tfjs: gemm: slices shorter than their dimensions")
	}
	e.GemmPacked(m, a, PackMatrix(k, n, b), c, NoEpilogue)
}

// GemmPacked computes c = a·b for row-major a [m×k] and c [m×n] and a
// packed b [k×n], applying ep to every value of c as it is written
// (c need not be zeroed).
func (e Exec) GemmPacked(m int, a []float32, b *PackedMatrix, c []float32, ep Epilogue) {
	n, k := b.n, b.k
	if len(a) < m*k || len(c) < m*n || (ep.Bias != nil && len(ep.Bias) < n) {
		panic("tfjs: gemm: slices shorter than their dimensions")
	}
	if b.width == 16 {
		e.gemm16(m, a, b, c, &ep)
		return
	}
	e.gemm4(m, a, b, c, &ep)
}

// zeros16 is the bias of a product without one.
var zeros16 [16]float32

// gemm16 is GemmPacked with 16-column panels and the AVX2 4×16 kernel.
func (e Exec) gemm16(m int, a []float32, b *PackedMatrix, c []float32, ep *Epilogue) {
	n, k := b.n, b.k
	np := (n + 15) / 16
	packed := b.data
	lo, hi, clamps := ep.Lo, ep.Hi, ep.clamps()
	e.parallel(m, 4, func(rlo, rhi int) {
		var tile [64]float32
		for r0 := rlo; r0 < rhi; r0 += gemmRowBlock {
			r1 := min(r0+gemmRowBlock, rhi)
			for k0 := 0; k0 < k; k0 += gemmKBlock {
				k1 := min(k0+gemmKBlock, k)
				kk := k1 - k0
				first, last := k0 == 0, k1 == k
				for p := 0; p < np; p++ {
					panel := packed[p*16*k+k0*16 : p*16*k+k1*16]
					j0 := 16 * p
					w := min(16, n-j0)
					i := r0
					var bias []float32
					if last && ep.Bias != nil {
						bias = ep.Bias[j0 : j0+w]
					}
					if first && last && w == 16 {
						// One block of the shared dimension, a full panel:
						// the kernel adds the bias, clamps and stores.
						bp := &zeros16[0]
						if bias != nil {
							bp = &bias[0]
						}
						for ; i+4 <= r1; i += 4 {
							kernel4x16Store(&a[i*k], k, &panel[0], kk, &c[i*n+j0 : (i+3)*n+j0+16][0], n, bp, lo, hi)
						}
					}
					for ; i+4 <= r1; i += 4 {
						kernel4x16(&a[i*k+k0], k, &panel[0], kk, &tile[0])
						for r := 0; r < 4; r++ {
							dst := c[(i+r)*n+j0 : (i+r)*n+j0+w]
							storeTile(dst, tile[r*16:r*16+w], first, last, bias, lo, hi, clamps)
						}
					}
					for ; i < r1; i++ {
						row := a[i*k+k0 : i*k+k1]
						dst := c[i*n+j0 : i*n+j0+w]
						if first {
							clear(dst)
						}
						for r, x := range row {
							bp := panel[r*16 : r*16+w]
							for j := range dst {
								dst[j] += x * bp[j]
							}
						}
						if last {
							ep.apply(dst, j0)
						}
					}
				}
			}
		}
	})
}

// storeTile writes (first) or adds t into dst, then, on the last block of
// the shared dimension, adds bias (when not nil) and clamps to [lo, hi].
func storeTile(dst, t []float32, first, last bool, bias []float32, lo, hi float32, clamps bool) {
	t = t[:len(dst)]
	if !last {
		if first {
			copy(dst, t)
			return
		}
		for j := range dst {
			dst[j] += t[j]
		}
		return
	}
	if !first {
		for j := range dst {
			t[j] += dst[j]
		}
	}
	switch {
	case bias != nil && clamps:
		bias = bias[:len(dst)]
		for j := range dst {
			dst[j] = min(max(t[j]+bias[j], lo), hi)
		}
	case bias != nil:
		bias = bias[:len(dst)]
		for j := range dst {
			dst[j] = t[j] + bias[j]
		}
	case clamps:
		for j := range dst {
			dst[j] = min(max(t[j], lo), hi)
		}
	default:
		copy(dst, t)
	}
}

// gemm4 is the portable GemmPacked: 4-column panels and a 4×4 scalar kernel.
func (e Exec) gemm4(m int, a []float32, b *PackedMatrix, c []float32, ep *Epilogue) {
	n, k := b.n, b.k
	np := (n + 3) / 4
	packed := b.data
	e.parallel(m, 4, func(lo, hi int) {
		clear(c[lo*n : hi*n])
		for k0 := 0; k0 < k; k0 += gemmKBlock {
			k1 := min(k0+gemmKBlock, k)
			for p := 0; p < np; p++ {
				panel := packed[p*4*k+k0*4 : p*4*k+k1*4]
				j0 := 4 * p
				w := min(4, n-j0)
				i := lo
				for ; i+4 <= hi; i += 4 {
					kernel4x4(a[i*k+k0:], a[(i+1)*k+k0:], a[(i+2)*k+k0:], a[(i+3)*k+k0:], panel, k1-k0, c, i*n+j0, n, w)
				}
				for ; i < hi; i++ {
					kernel1x4(a[i*k+k0:], panel, k1-k0, c[i*n+j0:], w)
				}
			}
		}
		for i := lo; i < hi; i++ {
			ep.apply(c[i*n:(i+1)*n], 0)
		}
	})
}

// kernel4x4 adds rows a0..a3 (length kk) times a packed 4-column panel into
// the 4×w block of c starting at offset off with row stride n.
func kernel4x4(a0, a1, a2, a3, panel []float32, kk int, c []float32, off, n, w int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a0, a1, a2, a3 = a0[:kk], a1[:kk], a2[:kk], a3[:kk]
	panel = panel[:4*kk]
	for r := range kk {
		b := panel[r*4 : r*4+4 : r*4+4]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		x := a0[r]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		x = a1[r]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		x = a2[r]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		x = a3[r]
		c30 += x * b0
		c31 += x * b1
		c32 += x * b2
		c33 += x * b3
	}
	rows := [4][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
	for i := range 4 {
		dst := c[off+i*n : off+i*n+w]
		for j := range dst {
			dst[j] += rows[i][j]
		}
	}
}

func kernel1x4(a, panel []float32, kk int, c []float32, w int) {
	var c0, c1, c2, c3 float32
	a = a[:kk]
	for r, x := range a {
		b := panel[r*4 : r*4+4 : r*4+4]
		c0 += x * b[0]
		c1 += x * b[1]
		c2 += x * b[2]
		c3 += x * b[3]
	}
	acc := [4]float32{c0, c1, c2, c3}
	for j := range w {
		c[j] += acc[j]
	}
}
