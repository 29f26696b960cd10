package tfjs

import (
	"fmt"
	"math"
)

// Padding is TF's convolution and pooling padding mode.
type Padding int

// Padding modes, as in TF.js.
const (
	Valid Padding = iota // no padding; output ⌊(in−k)/s⌋+1
	Same                 // output ⌈in/s⌉, padding split with the extra at the end
)

// outSize returns the output length and the padding before the input along
// one axis, following TF's rules.
func outSize(in, k, stride int, pad Padding) (out, before int) {
	if pad == Valid {
		return (in-k)/stride + 1, 0
	}
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+k-in, 0)
	return out, total / 2
}

// Conv2D convolves the feature map x [h,w,cin] with filter [kh,kw,cin,cout]
// (im2col then GEMM) and adds bias [cout] when it is not nil.
func (e Exec) Conv2D(x, filter, bias *Tensor, stride int, pad Padding) (*Tensor, error) {
	ep := NoEpilogue
	if bias != nil {
		ep.Bias = bias.Data
	}
	return e.Conv2DPacked(x, PackFilter(filter), stride, pad, ep, nil)
}

// PackedFilter is a convolution filter [kh,kw,cin,cout] packed once as the
// right operand of the convolution's product.
type PackedFilter struct {
	KH, KW, Cin, Cout int
	m                 *PackedMatrix
}

// PackFilter packs filter [kh,kw,cin,cout] for Conv2DPacked.
func PackFilter(filter *Tensor) *PackedFilter {
	kh, kw, cin, cout := filter.Shape[0], filter.Shape[1], filter.Shape[2], filter.Shape[3]
	return &PackedFilter{KH: kh, KW: kw, Cin: cin, Cout: cout, m: PackMatrix(kh*kw*cin, cout, filter.Data)}
}

// buffer returns buf resliced to n values when it is long enough, else a new
// slice; its contents are not cleared.
func buffer(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float32, n)
}

// Conv2DPacked is Conv2D with a packed filter and an epilogue applied as
// the values are written. The result's values live in buf when it has room
// (its contents are overwritten), in a new slice otherwise.
func (e Exec) Conv2DPacked(x *Tensor, f *PackedFilter, stride int, pad Padding, ep Epilogue, buf []float32) (*Tensor, error) {
	h, w, cin := x.Dims()
	kh, kw, cout := f.KH, f.KW, f.Cout
	if f.Cin != cin {
		return nil, fmt.Errorf("tfjs: conv2d: input has %d channels, filter wants %d", cin, f.Cin)
	}
	oh, top := outSize(h, kh, stride, pad)
	ow, left := outSize(w, kw, stride, pad)
	if oh <= 0 || ow <= 0 {
		return nil, fmt.Errorf("tfjs: conv2d: input %dx%d smaller than kernel %dx%d", h, w, kh, kw)
	}
	out := &Tensor{Shape: []int{oh, ow, cout}, Data: buffer(buf, oh*ow*cout)}
	k := kh * kw * cin
	var cols []float32
	if kh == 1 && kw == 1 && stride == 1 {
		cols = x.Data
	} else {
		cols = make([]float32, oh*ow*k)
		e.parallel(oh, 1, func(lo, hi int) {
			for oy := lo; oy < hi; oy++ {
				for ox := 0; ox < ow; ox++ {
					dst := cols[(oy*ow+ox)*k:]
					for ky := 0; ky < kh; ky++ {
						iy := oy*stride + ky - top
						for kx := 0; kx < kw; kx++ {
							ix := ox*stride + kx - left
							seg := dst[(ky*kw+kx)*cin : (ky*kw+kx+1)*cin]
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								clear(seg)
								continue
							}
							src := x.Data[(iy*w+ix)*cin : (iy*w+ix+1)*cin]
							if cin < 8 {
								// A loop beats memmove's call for RGB input.
								for i, v := range src {
									seg[i] = v
								}
							} else {
								copy(seg, src)
							}
						}
					}
				}
			}
		})
	}
	e.GemmPacked(oh*ow, cols, f.m, out.Data, ep)
	return out, nil
}

// DepthwiseConv2D convolves each channel of x [h,w,c] with its own filter
// [kh,kw,c,1].
func (e Exec) DepthwiseConv2D(x, filter *Tensor, stride int, pad Padding) (*Tensor, error) {
	return e.DepthwiseConv2DFused(x, filter, stride, pad, NoEpilogue, nil)
}

// DepthwiseConv2DFused is DepthwiseConv2D with an epilogue applied as the
// values are written; the result's values live in buf when it has room, in
// a new slice otherwise. A 3×3 filter's outputs whose window lies inside
// the map take an unrolled loop.
func (e Exec) DepthwiseConv2DFused(x, filter *Tensor, stride int, pad Padding, ep Epilogue, buf []float32) (*Tensor, error) {
	h, w, c := x.Dims()
	kh, kw := filter.Shape[0], filter.Shape[1]
	if filter.Shape[2] != c || filter.Shape[3] != 1 {
		return nil, fmt.Errorf("tfjs: depthwise conv: filter %v for %d channels", filter.Shape, c)
	}
	if ep.Bias != nil && len(ep.Bias) < c {
		return nil, fmt.Errorf("tfjs: depthwise conv: %d biases for %d channels", len(ep.Bias), c)
	}
	oh, top := outSize(h, kh, stride, pad)
	ow, left := outSize(w, kw, stride, pad)
	if oh <= 0 || ow <= 0 {
		return nil, fmt.Errorf("tfjs: depthwise conv: input %dx%d smaller than kernel", h, w)
	}
	out := &Tensor{Shape: []int{oh, ow, c}, Data: buffer(buf, oh*ow*c)}
	clamps := ep.clamps()
	bias := ep.Bias
	if bias == nil {
		bias = make([]float32, c)
	}
	e.parallel(oh, 1, func(lo, hi int) {
		for oy := lo; oy < hi; oy++ {
			iy0 := oy*stride - top
			for ox := 0; ox < ow; ox++ {
				dst := out.Data[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
				ix0 := ox*stride - left
				if kh == 3 && kw == 3 && iy0 >= 0 && iy0+3 <= h && ix0 >= 0 && ix0+3 <= w {
					off := (iy0*w + ix0) * c
					if vec := c &^ 7; haveFMA && vec > 0 {
						// Blocks of 8 channels in AVX2, epilogue included.
						depthwise3x3x8(&dst[0], &x.Data[off], w*c, c, &filter.Data[0], &bias[0], ep.Lo, ep.Hi, vec/8)
						if vec < c {
							tail := dst[vec:]
							depthwise3x3(tail, x.Data, off+vec, w*c, c, filter.Data[vec:], bias[vec:c])
							for i, v := range tail {
								tail[i] = min(max(v, ep.Lo), ep.Hi)
							}
						}
						continue
					}
					depthwise3x3(dst, x.Data, off, w*c, c, filter.Data, ep.Bias)
				} else {
					clear(dst)
					for ky := 0; ky < kh; ky++ {
						iy := iy0 + ky
						if iy < 0 || iy >= h {
							continue
						}
						for kx := 0; kx < kw; kx++ {
							ix := ix0 + kx
							if ix < 0 || ix >= w {
								continue
							}
							src := x.Data[(iy*w+ix)*c : (iy*w+ix+1)*c]
							f := filter.Data[(ky*kw+kx)*c : (ky*kw+kx+1)*c]
							for i := range dst {
								dst[i] += src[i] * f[i]
							}
						}
					}
					if ep.Bias != nil {
						for i, b := range ep.Bias[:c] {
							dst[i] += b
						}
					}
				}
				if clamps {
					for i, v := range dst {
						dst[i] = min(max(v, ep.Lo), ep.Hi)
					}
				}
			}
		}
	})
	return out, nil
}

// depthwise3x3 writes into dst the first len(dst) channels of one output
// of a 3×3 depthwise convolution over maps of c channels, whose window
// starts at offset off of x, rows row floats apart, plus bias when it is
// not nil; f is the [3,3,c] filter from the same first channel.
func depthwise3x3(dst, x []float32, off, row, c int, f, bias []float32) {
	n := len(dst)
	x0, x1, x2 := x[off:off+2*c+n], x[off+row:off+row+2*c+n], x[off+2*row:off+2*row+2*c+n]
	f0, f1, f2 := f[:2*c+n], f[3*c:5*c+n], f[6*c:8*c+n]
	if bias == nil {
		clear(dst)
	} else {
		copy(dst, bias[:n])
	}
	for t := 0; t < 3; t++ {
		a0, a1, a2 := x0[t*c:t*c+n], x1[t*c:t*c+n], x2[t*c:t*c+n]
		g0, g1, g2 := f0[t*c:t*c+n], f1[t*c:t*c+n], f2[t*c:t*c+n]
		for i := range dst {
			dst[i] += a0[i]*g0[i] + a1[i]*g1[i] + a2[i]*g2[i]
		}
	}
}

// SeparableConv2D is a depthwise convolution followed by a pointwise (1×1)
// convolution, plus bias, as tf.separableConv2d.
func (e Exec) SeparableConv2D(x, depthwise, pointwise, bias *Tensor, stride int, pad Padding) (*Tensor, error) {
	d, err := e.DepthwiseConv2D(x, depthwise, stride, pad)
	if err != nil {
		return nil, err
	}
	return e.Conv2D(d, pointwise, bias, 1, Valid)
}

// AddBias adds a per-channel bias [c] to x [...,c] in place.
func AddBias(x, bias *Tensor) {
	c := len(bias.Data)
	for i := 0; i < len(x.Data); i += c {
		row := x.Data[i : i+c]
		for j, b := range bias.Data {
			row[j] += b
		}
	}
}

// Scale computes x·weights + biases per channel in place.
func Scale(x, weights, biases *Tensor) {
	c := len(weights.Data)
	for i := 0; i < len(x.Data); i += c {
		row := x.Data[i : i+c]
		for j := range row {
			row[j] = row[j]*weights.Data[j] + biases.Data[j]
		}
	}
}

// ReLU clamps negative values to zero in place.
func ReLU(x *Tensor) {
	for i, v := range x.Data {
		if v < 0 {
			x.Data[i] = 0
		}
	}
}

// LeakyReLU multiplies negative values by alpha in place.
func LeakyReLU(x *Tensor, alpha float32) {
	for i, v := range x.Data {
		if v < 0 {
			x.Data[i] = v * alpha
		}
	}
}

// Add adds y to x in place; shapes must match.
func Add(x, y *Tensor) error {
	if len(x.Data) != len(y.Data) {
		return fmt.Errorf("tfjs: add: shapes %v and %v", x.Shape, y.Shape)
	}
	for i, v := range y.Data {
		x.Data[i] += v
	}
	return nil
}

// MaxPool takes the maximum over k×k windows; padded cells are ignored.
func MaxPool(x *Tensor, k, stride int, pad Padding) *Tensor {
	return pool(x, k, stride, pad, true)
}

// AvgPool averages over k×k windows; padded cells are not counted.
func AvgPool(x *Tensor, k, stride int, pad Padding) *Tensor {
	return pool(x, k, stride, pad, false)
}

func pool(x *Tensor, k, stride int, pad Padding, isMax bool) *Tensor {
	h, w, c := x.Dims()
	oh, top := outSize(h, k, stride, pad)
	ow, left := outSize(w, k, stride, pad)
	out := New(max(oh, 0), max(ow, 0), c)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			dst := out.Data[(oy*ow+ox)*c : (oy*ow+ox+1)*c]
			if isMax {
				for i := range dst {
					dst[i] = float32(math.Inf(-1))
				}
			}
			n := 0
			for ky := 0; ky < k; ky++ {
				iy := oy*stride + ky - top
				if iy < 0 || iy >= h {
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ox*stride + kx - left
					if ix < 0 || ix >= w {
						continue
					}
					n++
					src := x.Data[(iy*w+ix)*c : (iy*w+ix+1)*c]
					if isMax {
						for i, v := range src {
							dst[i] = max(dst[i], v)
						}
					} else {
						for i, v := range src {
							dst[i] += v
						}
					}
				}
			}
			if !isMax && n > 0 {
				inv := 1 / float32(n)
				for i := range dst {
					dst[i] *= inv
				}
			}
		}
	}
	return out
}

// PadTo zero-pads x [h,w,c] at the bottom and right to [h2,w2,c2]
// (channels padded at the end), as tf.concat with zeros.
func PadTo(x *Tensor, h2, w2, c2 int) *Tensor {
	h, w, c := x.Dims()
	if h == h2 && w == w2 && c == c2 {
		return x
	}
	out := New(h2, w2, c2)
	for y := 0; y < min(h, h2); y++ {
		for xx := 0; xx < min(w, w2); xx++ {
			copy(out.Data[(y*w2+xx)*c2:(y*w2+xx)*c2+min(c, c2)], x.Data[(y*w+xx)*c:(y*w+xx)*c+min(c, c2)])
		}
	}
	return out
}

// Mean averages x [h,w,c] over height and width.
func Mean(x *Tensor) *Tensor {
	h, w, c := x.Dims()
	out := New(c)
	for i := 0; i < h*w; i++ {
		for j, v := range x.Data[i*c : (i+1)*c] {
			out.Data[j] += v
		}
	}
	for j := range out.Data {
		out.Data[j] /= float32(h * w)
	}
	return out
}

// Dense computes x·weights (+ bias) for a vector x [k] and weights [k,n].
func Dense(x, weights, bias *Tensor) (*Tensor, error) {
	k, n := weights.Shape[0], weights.Shape[1]
	if len(x.Data) != k {
		return nil, fmt.Errorf("tfjs: dense: input has %d values, weights want %d", len(x.Data), k)
	}
	out := New(n)
	for i, v := range x.Data {
		row := weights.Data[i*n : (i+1)*n]
		for j, wv := range row {
			out.Data[j] += v * wv
		}
	}
	if bias != nil {
		AddBias(out, bias)
	}
	return out, nil
}
