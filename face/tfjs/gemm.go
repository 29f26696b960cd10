package tfjs

import (
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
// covers, so the panel stays in L1/L2 cache.
const gemmKBlock = 256

// Gemm computes c = a·b for row-major a [m×k], b [k×n] and c [m×n],
// overwriting c. It packs b in panels of four columns and runs a 4×4
// register-blocked kernel, splitting rows of c over the workers.
func (e Exec) Gemm(m, n, k int, a, b, c []float32) {
	if len(a) < m*k || len(b) < k*n || len(c) < m*n {
		panic("tfjs: gemm: slices shorter than their dimensions")
	}
	if haveFMA {
		e.gemm16(m, n, k, a, b, c)
		return
	}
	e.gemm4(m, n, k, a, b, c)
}

// gemm16 is Gemm with 16-column panels and the AVX2 4×16 kernel.
func (e Exec) gemm16(m, n, k int, a, b, c []float32) {
	clear(c[:m*n])
	np := (n + 15) / 16
	packed := make([]float32, np*16*k)
	for p := 0; p < np; p++ {
		dst := packed[p*16*k : (p+1)*16*k]
		j0 := 16 * p
		w := min(16, n-j0)
		for r := 0; r < k; r++ {
			copy(dst[r*16:r*16+w], b[r*n+j0:r*n+j0+w])
		}
	}
	e.parallel(m, 4, func(lo, hi int) {
		var tile [64]float32
		for k0 := 0; k0 < k; k0 += gemmKBlock {
			k1 := min(k0+gemmKBlock, k)
			kk := k1 - k0
			for p := 0; p < np; p++ {
				panel := packed[p*16*k+k0*16 : p*16*k+k1*16]
				j0 := 16 * p
				w := min(16, n-j0)
				i := lo
				for ; i+4 <= hi; i += 4 {
					kernel4x16(&a[i*k+k0], k, &panel[0], kk, &tile[0])
					for r := 0; r < 4; r++ {
						dst := c[(i+r)*n+j0 : (i+r)*n+j0+w]
						for j := range dst {
							dst[j] += tile[r*16+j]
						}
					}
				}
				for ; i < hi; i++ {
					row := a[i*k+k0 : i*k+k1]
					dst := c[i*n+j0 : i*n+j0+w]
					for r, x := range row {
						bp := panel[r*16 : r*16+w]
						for j := range dst {
							dst[j] += x * bp[j]
						}
					}
				}
			}
		}
	})
}

// gemm4 is the portable Gemm: 4-column panels and a 4×4 scalar kernel.
func (e Exec) gemm4(m, n, k int, a, b, c []float32) {
	clear(c[:m*n])
	np := (n + 3) / 4
	packed := make([]float32, np*4*k)
	// Panel p holds columns 4p..4p+3 for every row of b, interleaved:
	// packed[p*4k + r*4 + j] = b[r*n + 4p + j] (zero beyond n).
	for p := 0; p < np; p++ {
		dst := packed[p*4*k : (p+1)*4*k]
		j0 := 4 * p
		w := min(4, n-j0)
		for r := 0; r < k; r++ {
			copy(dst[r*4:r*4+w], b[r*n+j0:r*n+j0+w])
		}
	}
	e.parallel(m, 4, func(lo, hi int) {
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
