// Package perturb changes grey images the way captures differ between
// sensors and sessions (rotation, resolution, cropping, a large noisy
// background, contrast, focus, dry and wet skin), and says where every
// input point lands, so that an engine's features can be followed through
// the change. It serves the robustness harnesses of "huella eval".
package perturb

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Affine maps a point (x, y) of the input image to
// (A·x + B·y + C, D·x + E·y + F) in the perturbed image, pixel centres at
// integer coordinates.
type Affine struct {
	A, B, C, D, E, F float64
}

// Identity is the affine map that leaves every point in place.
var Identity = Affine{A: 1, E: 1}

// Apply maps one point of the input image into the perturbed image.
func (a Affine) Apply(x, y float64) (float64, float64) {
	return a.A*x + a.B*y + a.C, a.D*x + a.E*y + a.F
}

// Perturbation is one named change of an image.
type Perturbation struct {
	// Name is a stable key ("rot-15", "scale0.9", "crop", "canvas", ...).
	Name string
	// PPIScale is the factor by which the perturbed image's resolution
	// differs from the input's (1 except for the simulated resolutions).
	PPIScale float64
	// Apply returns the perturbed image and the map from input to output
	// points. seed varies the perturbation's free choices (the cropped
	// side, the background noise) reproducibly.
	Apply func(img *image.Gray, seed uint64) (*image.Gray, Affine)
}

// Fingerprint returns the perturbations of the fingerprint robustness
// harness (issue 14), in report order: rotations by ±5°, ±15° and ±30°,
// resolution scales 0.9 and 1.1, a crop of 20% of one side, a 640×480 canvas
// of sensor-like background, gamma 0.6 and 1.6, Gaussian blur σ = 1, and
// dark ridges thinned (dry) and thickened (wet) by one pixel on each side.
func Fingerprint() []Perturbation {
	var ps []Perturbation
	for _, deg := range []float64{5, -5, 15, -15, 30, -30} {
		ps = append(ps, Perturbation{Name: "rot" + signed(deg), PPIScale: 1, Apply: rotation(deg)})
	}
	ps = append(ps,
		Perturbation{Name: "scale0.9", PPIScale: 0.9, Apply: scaling(0.9)},
		Perturbation{Name: "scale1.1", PPIScale: 1.1, Apply: scaling(1.1)},
		Perturbation{Name: "crop", PPIScale: 1, Apply: Crop},
		Perturbation{Name: "canvas", PPIScale: 1, Apply: Canvas},
		Perturbation{Name: "gamma0.6", PPIScale: 1, Apply: gamma(0.6)},
		Perturbation{Name: "gamma1.6", PPIScale: 1, Apply: gamma(1.6)},
		Perturbation{Name: "blur1", PPIScale: 1, Apply: blur(1)},
		Perturbation{Name: "dry", PPIScale: 1, Apply: func(img *image.Gray, _ uint64) (*image.Gray, Affine) { return morphology(img, true), Identity }},
		Perturbation{Name: "wet", PPIScale: 1, Apply: func(img *image.Gray, _ uint64) (*image.Gray, Affine) { return morphology(img, false), Identity }},
	)
	return ps
}

func signed(deg float64) string {
	if deg >= 0 {
		return "+" + strconv.Itoa(int(math.Round(deg)))
	}
	return strconv.Itoa(int(math.Round(deg)))
}

// Background returns the grey level of the image's background: the median
// of its outermost rows and columns.
func Background(img *image.Gray) uint8 {
	b := img.Bounds()
	var v []uint8
	for x := b.Min.X; x < b.Max.X; x++ {
		v = append(v, img.GrayAt(x, b.Min.Y).Y, img.GrayAt(x, b.Max.Y-1).Y)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		v = append(v, img.GrayAt(b.Min.X, y).Y, img.GrayAt(b.Max.X-1, y).Y)
	}
	if len(v) == 0 {
		return 255
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// sample returns the bilinear interpolation of img at (x, y), or fill
// outside the image.
func sample(img *image.Gray, x, y float64, fill uint8) float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if x < -0.5 || y < -0.5 || x > float64(w)-0.5 || y > float64(h)-0.5 {
		return float64(fill)
	}
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	tx, ty := x-float64(x0), y-float64(y0)
	at := func(px, py int) float64 {
		px = min(max(px, 0), w-1)
		py = min(max(py, 0), h-1)
		return float64(img.Pix[py*img.Stride+px])
	}
	return (at(x0, y0)*(1-tx)+at(x0+1, y0)*tx)*(1-ty) + (at(x0, y0+1)*(1-tx)+at(x0+1, y0+1)*tx)*ty
}

func clamp8(v float64) uint8 {
	return uint8(min(max(math.Round(v), 0), 255))
}

// warp renders the w×h output whose pixel (x, y) comes from the input at
// inv(x, y), filling outside points with the background.
func warp(img *image.Gray, w, h int, inv Affine) *image.Gray {
	fill := Background(img)
	src := gray0(img)
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := inv.Apply(float64(x), float64(y))
			out.Pix[y*out.Stride+x] = clamp8(sample(src, sx, sy, fill))
		}
	}
	return out
}

// gray0 returns the image with its bounds starting at (0, 0).
func gray0(img *image.Gray) *image.Gray {
	if img.Bounds().Min == (image.Point{}) {
		return img
	}
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):])
	}
	return out
}

// rotation turns the image by deg degrees (positive: counter-clockwise as
// seen on screen) about its centre, on a canvas grown to hold all of it.
func rotation(deg float64) func(*image.Gray, uint64) (*image.Gray, Affine) {
	return func(img *image.Gray, _ uint64) (*image.Gray, Affine) {
		return Rotate(img, deg)
	}
}

// Rotate turns the image by deg degrees (positive: counter-clockwise as
// seen on screen) about its centre, on a canvas grown to hold all of it,
// filled with the image's background level.
func Rotate(img *image.Gray, deg float64) (*image.Gray, Affine) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	a := -deg * math.Pi / 180 // y points down: screen counter-clockwise is negative
	c, s := math.Cos(a), math.Sin(a)
	ow := int(math.Ceil(math.Abs(c)*float64(w) + math.Abs(s)*float64(h)))
	oh := int(math.Ceil(math.Abs(s)*float64(w) + math.Abs(c)*float64(h)))
	cx, cy := float64(w-1)/2, float64(h-1)/2
	ox, oy := float64(ow-1)/2, float64(oh-1)/2
	fwd := Affine{A: c, B: -s, C: ox - c*cx + s*cy, D: s, E: c, F: oy - s*cx - c*cy}
	inv := Affine{A: c, B: s, C: cx - c*ox - s*oy, D: -s, E: c, F: cy + s*ox - c*oy}
	return warp(img, ow, oh, inv), fwd
}

// scaling resamples the image by factor f, as a capture at f times the
// resolution.
func scaling(f float64) func(*image.Gray, uint64) (*image.Gray, Affine) {
	return func(img *image.Gray, _ uint64) (*image.Gray, Affine) {
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		ow, oh := int(math.Round(float64(w)*f)), int(math.Round(float64(h)*f))
		src := img
		if f < 1 {
			// Pre-filter against aliasing, as a lower-resolution optic would.
			src = gaussianBlur(img, 0.5*math.Sqrt(1/(f*f)-1)+0.3)
		}
		// Pixel centres: x' + 0.5 = f·(x + 0.5).
		fwd := Affine{A: f, C: 0.5*f - 0.5, E: f, F: 0.5*f - 0.5}
		inv := Affine{A: 1 / f, C: 0.5/f - 0.5, E: 1 / f, F: 0.5/f - 0.5}
		return warp(src, ow, oh, inv), fwd
	}
}

// Crop removes 20% of one side of the image: the left, top, right or bottom
// side as seed modulo 4 says.
func Crop(img *image.Gray, seed uint64) (*image.Gray, Affine) {
	src := gray0(img)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	r := image.Rect(0, 0, w, h)
	switch seed % 4 {
	case 0:
		r.Min.X = w / 5
	case 1:
		r.Min.Y = h / 5
	case 2:
		r.Max.X = w - w/5
	default:
		r.Max.Y = h - h/5
	}
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], src.Pix[(r.Min.Y+y)*src.Stride+r.Min.X:])
	}
	return out, Affine{A: 1, C: -float64(r.Min.X), E: 1, F: -float64(r.Min.Y)}
}

// Canvas pastes the image into a 640×480 canvas (grown to fit a larger
// image) of sensor-like background: the image's background level with
// Gaussian noise (σ = 5), slow shading, row banding and a few faint smudges.
// The print sits at one of three horizontal places, as seed says.
func Canvas(img *image.Gray, seed uint64) (*image.Gray, Affine) {
	src := gray0(img)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	cw, ch := max(640, w), max(480, h)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	bg := float64(Background(src))
	out := image.NewGray(image.Rect(0, 0, cw, ch))
	type smudge struct{ x, y, r, depth float64 }
	var smudges []smudge
	for k := 0; k < 4; k++ {
		smudges = append(smudges, smudge{rng.Float64() * float64(cw), rng.Float64() * float64(ch), 15 + 20*rng.Float64(), 15 + 15*rng.Float64()})
	}
	p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	band := make([]float64, ch)
	for y := range band {
		band[y] = 2 * rng.NormFloat64()
	}
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			v := bg + band[y] + 5*rng.NormFloat64() +
				6*math.Sin(2*math.Pi*float64(x)/260+p1) + 6*math.Sin(2*math.Pi*float64(y)/190+p2)
			for _, s := range smudges {
				d2 := ((float64(x)-s.x)*(float64(x)-s.x) + (float64(y)-s.y)*(float64(y)-s.y)) / (s.r * s.r)
				if d2 < 9 {
					v -= s.depth * math.Exp(-d2/2)
				}
			}
			out.Pix[y*out.Stride+x] = clamp8(v)
		}
	}
	ox := (cw - w) * int(1+seed%3) / 4
	oy := (ch - h) / 2
	for y := 0; y < h; y++ {
		copy(out.Pix[(oy+y)*out.Stride+ox:(oy+y)*out.Stride+ox+w], src.Pix[y*src.Stride:y*src.Stride+w])
	}
	return out, Affine{A: 1, C: float64(ox), E: 1, F: float64(oy)}
}

// gamma maps every grey level v to 255·(v/255)^g.
func gamma(g float64) func(*image.Gray, uint64) (*image.Gray, Affine) {
	var lut [256]uint8
	for v := range lut {
		lut[v] = clamp8(255 * math.Pow(float64(v)/255, g))
	}
	return func(img *image.Gray, _ uint64) (*image.Gray, Affine) {
		src := gray0(img)
		out := image.NewGray(src.Bounds())
		for i, v := range src.Pix {
			out.Pix[i] = lut[v]
		}
		return out, Identity
	}
}

func blur(sigma float64) func(*image.Gray, uint64) (*image.Gray, Affine) {
	return func(img *image.Gray, _ uint64) (*image.Gray, Affine) {
		return gaussianBlur(img, sigma), Identity
	}
}

// gaussianBlur smooths the image with a separable Gaussian of sigma pixels,
// edges clamped.
func gaussianBlur(img *image.Gray, sigma float64) *image.Gray {
	src := gray0(img)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var sum float64
	for i := -r; i <= r; i++ {
		k[i+r] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
		sum += k[i+r]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i := -r; i <= r; i++ {
				s += k[i+r] * float64(src.Pix[y*src.Stride+min(max(x+i, 0), w-1)])
			}
			tmp[y*w+x] = s
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for i := -r; i <= r; i++ {
				s += k[i+r] * tmp[min(max(y+i, 0), h-1)*w+x]
			}
			out.Pix[y*out.Stride+x] = clamp8(s)
		}
	}
	return out
}

// morphology takes the maximum (dry: dark ridges lose a pixel on each side)
// or the minimum (wet: they gain one) over the pixel and its four
// neighbours.
func morphology(img *image.Gray, dry bool) *image.Gray {
	src := gray0(img)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := src.Pix[y*src.Stride+x]
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= w || ny >= h {
					continue
				}
				n := src.Pix[ny*src.Stride+nx]
				if dry {
					v = max(v, n)
				} else {
					v = min(v, n)
				}
			}
			out.Pix[y*out.Stride+x] = v
		}
	}
	return out
}
