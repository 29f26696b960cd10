package wsq

import (
	"image"
	"math"
)

// Trace receives the image of one pipeline stage under a stable kebab-case
// key. It must not keep img beyond the call.
//
// Decoder keys: "wsq-subbands" (the dequantised 64 subbands, each scaled to
// its own range) and "wsq-reconstructed" (the final grey image). Encoder
// keys: "wsq-subbands" (the transform before quantisation) and
// "wsq-quantized" (the subbands after quantisation and dequantisation, as
// the decoder will see them).
type Trace func(key string, img image.Image)

// traceSubbands renders a coefficient plane for a trace: each subband is
// mapped from [-max|c|, max|c|] to [0, 255] so that weak bands stay visible.
func traceSubbands(t Trace, key string, plane []float32, tree *decomposition, width, height int) {
	if t == nil {
		return
	}
	g := image.NewGray(image.Rect(0, 0, width, height))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	for _, r := range tree.subbands {
		var peak float64
		for y := r.y; y < r.y+r.h; y++ {
			for _, v := range plane[y*width+r.x : y*width+r.x+r.w] {
				peak = math.Max(peak, math.Abs(float64(v)))
			}
		}
		if peak == 0 {
			continue
		}
		for y := r.y; y < r.y+r.h; y++ {
			for x, v := range plane[y*width+r.x : y*width+r.x+r.w] {
				g.Pix[y*width+r.x+x] = uint8(math.Round(127.5 + 127.5*float64(v)/peak))
			}
		}
	}
	t(key, g)
}
