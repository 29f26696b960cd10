// Package convref is the direct convolution the tensor runtime's kernels
// are tested against: the loops, without packing or fusion, that define
// what the kernels must compute. It is for tests only.
package convref

import "github.com/huella-abis/huella/face/tfjs"

// Conv is a direct TensorFlow convolution of x [h,w,cin] by filter
// [k,k,cin,cout] (or [k,k,cin,1] when depthwise), then bias and a clamp:
// the loops the runtime ran before its kernels were fused and packed.
func Conv(x []float32, h, w, cin int, f []float32, k, cout, stride int, pad tfjs.Padding, depthwise bool, bias []float32, lo, hi float32) ([]float32, int, int) {
	oh, ow := (h+stride-1)/stride, (w+stride-1)/stride
	top := max((oh-1)*stride+k-h, 0) / 2
	left := max((ow-1)*stride+k-w, 0) / 2
	if pad == tfjs.Valid {
		oh, ow, top, left = (h-k)/stride+1, (w-k)/stride+1, 0, 0
	}
	out := make([]float32, oh*ow*cout)
	for oy := range oh {
		for ox := range ow {
			for o := range cout {
				var s float32
				for ky := range k {
					for kx := range k {
						iy, ix := oy*stride+ky-top, ox*stride+kx-left
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						if depthwise {
							s += x[(iy*w+ix)*cin+o] * f[(ky*k+kx)*cin+o]
							continue
						}
						for i := range cin {
							s += x[(iy*w+ix)*cin+i] * f[((ky*k+kx)*cin+i)*cout+o]
						}
					}
				}
				if bias != nil {
					s += bias[o]
				}
				out[(oy*ow+ox)*cout+o] = min(max(s, lo), hi)
			}
		}
	}
	return out, oh, ow
}
