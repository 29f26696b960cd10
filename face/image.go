package face

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for DecodeRGB
	_ "image/png"  // register PNG for DecodeRGB
	"io"
	"math"

	"github.com/huella-abis/huella/face/tfjs"
	"github.com/huella-abis/huella/imgproc"
)

// ErrImage reports an image that cannot be decoded or is unusable.
var ErrImage = errors.New("face: bad image")

// maxPixels bounds the images the engine accepts (64 megapixels).
const maxPixels = 64 << 20

// maxFileBytes bounds the encoded image size read (256 MB).
const maxFileBytes = 256 << 20

// RGB is an 8-bit colour image: Pix holds Width×Height pixels row by row,
// three bytes (red, green, blue) each.
type RGB struct {
	Width, Height int
	Pix           []uint8
}

// DecodeRGB decodes a JPEG or PNG image into RGB.
func DecodeRGB(r io.Reader) (*RGB, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes))
	if err != nil {
		return nil, fmt.Errorf("face: read image: %w", err)
	}
	img, _, err := imgproc.Decode(data, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, err)
	}
	return FromImage(img)
}

// FromImage converts any image.Image to RGB.
func FromImage(img image.Image) (*RGB, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w*h > maxPixels {
		return nil, fmt.Errorf("%w: %dx%d pixels", ErrImage, w, h)
	}
	out := &RGB{Width: w, Height: h, Pix: make([]uint8, 3*w*h)}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bb
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)]
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = uint8(r>>8), uint8(g>>8), uint8(bb>>8)
			}
		}
	}
	return out, nil
}

// ycbcrToRGB converts JFIF YCbCr to RGB in floating point, truncating, as
// jpeg-js (the reference decoder) does; Go's color.YCbCrToRGB differs from
// it by a grey level in places.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	fy := float64(y)
	fcb := float64(cb) - 128
	fcr := float64(cr) - 128
	r := fy + 1.402*fcr
	g := fy - 0.3441363*fcb - 0.71413636*fcr
	b := fy + 1.772*fcb
	return trunc8(r), trunc8(g), trunc8(b)
}

func trunc8(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func clamp8(v float64) uint8 {
	v = math.Round(v)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// netInput builds a network input tensor [size,size,3] from the region r of
// img the way face-api's NetInput.toBatchTensor does: zero-pad the region to
// a square (split between both sides when centered, else at the bottom or
// right), resize bilinearly (TF, no corner alignment, no half-pixel centres)
// to size×size, subtract mean and divide by 255.
func netInput(img *RGB, region image.Rectangle, size int, centered bool, mean [3]float32) *tfjs.Tensor {
	r := struct{ X, Y, W, H int }{region.Min.X, region.Min.Y, region.Dx(), region.Dy()}
	side := max(r.W, r.H)
	diff := side - min(r.W, r.H)
	after := diff
	if centered {
		after = int(math.Round(float64(diff) * 0.5))
	}
	before := diff - after
	padX, padY := 0, 0
	if r.W < r.H {
		padX = before
	} else {
		padY = before
	}
	// pixel returns channel values of the padded square at (px, py).
	pixel := func(px, py int) (float32, float32, float32) {
		x, y := px-padX, py-padY
		if x < 0 || y < 0 || x >= r.W || y >= r.H {
			return 0, 0, 0
		}
		x, y = x+r.X, y+r.Y
		if x < 0 || y < 0 || x >= img.Width || y >= img.Height {
			return 0, 0, 0
		}
		o := 3 * (y*img.Width + x)
		return float32(img.Pix[o]), float32(img.Pix[o+1]), float32(img.Pix[o+2])
	}
	out := tfjs.New(size, size, 3)
	scale := float32(side) / float32(size)
	for oy := 0; oy < size; oy++ {
		sy := float32(oy) * scale
		y0 := int(sy)
		y1 := min(y0+1, side-1)
		fy := sy - float32(y0)
		for ox := 0; ox < size; ox++ {
			sx := float32(ox) * scale
			x0 := int(sx)
			x1 := min(x0+1, side-1)
			fx := sx - float32(x0)
			r00, g00, b00 := pixel(x0, y0)
			r01, g01, b01 := pixel(x1, y0)
			r10, g10, b10 := pixel(x0, y1)
			r11, g11, b11 := pixel(x1, y1)
			o := 3 * (oy*size + ox)
			out.Data[o] = (lerp2(r00, r01, r10, r11, fx, fy) - mean[0]) / 255
			out.Data[o+1] = (lerp2(g00, g01, g10, g11, fx, fy) - mean[1]) / 255
			out.Data[o+2] = (lerp2(b00, b01, b10, b11, fx, fy) - mean[2]) / 255
		}
	}
	return out
}

func lerp2(v00, v01, v10, v11, fx, fy float32) float32 {
	top := v00 + (v01-v00)*fx
	bottom := v10 + (v11-v10)*fx
	return top + (bottom-top)*fy
}
