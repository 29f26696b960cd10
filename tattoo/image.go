package tattoo

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"math"

	"github.com/huella-abis/huella/imgproc"
	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// Errors returned for input the engine cannot use.
var (
	// ErrImageTooSmall is returned when the image or its crop is smaller
	// than minCropSide pixels on a side.
	ErrImageTooSmall = errors.New("tattoo: image too small")
	// ErrImageTooLarge is returned when the declared size exceeds imgproc.MaxPixels.
	ErrImageTooLarge = errors.New("tattoo: image too large")
	// ErrNoFeatures is returned when an image holds no usable keypoint
	// (blank, flat or almost uniform).
	ErrNoFeatures = errors.New("tattoo: no keypoints found")
	// ErrBadBox is returned when the region lies outside the image.
	ErrBadBox = errors.New("tattoo: region outside the image")
)

// DecodeImage decodes a JPEG, PNG, BMP, TIFF or WebP photograph, colour or
// grey, after checking its declared size, so a hostile header cannot make it
// allocate more than imgproc.MaxPixels pixels.
func DecodeImage(data []byte) (image.Image, error) {
	h, err := imgproc.ReadHeader(data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("tattoo: decode header: %w", err)
	case h.Width > 0 && h.Height > 0 && (h.Width < minCropSide || h.Height < minCropSide):
		return nil, fmt.Errorf("%w: %dx%d", ErrImageTooSmall, h.Width, h.Height)
	}
	img, h, err := imgproc.Decode(data, imgproc.MaxPixels)
	if errors.Is(err, imgproc.ErrImageSize) {
		return nil, fmt.Errorf("%w: %dx%d", ErrImageTooLarge, h.Width, h.Height)
	} else if err != nil {
		return nil, fmt.Errorf("tattoo: decode: %w", err)
	}
	return img, nil
}

// grayCrop converts the region of img to grey, enlarged by cropMargin and
// clipped to the image. An empty region means the whole image.
func grayCrop(img image.Image, region image.Rectangle) (*image.Gray, image.Rectangle, error) {
	b := img.Bounds()
	r, rel, err := cropRect(b, region)
	if err != nil {
		return nil, rel, err
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if ok {
		return imgproc.ToGray(sub.SubImage(r)), rel, nil
	}
	g := imgproc.ToGray(img)
	return imgproc.ToGray(g.SubImage(rel)), rel, nil
}

// cropRect is the region (relative to the image's top-left corner)
// enlarged by cropMargin and clipped to the image bounds b, in absolute and
// in relative coordinates. An empty region means the whole image.
func cropRect(b, region image.Rectangle) (abs, rel image.Rectangle, err error) {
	r := b
	if !region.Empty() {
		region = region.Add(b.Min)
		mx := int(math.Round(cropMargin * float64(region.Dx())))
		my := int(math.Round(cropMargin * float64(region.Dy())))
		r = image.Rect(region.Min.X-mx, region.Min.Y-my, region.Max.X+mx, region.Max.Y+my).Intersect(b)
		if r.Empty() {
			return r, r, ErrBadBox
		}
	}
	if r.Dx() < minCropSide || r.Dy() < minCropSide {
		return r, r, fmt.Errorf("%w: region %dx%d", ErrImageTooSmall, r.Dx(), r.Dy())
	}
	return r, r.Sub(b.Min), nil
}

// normalizedCrop resamples the crop so its longer side is normalizedSide and
// stretches its contrast between the 1st and 99th percentiles of intensity.
// It also returns the mask of the black padding found before stretching.
func normalizedCrop(g *image.Gray) (*image.Gray, fillMask) {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	s := float64(normalizedSide) / float64(max(w, h))
	nw := max(1, int(math.Round(float64(w)*s)))
	nh := max(1, int(math.Round(float64(h)*s)))
	out := resize(g, nw, nh)
	fill := newFillMask(out)
	stretchContrast(out)
	return out, fill
}

// stretchContrast maps the 1st..99th intensity percentiles to 0..255.
func stretchContrast(g *image.Gray) {
	var hist [256]int
	for _, v := range g.Pix {
		hist[v]++
	}
	n := len(g.Pix)
	lo, hi := 0, 255
	for acc := 0; lo < 255; lo++ {
		acc += hist[lo]
		if acc > n/100 {
			break
		}
	}
	for acc := 0; hi > 0; hi-- {
		acc += hist[hi]
		if acc > n/100 {
			break
		}
	}
	if hi-lo < 8 {
		return // flat image: leave it, no corner will be found
	}
	var lut [256]uint8
	for i := range lut {
		v := (i - lo) * 255 / (hi - lo)
		lut[i] = uint8(min(255, max(0, v)))
	}
	for i, v := range g.Pix {
		g.Pix[i] = lut[v]
	}
}

// resize resamples g to w×h: box-averaging by the integer part of the
// reduction first (so large photos do not alias), then bilinear.
func resize(g *image.Gray, w, h int) *image.Gray {
	sw, sh := g.Bounds().Dx(), g.Bounds().Dy()
	src := compact(g)
	if f := min(sw/w, sh/h); f >= 2 {
		src = boxReduce(src, f)
		sw, sh = src.Bounds().Dx(), src.Bounds().Dy()
	}
	if sw == w && sh == h {
		if src == g {
			src = &image.Gray{Pix: append([]uint8(nil), g.Pix...), Stride: g.Stride, Rect: g.Rect}
		}
		return src
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	sx := float64(sw) / float64(w)
	sy := float64(sh) / float64(h)
	x0s := make([]int, w)
	fxs := make([]float32, w)
	for x := 0; x < w; x++ {
		fx := (float64(x)+0.5)*sx - 0.5
		fx = math.Max(0, math.Min(fx, float64(sw-1)))
		x0 := min(int(fx), sw-2)
		if sw == 1 {
			x0 = 0
		}
		x0s[x] = x0
		fxs[x] = float32(fx - float64(x0))
	}
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		fy = math.Max(0, math.Min(fy, float64(sh-1)))
		y0 := min(int(fy), sh-2)
		if sh == 1 {
			y0 = 0
		}
		ty := float32(fy - float64(y0))
		r0 := src.Pix[y0*sw:]
		r1 := r0
		if sh > 1 {
			r1 = src.Pix[(y0+1)*sw:]
		}
		row := out.Pix[y*w : (y+1)*w]
		for x := range row {
			x0 := x0s[x]
			x1 := min(x0+1, sw-1)
			tx := fxs[x]
			a := float32(r0[x0])*(1-tx) + float32(r0[x1])*tx
			b := float32(r1[x0])*(1-tx) + float32(r1[x1])*tx
			row[x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

// compact returns g with origin (0,0) and stride equal to its width.
func compact(g *image.Gray) *image.Gray {
	b := g.Bounds()
	if b.Min == (image.Point{}) && g.Stride == b.Dx() {
		return g
	}
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[y*b.Dx():(y+1)*b.Dx()], g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):])
	}
	return out
}

// boxReduce averages f×f blocks.
func boxReduce(g *image.Gray, f int) *image.Gray {
	sw, sh := g.Bounds().Dx(), g.Bounds().Dy()
	w, h := sw/f, sh/f
	out := image.NewGray(image.Rect(0, 0, w, h))
	acc := make([]int, w)
	for y := 0; y < h; y++ {
		clear(acc)
		for dy := 0; dy < f; dy++ {
			row := g.Pix[(y*f+dy)*sw:]
			for x := 0; x < w; x++ {
				s := 0
				for _, v := range row[x*f : x*f+f] {
					s += int(v)
				}
				acc[x] += s
			}
		}
		for x := 0; x < w; x++ {
			out.Pix[y*w+x] = uint8(acc[x] / (f * f))
		}
	}
	return out
}
