package tattoo

import (
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
)

// Descriptor is a 256-bit rotated-BRIEF descriptor: bit i is set when the
// first point of the i-th test pair is darker than the second.
type Descriptor [4]uint64

// Distance returns the Hamming distance between two descriptors (0..256).
func (d *Descriptor) Distance(e *Descriptor) int {
	return bits.OnesCount64(d[0]^e[0]) + bits.OnesCount64(d[1]^e[1]) +
		bits.OnesCount64(d[2]^e[2]) + bits.OnesCount64(d[3]^e[3])
}

// Keypoint is one oriented corner, with coordinates in the normalised crop
// (level 0 of the pyramid).
type Keypoint struct {
	X, Y float32
	// Angle is the orientation in radians, from the intensity centroid.
	Angle float32
	// Level is the pyramid level the corner was found on; its scale is
	// pyramidScale^Level.
	Level uint8
	// Response is the Harris corner measure.
	Response float32
}

// level is one image of the pyramid with its scale relative to level 0.
type level struct {
	img     *image.Gray // contrast-normalised, compact
	blurred *image.Gray // Gaussian-smoothed for the BRIEF tests
	scale   float64
	index   int
}

// corner is a keypoint candidate on one level, in that level's pixels.
type corner struct {
	x, y     int
	response float32
	angle    float32
	level    int
}

// imagePyramid builds pyramidLevels images, each pyramidScale smaller.
func imagePyramid(g *image.Gray) []level {
	levels := []level{{img: g, scale: 1}}
	for i := 1; i < pyramidLevels; i++ {
		s := math.Pow(pyramidScale, float64(i))
		w := int(math.Round(float64(g.Bounds().Dx()) / s))
		h := int(math.Round(float64(g.Bounds().Dy()) / s))
		if w < 2*edgeBorder+8 || h < 2*edgeBorder+8 {
			break
		}
		levels = append(levels, level{img: resize(levels[i-1].img, w, h), scale: s, index: i})
	}
	for i := range levels {
		levels[i].blurred = gaussianBlur(levels[i].img, briefBlurSigma)
	}
	return levels
}

// circle is the Bresenham circle of radius 3 used by FAST, in order.
var circle = [16][2]int{
	{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
	{0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3},
}

// pyramidCorners detects FAST-9 corners on every level, scores them with the
// Harris measure, keeps local maxima and distributes maxKeypoints over the
// levels (in proportion to area, as ORB does; giving coarse levels more
// measured worse) and over a grid of cells in each level,
// leaving out corners on the padding of a rotated photo.
func pyramidCorners(levels []level, fill fillMask) []corner {
	totalArea := 0.0
	for _, l := range levels {
		totalArea += float64(len(l.img.Pix))
	}
	var out []corner
	for _, l := range levels {
		want := int(math.Round(maxKeypoints * float64(len(l.img.Pix)) / totalArea))
		cs := fastCorners(l.img, fastThreshold)
		cs = harrisMaxima(l.img, cs)
		for i := range cs {
			cs[i].level = l.index
		}
		cs = dropFillCorners(levels, cs, fill)
		cs = spreadOverGrid(cs, l.img.Bounds().Dx(), l.img.Bounds().Dy(), want)
		out = append(out, cs...)
	}
	return out
}

// fastCorners returns the pixels (away from the border) with 9 contiguous
// circle pixels all brighter or all darker than the centre by threshold.
func fastCorners(g *image.Gray, threshold int) []corner {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	var offs [16]int
	for i, c := range circle {
		offs[i] = c[1]*w + c[0]
	}
	pix := g.Pix
	var out []corner
	for y := edgeBorder; y < h-edgeBorder; y++ {
		for x := edgeBorder; x < w-edgeBorder; x++ {
			p := y*w + x
			c := int(pix[p])
			hi, lo := c+threshold, c-threshold
			// Any arc of 9 holds at least two of the four compass points.
			nb, nd := 0, 0
			for _, k := range [4]int{0, 4, 8, 12} {
				v := int(pix[p+offs[k]])
				if v > hi {
					nb++
				} else if v < lo {
					nd++
				}
			}
			if nb < 2 && nd < 2 {
				continue
			}
			var bright, dark uint32
			for k := 0; k < 16; k++ {
				v := int(pix[p+offs[k]])
				if v > hi {
					bright |= 1 << k
				} else if v < lo {
					dark |= 1 << k
				}
			}
			if hasArc9(bright) || hasArc9(dark) {
				out = append(out, corner{x: x, y: y})
			}
		}
	}
	return out
}

// hasArc9 reports whether the 16-bit circular mask has 9 consecutive bits.
func hasArc9(m uint32) bool {
	if bits.OnesCount32(m) < 9 {
		return false
	}
	m |= m << 16
	r := m
	for i := 1; i < 9; i++ {
		r &= m >> i
	}
	return r != 0
}

// harrisMaxima scores each corner with the Harris measure over a 7×7 block
// of Sobel gradients and keeps those that are maxima among their 3×3
// neighbours.
func harrisMaxima(g *image.Gray, cs []corner) []corner {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	pix := g.Pix
	score := make(map[int]float32, len(cs))
	for i := range cs {
		x, y := cs[i].x, cs[i].y
		var sxx, syy, sxy float32
		for dy := -3; dy <= 3; dy++ {
			row := (y + dy) * w
			for dx := -3; dx <= 3; dx++ {
				p := row + x + dx
				gx := float32(int(pix[p-w+1]) + 2*int(pix[p+1]) + int(pix[p+w+1]) -
					int(pix[p-w-1]) - 2*int(pix[p-1]) - int(pix[p+w-1]))
				gy := float32(int(pix[p+w-1]) + 2*int(pix[p+w]) + int(pix[p+w+1]) -
					int(pix[p-w-1]) - 2*int(pix[p-w]) - int(pix[p-w+1]))
				sxx += gx * gx
				syy += gy * gy
				sxy += gx * gy
			}
		}
		// Scale as OpenCV does so responses are comparable across images.
		const norm = 1.0 / (4 * 49 * 255)
		sxx, syy, sxy = sxx*norm*norm, syy*norm*norm, sxy*norm*norm
		tr := sxx + syy
		cs[i].response = sxx*syy - sxy*sxy - harrisK*tr*tr
		score[y*w+x] = cs[i].response
	}
	_ = h
	out := cs[:0]
	for _, c := range cs {
		if c.response <= 0 {
			continue
		}
		keep := true
		for dy := -1; dy <= 1 && keep; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if dx == 0 && dy == 0 {
					continue
				}
				if s, ok := score[(c.y+dy)*w+c.x+dx]; ok && (s > c.response || (s == c.response && dy*w+dx < 0)) {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

// spreadOverGrid keeps at most want corners: first the strongest of each
// grid cell up to an equal share, then the strongest of the rest.
func spreadOverGrid(cs []corner, w, h, want int) []corner {
	sort.Slice(cs, func(i, j int) bool { return cs[i].response > cs[j].response })
	if len(cs) <= want {
		return cs
	}
	share := (want + gridCells*gridCells - 1) / (gridCells * gridCells)
	var count [gridCells * gridCells]int
	kept := make([]corner, 0, want)
	rest := make([]corner, 0, len(cs))
	for _, c := range cs {
		cell := min(gridCells-1, c.y*gridCells/h)*gridCells + min(gridCells-1, c.x*gridCells/w)
		if count[cell] < share && len(kept) < want {
			count[cell]++
			kept = append(kept, c)
		} else {
			rest = append(rest, c)
		}
	}
	for _, c := range rest {
		if len(kept) >= want {
			break
		}
		kept = append(kept, c)
	}
	return kept
}

// circleExtent[dy] is the half-width of the circular patch at row dy.
var circleExtent = func() [patchRadius + 1]int {
	var e [patchRadius + 1]int
	for dy := 0; dy <= patchRadius; dy++ {
		e[dy] = int(math.Sqrt(float64(patchRadius*patchRadius - dy*dy)))
	}
	return e
}()

// orientations sets each corner's angle from the intensity centroid of its
// circular patch (Rosin; ORB).
func orientations(levels []level, cs []corner) {
	for i := range cs {
		c := &cs[i]
		g := levels[c.level].img
		w := g.Bounds().Dx()
		var m10, m01 int
		for dy := -patchRadius; dy <= patchRadius; dy++ {
			e := circleExtent[abs(dy)]
			row := g.Pix[(c.y+dy)*w+c.x-e : (c.y+dy)*w+c.x+e+1]
			rs := 0
			for k, v := range row {
				m10 += (k - e) * int(v)
				rs += int(v)
			}
			m01 += dy * rs
		}
		c.angle = float32(math.Atan2(float64(m01), float64(m10)))
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// briefPattern holds the 256 point pairs of the BRIEF tests, sampled once
// from an isotropic Gaussian (BRIEF's G II, σ² = S²/25) with a fixed seed
// and clipped to the patch, so every template ever made uses the same tests.
// (A pattern learnt from the dev photos as ORB learns rBRIEF measured
// worse here: see BENCHMARKS.md.)
var briefPattern = func() [256][4]float64 {
	var p [256][4]float64
	r := rand.New(rand.NewPCG(0x7a770, 0x5eed))
	sigma := float64(2*patchRadius+1) / 5
	for i := range p {
		for k := range p[i] {
			v := r.NormFloat64() * sigma
			p[i][k] = math.Max(-patchRadius, math.Min(patchRadius, v))
		}
	}
	return p
}()

// steeredPattern returns, for one level width, the pixel offsets of the 256
// pairs rotated to each of angleBins orientations.
func steeredPattern(w int) [][512]int32 {
	out := make([][512]int32, angleBins)
	for b := range out {
		a := 2 * math.Pi * float64(b) / angleBins
		ca, sa := math.Cos(a), math.Sin(a)
		for i, pq := range briefPattern {
			for k := 0; k < 2; k++ {
				x, y := pq[2*k], pq[2*k+1]
				rx := int(math.Round(ca*x - sa*y))
				ry := int(math.Round(sa*x + ca*y))
				out[b][2*i+k] = int32(ry*w + rx)
			}
		}
	}
	return out
}

// briefDescriptors computes the steered BRIEF descriptor of each corner on
// its level's smoothed image.
func briefDescriptors(levels []level, cs []corner) []Descriptor {
	patterns := make([][][512]int32, len(levels))
	out := make([]Descriptor, len(cs))
	for i, c := range cs {
		l := levels[c.level]
		if patterns[c.level] == nil {
			patterns[c.level] = steeredPattern(l.blurred.Bounds().Dx())
		}
		a := float64(c.angle)
		if a < 0 {
			a += 2 * math.Pi
		}
		bin := int(math.Round(a*angleBins/(2*math.Pi))) % angleBins
		pat := &patterns[c.level][bin]
		pix := l.blurred.Pix
		center := c.y*l.blurred.Bounds().Dx() + c.x
		var d Descriptor
		for k := 0; k < 256; k++ {
			if pix[center+int(pat[2*k])] < pix[center+int(pat[2*k+1])] {
				d[k>>6] |= 1 << (k & 63)
			}
		}
		out[i] = d
	}
	return out
}

// gaussianBlur smooths g with a separable Gaussian of the given sigma,
// clamping at the borders.
func gaussianBlur(g *image.Gray, sigma float64) *image.Gray {
	radius := int(math.Ceil(2.5 * sigma))
	kernel := make([]int32, 2*radius+1)
	sum := 0.0
	fk := make([]float64, len(kernel))
	for i := range fk {
		d := float64(i - radius)
		fk[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += fk[i]
	}
	total := int32(0)
	for i := range kernel {
		kernel[i] = int32(math.Round(fk[i] / sum * 1024))
		total += kernel[i]
	}
	kernel[radius] += 1024 - total
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	tmp := make([]int32, w*h)
	for y := 0; y < h; y++ {
		row := g.Pix[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s int32
			for k, kv := range kernel {
				xx := min(w-1, max(0, x+k-radius))
				s += kv * int32(row[xx])
			}
			tmp[y*w+x] = s
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s int64
			for k, kv := range kernel {
				yy := min(h-1, max(0, y+k-radius))
				s += int64(kv) * int64(tmp[yy*w+x])
			}
			out.Pix[y*w+x] = uint8((s + 1<<19) >> 20)
		}
	}
	return out
}
