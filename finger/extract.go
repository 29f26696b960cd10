package finger

import (
	"fmt"
	"image"
	"math"
	"sort"
	"sync"
)

// Extract runs the extraction pipeline on a grey image: resampling to
// 500 ppi, block orientations, segmentation mask, ridge periods, the mask
// trimmed to where ridges show a period, oriented enhancement,
// binarisation, ridges merged over blotted valleys split, thinning, the
// skeleton's ridge graph and its clean-up, the minutiae read from the graph
// with their reliability, and their filtering.
// It returns an error wrapping one of ErrTooSmall, ErrBadResolution,
// ErrNoFingerprint or ErrTooFewMinutiae when no usable template can be made.
func Extract(img *image.Gray, opt Options) (*Template, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrTooSmall)
	}
	ppi := opt.PPI
	if ppi == 0 {
		ppi = StandardPPI
	}
	if ppi < minPPI || ppi > maxPPI {
		return nil, fmt.Errorf("%w: %d ppi", ErrBadResolution, ppi)
	}
	tr := opt.Trace
	gray := resampledImage(img, ppi)
	if gray.w < minSide || gray.h < minSide {
		return nil, fmt.Errorf("%w: %dx%d at 500 ppi", ErrTooSmall, gray.w, gray.h)
	}
	emit(tr, "resampled", func() image.Image { return gray.toGray(0, 1) })

	orient := blockOrientations(gray)
	contrast := blockContrasts(gray)
	mask := segmentationMask(contrast, orient)
	if mask.count() < minForegroundBlocks {
		return nil, fmt.Errorf("%w: %d foreground blocks", ErrNoFingerprint, mask.count())
	}
	emit(tr, "mask", func() image.Image { return mask.image(gray) })
	emit(tr, "orientation", func() image.Image { return orient.image(gray, mask) })

	periods, clarity := ridgePeriods(gray, orient, mask)
	mask = ridgeMask(mask, clarity)
	if mask.count() < minForegroundBlocks {
		return nil, fmt.Errorf("%w: %d foreground blocks with ridges", ErrNoFingerprint, mask.count())
	}
	emit(tr, "ridge-mask", func() image.Image { return mask.image(gray) })
	enhanced := enhancedImage(gray, orient, periods, mask)
	emit(tr, "enhanced", func() image.Image { return enhanced.toGray(128, -1) })

	binary := binarizedImage(enhanced, mask)
	splitMergedRidges(binary, enhanced, orient, periods, mask)
	removeSpecks(binary, gray.w, gray.h, 1, speckSize)
	emit(tr, "binarized", func() image.Image { return binaryImage(binary, gray.w, gray.h) })
	skeleton := thinnedSkeleton(binary, gray.w, gray.h)
	emit(tr, "skeleton", func() image.Image { return binaryImage(skeleton, gray.w, gray.h) })

	graph := skeletonGraph(skeleton, gray.w, gray.h)
	graphCleanup(graph, periods, orient)
	emit(tr, "ridge-graph", func() image.Image { return binaryImage(graph.render(), gray.w, gray.h) })
	candidates := graphMinutiae(graph, orient, mask)
	reliability := minutiaReliabilityMaps(contrast, orient, mask)
	for _, c := range candidates {
		c.quality = reliability.at(c.x, c.y, localClarity(clarity, c.x, c.y))
	}
	minutiae := filteredMinutiae(candidates, gray.w, gray.h, mask)
	emit(tr, "minutiae", func() image.Image { return minutiaeImage(gray, minutiae) })

	f := &Template{Width: gray.w, Height: gray.h, Minutiae: minutiae}
	ridges := imageQuality(orient, mask, clarity, len(minutiae))
	f.Quality = printQuality(ridges, minutiae, mask.count())
	if coh := orient.meanCoherence(mask); coh < minMeanCoherence || ridges < minImageQuality {
		return f, fmt.Errorf("%w: ridge coherence %.2f, quality %d", ErrNoFingerprint, coh, ridges)
	}
	if len(minutiae) < minMinutiae {
		return f, fmt.Errorf("%w: %d found", ErrTooFewMinutiae, len(minutiae))
	}
	return f, nil
}

func emit(tr Trace, key string, img func() image.Image) {
	if tr != nil {
		tr(key, img())
	}
}

// floatImage is a grey image in float32 for the filters.
type floatImage struct {
	w, h int
	v    []float32
}

func newFloatImage(w, h int) *floatImage {
	return &floatImage{w: w, h: h, v: make([]float32, w*h)}
}

func (f *floatImage) at(x, y int) float32 {
	x = min(max(x, 0), f.w-1)
	y = min(max(y, 0), f.h-1)
	return f.v[y*f.w+x]
}

// resampledImage converts the input to float grey at 500 ppi. Other
// resolutions are interpolated with a separable cubic kernel (Keys,
// a = −0.5). Bilinear interpolation low-passes the image on top of the
// capture's own optics, the more so the further a sample falls from the
// source grid: a print taken at 450 ppi lost its finest ridges (periods of
// 7–8 pixels) and the minutiae on them. No anti-aliasing when reducing: the
// reductions in use (at most 2×) leave every ridge period (≥ 4.5 pixels at
// 500 ppi) well under the new grid's limit, and a wider kernel blurs ridges.
func resampledImage(img *image.Gray, ppi int) *floatImage {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if ppi == StandardPPI {
		out := newFloatImage(sw, sh)
		for y := 0; y < sh; y++ {
			row := img.Pix[(y)*img.Stride:]
			for x := 0; x < sw; x++ {
				out.v[y*sw+x] = float32(row[x])
			}
		}
		return out
	}
	scale := float64(StandardPPI) / float64(ppi)
	w, h := int(float64(sw)*scale+0.5), int(float64(sh)*scale+0.5)
	if w < 1 || h < 1 {
		return newFloatImage(0, 0)
	}
	cols, rows := resamplingTaps(sw, w, scale), resamplingTaps(sh, h, scale)
	// Rows first: every source row resampled to w columns.
	tmp := make([]float32, sh*w)
	for y := 0; y < sh; y++ {
		row := img.Pix[y*img.Stride:]
		for x, taps := range cols {
			var v float32
			for _, t := range taps {
				v += t.w * float32(row[t.i])
			}
			tmp[y*w+x] = v
		}
	}
	out := newFloatImage(w, h)
	for y, taps := range rows {
		o := out.v[y*w : (y+1)*w]
		for _, t := range taps {
			src := tmp[t.i*w : (t.i+1)*w]
			for x := range o {
				o[x] += t.w * src[x]
			}
		}
	}
	return out
}

// resampleTap is one source sample of a resampled pixel.
type resampleTap struct {
	i int
	w float32
}

// resamplingTaps returns, for each of n output samples of a line of m input
// samples scaled by scale, its cubic-kernel taps (pixel centres mapped as
// x' + 0.5 = scale·(x + 0.5); indices clamped at the ends, weights summing
// to 1).
func resamplingTaps(m, n int, scale float64) [][]resampleTap {
	taps := make([][]resampleTap, n)
	for o := range taps {
		f := (float64(o)+0.5)/scale - 0.5
		c := int(math.Floor(f))
		var sum float64
		var ts []resampleTap
		for i := c - 1; i <= c+2; i++ {
			wt := keysCubic(f - float64(i))
			if wt == 0 {
				continue
			}
			sum += wt
			ts = append(ts, resampleTap{min(max(i, 0), m-1), float32(wt)})
		}
		for k := range ts {
			ts[k].w /= float32(sum)
		}
		taps[o] = ts
	}
	return taps
}

// keysCubic is Keys' cubic convolution kernel with a = −0.5 (Catmull–Rom).
func keysCubic(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

// blockField is a per-block value over the image.
type blockField struct {
	bw, bh int
	v      []float64
}

func newBlockField(bw, bh int) *blockField {
	return &blockField{bw: bw, bh: bh, v: make([]float64, bw*bh)}
}

func blocksOf(w, h int) (int, int) {
	return (w + blockSize - 1) / blockSize, (h + blockSize - 1) / blockSize
}

// orientationField holds, per block, the smoothed doubled-angle vector of the
// gradient, the ridge orientation in [0, π) and the coherence in [0, 1].
type orientationField struct {
	bw, bh    int
	vx, vy    []float64
	angle     []float64
	coherence []float64
}

// blockOrientations estimates the ridge orientation of every block from the
// gradient tensor summed over a window, then Gaussian-smoothed as
// doubled-angle vectors.
func blockOrientations(g *floatImage) *orientationField {
	w, h := g.w, g.h
	bw, bh := blocksOf(w, h)
	sxx, syy, sxy := make([]float64, bw*bh), make([]float64, bw*bh), make([]float64, bw*bh)
	for y := 1; y < h-1; y++ {
		by := y / blockSize
		for x := 1; x < w-1; x++ {
			i := y*w + x
			gx := float64(g.v[i-w+1] + 2*g.v[i+1] + g.v[i+w+1] - g.v[i-w-1] - 2*g.v[i-1] - g.v[i+w-1])
			gy := float64(g.v[i+w-1] + 2*g.v[i+w] + g.v[i+w+1] - g.v[i-w-1] - 2*g.v[i-w] - g.v[i-w+1])
			b := by*bw + x/blockSize
			sxx[b] += gx * gx
			syy[b] += gy * gy
			sxy[b] += gx * gy
		}
	}
	o := &orientationField{bw: bw, bh: bh, vx: make([]float64, bw*bh), vy: make([]float64, bw*bh),
		angle: make([]float64, bw*bh), coherence: make([]float64, bw*bh)}
	rx, ry := make([]float64, bw*bh), make([]float64, bw*bh)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var xx, yy, xy float64
			for dy := -orientationWindow; dy <= orientationWindow; dy++ {
				for dx := -orientationWindow; dx <= orientationWindow; dx++ {
					nx, ny := bx+dx, by+dy
					if nx < 0 || ny < 0 || nx >= bw || ny >= bh {
						continue
					}
					j := ny*bw + nx
					xx += sxx[j]
					yy += syy[j]
					xy += sxy[j]
				}
			}
			b := by*bw + bx
			rx[b], ry[b] = xx-yy, 2*xy
			if e := xx + yy; e > 0 {
				o.coherence[b] = math.Hypot(rx[b], ry[b]) / e
			}
		}
	}
	gaussianBlocks(rx, o.vx, bw, bh, orientationSmoothing, nil)
	gaussianBlocks(ry, o.vy, bw, bh, orientationSmoothing, nil)
	for b := range o.angle {
		o.angle[b] = ridgeAngle(o.vx[b], o.vy[b])
	}
	return o
}

// meanCoherence is the mean orientation coherence of the foreground blocks.
func (o *orientationField) meanCoherence(m *blockMask) float64 {
	var s float64
	n := 0
	for b, fg := range m.fg {
		if fg {
			s += o.coherence[b]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// ridgeAngle turns a doubled-angle gradient vector into the ridge
// orientation in [0, π).
func ridgeAngle(vx, vy float64) float64 {
	a := 0.5*math.Atan2(vy, vx) + math.Pi/2
	if a >= math.Pi {
		a -= math.Pi
	}
	if a < 0 {
		a += math.Pi
	}
	return a
}

// at returns the ridge orientation at a pixel, interpolated bilinearly
// between block centres.
func (o *orientationField) at(x, y int) float64 {
	fx := (float64(x)+0.5)/blockSize - 0.5
	fy := (float64(y)+0.5)/blockSize - 0.5
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	tx, ty := fx-float64(x0), fy-float64(y0)
	var vx, vy float64
	for j := 0; j < 2; j++ {
		for i := 0; i < 2; i++ {
			bx := min(max(x0+i, 0), o.bw-1)
			by := min(max(y0+j, 0), o.bh-1)
			wt := (1 - math.Abs(float64(i)-tx)) * (1 - math.Abs(float64(j)-ty))
			vx += wt * o.vx[by*o.bw+bx]
			vy += wt * o.vy[by*o.bw+bx]
		}
	}
	return ridgeAngle(vx, vy)
}

// gaussianBlocks smooths src into dst with a separable Gaussian of sigma
// blocks; when weight is set, it is a normalised convolution over the
// blocks where weight is non-zero.
func gaussianBlocks(src, dst []float64, bw, bh int, sigma float64, weight []float64) {
	r := int(math.Ceil(2.5 * sigma))
	k := make([]float64, 2*r+1)
	for i := -r; i <= r; i++ {
		k[i+r] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
	}
	tmp, tmpW := make([]float64, bw*bh), make([]float64, bw*bh)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var s, sw float64
			for i := -r; i <= r; i++ {
				x := bx + i
				if x < 0 || x >= bw {
					continue
				}
				wt := k[i+r]
				if weight != nil {
					wt *= weight[by*bw+x]
				}
				s += wt * src[by*bw+x]
				sw += wt
			}
			tmp[by*bw+bx], tmpW[by*bw+bx] = s, sw
		}
	}
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var s, sw float64
			for i := -r; i <= r; i++ {
				y := by + i
				if y < 0 || y >= bh {
					continue
				}
				s += k[i+r] * tmp[y*bw+bx]
				sw += k[i+r] * tmpW[y*bw+bx]
			}
			if weight != nil {
				if sw > 0 {
					s /= sw
				}
			}
			dst[by*bw+bx] = s
		}
	}
}

// blockContrasts returns the grey standard deviation over a 3×3-block window
// around every block.
func blockContrasts(g *floatImage) *blockField {
	bw, bh := blocksOf(g.w, g.h)
	sum, sq, n := make([]float64, bw*bh), make([]float64, bw*bh), make([]float64, bw*bh)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			v := float64(g.v[y*g.w+x])
			b := (y/blockSize)*bw + x/blockSize
			sum[b] += v
			sq[b] += v * v
			n[b]++
		}
	}
	c := newBlockField(bw, bh)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			var s, s2, cnt float64
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := bx+dx, by+dy
					if x < 0 || y < 0 || x >= bw || y >= bh {
						continue
					}
					j := y*bw + x
					s += sum[j]
					s2 += sq[j]
					cnt += n[j]
				}
			}
			mean := s / cnt
			c.v[by*bw+bx] = math.Sqrt(max(s2/cnt-mean*mean, 0))
		}
	}
	return c
}

// blockMask marks the foreground blocks.
type blockMask struct {
	bw, bh int
	fg     []bool
}

func (m *blockMask) count() int {
	n := 0
	for _, f := range m.fg {
		if f {
			n++
		}
	}
	return n
}

// atPixel reports whether the pixel lies in a foreground block.
func (m *blockMask) atPixel(x, y int) bool {
	if x < 0 || y < 0 {
		return false
	}
	bx, by := x/blockSize, y/blockSize
	if bx >= m.bw || by >= m.bh {
		return false
	}
	return m.fg[by*m.bw+bx]
}

// segmentationMask separates the fingerprint from the background by block
// contrast and orientation coherence, then keeps the largest region without
// holes.
func segmentationMask(contrast *blockField, o *orientationField) *blockMask {
	bw, bh := contrast.bw, contrast.bh
	thr := segmentationThreshold(contrast)
	m := &blockMask{bw: bw, bh: bh, fg: make([]bool, bw*bh)}
	for b, c := range contrast.v {
		m.fg[b] = c > thr && (o.coherence[b] > maskMinCoherence || c > 2*thr)
	}
	m.smooth()
	m.keepLargestRegion()
	m.fillHoles()
	return m
}

// segmentationThreshold is the block contrast a foreground block must
// exceed: maskContrastFraction of the 95th percentile of the contrast of
// the blocks that show any (at least maskMinContrast), and never less than
// maskMinContrast. Flat blocks stay out of the percentile so that the
// threshold does not depend on how much empty frame surrounds the print
// (a larger sensor window, a rotated capture's filled corners): with them
// in, the more empty frame, the lower the percentile and the further the
// mask reached into faint background.
func segmentationThreshold(contrast *blockField) float64 {
	var shown []float64
	for _, c := range contrast.v {
		if c >= maskMinContrast {
			shown = append(shown, c)
		}
	}
	if len(shown) == 0 {
		return maskMinContrast
	}
	sort.Float64s(shown)
	p95 := shown[int(0.95*float64(len(shown)-1))]
	return max(maskMinContrast, maskContrastFraction*p95)
}

// dilated returns, per block, its chessboard distance in blocks to the
// nearest foreground block, capped at r+1.
func (m *blockMask) dilated(r int) []int {
	d := make([]int, len(m.fg))
	for b := range d {
		d[b] = r + 1
	}
	for b, fg := range m.fg {
		if !fg {
			continue
		}
		bx, by := b%m.bw, b/m.bw
		for y := max(by-r, 0); y <= min(by+r, m.bh-1); y++ {
			for x := max(bx-r, 0); x <= min(bx+r, m.bw-1); x++ {
				d[y*m.bw+x] = min(d[y*m.bw+x], max(abs(x-bx), abs(y-by)))
			}
		}
	}
	return d
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// smooth takes the majority of every block's 3×3 neighbourhood, twice.
func (m *blockMask) smooth() {
	bw, bh := m.bw, m.bh
	for pass := 0; pass < 2; pass++ {
		next := make([]bool, bw*bh)
		for by := 0; by < bh; by++ {
			for bx := 0; bx < bw; bx++ {
				n, tot := 0, 0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						x, y := bx+dx, by+dy
						if x < 0 || y < 0 || x >= bw || y >= bh {
							continue
						}
						tot++
						if m.fg[y*bw+x] {
							n++
						}
					}
				}
				next[by*bw+bx] = 2*n > tot
			}
		}
		m.fg = next
	}
}

// ridgeMask keeps the blocks of the segmentation mask around which ridges
// show a period: among the foreground blocks of the 3×3 around a block, the
// share where a ridge period was found must reach maskMinPeriodShare. Contrast and coherence alone take the straight
// edge of a contact area, or a smudge, for ridges; no period shows there.
func ridgeMask(m *blockMask, clarity *blockField) *blockMask {
	out := &blockMask{bw: m.bw, bh: m.bh, fg: make([]bool, len(m.fg))}
	for b, fg := range m.fg {
		if !fg {
			continue
		}
		bx, by := b%m.bw, b/m.bw
		var sum float64
		n := 0
		for y := max(by-1, 0); y <= min(by+1, m.bh-1); y++ {
			for x := max(bx-1, 0); x <= min(bx+1, m.bw-1); x++ {
				if m.fg[y*m.bw+x] {
					if clarity.v[y*m.bw+x] > 0 {
						sum++
					}
					n++
				}
			}
		}
		out.fg[b] = sum >= maskMinPeriodShare*float64(n)
	}
	out.smooth()
	out.keepLargestRegion()
	out.fillHoles()
	if float64(out.count()) < maskMinRidgeShare*float64(m.count()) {
		// Ridges too faint for their period to show in most blocks: the
		// period tells nothing about where the print ends.
		return m
	}
	return out
}

// components labels the 4-connected regions where fg == want.
func (m *blockMask) components(want bool) (labels []int, sizes []int) {
	labels = make([]int, len(m.fg))
	for i := range labels {
		labels[i] = -1
	}
	stack := []int{}
	for start := range m.fg {
		if m.fg[start] != want || labels[start] >= 0 {
			continue
		}
		id := len(sizes)
		sizes = append(sizes, 0)
		labels[start] = id
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			b := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			sizes[id]++
			bx, by := b%m.bw, b/m.bw
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				x, y := bx+d[0], by+d[1]
				if x < 0 || y < 0 || x >= m.bw || y >= m.bh {
					continue
				}
				j := y*m.bw + x
				if m.fg[j] == want && labels[j] < 0 {
					labels[j] = id
					stack = append(stack, j)
				}
			}
		}
	}
	return labels, sizes
}

func (m *blockMask) keepLargestRegion() {
	labels, sizes := m.components(true)
	best := -1
	for id, s := range sizes {
		if best < 0 || s > sizes[best] {
			best = id
		}
	}
	for b := range m.fg {
		m.fg[b] = m.fg[b] && labels[b] == best
	}
}

func (m *blockMask) fillHoles() {
	labels, sizes := m.components(false)
	touches := make([]bool, len(sizes))
	for b, l := range labels {
		if l < 0 {
			continue
		}
		bx, by := b%m.bw, b/m.bw
		if bx == 0 || by == 0 || bx == m.bw-1 || by == m.bh-1 {
			touches[l] = true
		}
	}
	for b, l := range labels {
		if l >= 0 && !touches[l] {
			m.fg[b] = true
		}
	}
}

// ridgePeriods estimates the ridge period (pixels) of every foreground
// block from the autocorrelation of its oriented x-signature, fills the
// blocks without estimate and smooths the field. It also returns the ridge
// clarity of every block: the autocorrelation peak (0 when no period shows).
func ridgePeriods(g *floatImage, o *orientationField, m *blockMask) (*blockField, *blockField) {
	bw, bh := o.bw, o.bh
	raw := make([]float64, bw*bh)
	valid := make([]float64, bw*bh)
	const W = periodWindow
	var sig [2*W + 1]float64
	var cnt [2*W + 1]float64
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			b := by*bw + bx
			if !m.fg[b] {
				continue
			}
			theta := o.angle[b]
			tx, ty := math.Cos(theta), math.Sin(theta)
			nx, ny := -ty, tx
			cx, cy := bx*blockSize+blockSize/2, by*blockSize+blockSize/2
			for i := range sig {
				sig[i], cnt[i] = 0, 0
			}
			for dy := -W; dy <= W; dy++ {
				y := cy + dy
				if y < 0 || y >= g.h {
					continue
				}
				for dx := -W; dx <= W; dx++ {
					x := cx + dx
					if x < 0 || x >= g.w {
						continue
					}
					t := float64(dx)*tx + float64(dy)*ty
					if t > 8 || t < -8 {
						continue
					}
					d := int(math.Round(float64(dx)*nx + float64(dy)*ny))
					if d < -W || d > W {
						continue
					}
					sig[d+W] += float64(g.v[y*g.w+x])
					cnt[d+W]++
				}
			}
			var mean, n float64
			for i := range sig {
				if cnt[i] > 0 {
					sig[i] /= cnt[i]
					mean += sig[i]
					n++
				}
			}
			if n < 2*W {
				continue
			}
			mean /= n
			var energy float64
			for i := range sig {
				sig[i] -= mean
				energy += sig[i] * sig[i]
			}
			if energy <= 0 {
				continue
			}
			lo, hi := int(math.Floor(minPeriod)), int(maxPeriod)+1
			ac := make([]float64, hi+2)
			for lag := lo - 1; lag <= hi+1 && lag < len(sig); lag++ {
				var s float64
				for i := 0; i+lag < len(sig); i++ {
					s += sig[i] * sig[i+lag]
				}
				ac[lag] = s / float64(len(sig)-lag) * float64(len(sig)) / energy
			}
			best := -1
			for lag := lo; lag <= hi && lag+1 < len(ac); lag++ {
				if ac[lag] > ac[lag-1] && ac[lag] >= ac[lag+1] && (best < 0 || ac[lag] > ac[best]) {
					best = lag
				}
			}
			if best < 0 || ac[best] < 0.1 {
				continue
			}
			// Parabolic refinement of the peak.
			a, c0, c := ac[best-1], ac[best], ac[best+1]
			p := float64(best)
			if den := a - 2*c0 + c; den < 0 {
				p += 0.5 * (a - c) / den
			}
			if p >= minPeriod && p <= maxPeriod {
				raw[b] = p
				valid[b] = ac[best]
			}
		}
	}
	out := newBlockField(bw, bh)
	gaussianBlocks(raw, out.v, bw, bh, periodSmoothing, valid)
	// Blocks far from any estimate fall back to the median of the estimates.
	var est []float64
	for b, v := range valid {
		if v > 0 {
			est = append(est, raw[b])
		}
	}
	med := defaultPeriod
	if len(est) > 0 {
		sort.Float64s(est)
		med = est[len(est)/2]
	}
	for b := range out.v {
		if out.v[b] < minPeriod || out.v[b] > maxPeriod || math.IsNaN(out.v[b]) {
			out.v[b] = med
		}
	}
	return out, &blockField{bw: bw, bh: bh, v: valid}
}

// filterTap is one sample of an oriented filter: an offset and a weight.
type filterTap struct {
	dx, dy int
	w      float32
}

// enhancedImage filters the image along the ridges (Gaussian smoothing)
// and across them (a zero-mean Gabor profile tuned to the local period).
// Ridges come out negative, valleys positive; the background is zero.
func enhancedImage(g *floatImage, o *orientationField, periods *blockField, m *blockMask) *floatImage {
	w, h := g.w, g.h
	along, across := enhancementFilters()
	nPeriods := len(across[0])
	// Pixel orientation bins, inside the foreground dilated by smoothMargin
	// blocks: the across filter of a pixel near the edge of the foreground
	// reads the smoothed image up to its reach away, and a step to unfiltered
	// zeros there would respond as a ridge.
	const smoothMargin = 3
	near := m.dilated(smoothMargin)
	active := make([]bool, w*h)
	smoothed := make([]bool, w*h)
	bins := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := near[(y/blockSize)*m.bw+x/blockSize]
			if d > smoothMargin {
				continue
			}
			smoothed[y*w+x] = true
			active[y*w+x] = d <= 1
			b := int(math.Round(o.at(x, y)/math.Pi*orientationBins)) % orientationBins
			bins[y*w+x] = uint8(b)
		}
	}
	smooth := newFloatImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if !smoothed[i] {
				continue
			}
			var s float32
			taps := along[bins[i]]
			if x > alongReach && y > alongReach && x < w-alongReach-1 && y < h-alongReach-1 {
				for _, t := range taps {
					s += t.w * g.v[i+t.dy*w+t.dx]
				}
			} else {
				for _, t := range taps {
					s += t.w * g.at(x+t.dx, y+t.dy)
				}
			}
			smooth.v[i] = s
		}
	}
	out := newFloatImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if !active[i] {
				continue
			}
			pb := int(math.Round(periods.v[(y/blockSize)*periods.bw+x/blockSize] * periodBinsPerPixel))
			pb = min(max(pb, int(minPeriod*periodBinsPerPixel)), nPeriods-1)
			taps := across[bins[i]][pb]
			var s float32
			if x >= acrossReach && y >= acrossReach && x < w-acrossReach && y < h-acrossReach {
				for _, t := range taps {
					s += t.w * smooth.v[i+t.dy*w+t.dx]
				}
			} else {
				for _, t := range taps {
					s += t.w * smooth.at(x+t.dx, y+t.dy)
				}
			}
			out.v[i] = s
		}
	}
	return out
}

// acrossReach bounds the offsets of the across-ridge taps (see acrossTaps).
var acrossReach = int(math.Ceil(2.5*acrossSigmaFraction*maxPeriod)) + 1

// enhancementFilters returns the along-ridge taps per orientation bin and
// the across-ridge taps per orientation and period bin, built once: they
// depend on the parameters only.
var enhancementFilters = sync.OnceValues(func() ([][]filterTap, [][][]filterTap) {
	along := make([][]filterTap, orientationBins)
	nPeriods := int(maxPeriod*periodBinsPerPixel) + 1
	across := make([][][]filterTap, orientationBins)
	for ob := 0; ob < orientationBins; ob++ {
		theta := float64(ob) * math.Pi / orientationBins
		along[ob] = alongTaps(theta)
		across[ob] = make([][]filterTap, nPeriods)
		for pb := int(minPeriod * periodBinsPerPixel); pb < nPeriods; pb++ {
			across[ob][pb] = acrossTaps(theta, float64(pb)/periodBinsPerPixel)
		}
	}
	return along, across
})

// alongTaps is the along-ridge smoothing for ridges at angle theta: a
// Gaussian along the ridge axis over the pixels within one pixel of it,
// each weighted by a tent of its distance across the axis (what sampling
// the line with bilinear interpolation would give), so that the line the
// filter averages does not zigzag with the pixel grid.
func alongTaps(theta float64) []filterTap {
	tx, ty := math.Cos(theta), math.Sin(theta)
	var taps []filterTap
	var sum float64
	for dy := -alongReach - 1; dy <= alongReach+1; dy++ {
		for dx := -alongReach - 1; dx <= alongReach+1; dx++ {
			a := float64(dx)*tx + float64(dy)*ty
			across := math.Abs(-float64(dx)*ty + float64(dy)*tx)
			if math.Abs(a) > alongReach || across >= 1 {
				continue
			}
			wt := math.Exp(-a*a/(2*alongSigma*alongSigma)) * (1 - across)
			sum += wt
			taps = append(taps, filterTap{dx, dy, float32(wt)})
		}
	}
	for i := range taps {
		taps[i].w /= float32(sum)
	}
	return taps
}

// acrossTaps is the across-ridge filter for ridges at angle theta and the
// given period: a zero-mean Gabor profile sampled at the integer pixels
// nearest to the normal line, each weighted by its true signed distance to
// the ridge axis and by the share of the line it stands for. Weighting by
// the rounded step instead would stretch the period by up to √2 on oblique
// ridges, so that the filter's tuning, and the skeleton, would depend on
// how the print lies on the pixel grid.
func acrossTaps(theta, period float64) []filterTap {
	nx, ny := -math.Sin(theta), math.Cos(theta)
	sigma := acrossSigmaFraction * period
	reach := math.Ceil(2.5 * sigma)
	type sample struct {
		dx, dy int
		d      float64
	}
	var samples []sample
	seen := map[[2]int]bool{}
	for k := -reach; k <= reach; k += 0.25 {
		dx, dy := int(math.Round(k*nx)), int(math.Round(k*ny))
		if seen[[2]int{dx, dy}] {
			continue
		}
		seen[[2]int{dx, dy}] = true
		samples = append(samples, sample{dx, dy, float64(dx)*nx + float64(dy)*ny})
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].d < samples[j].d })
	// Quadrature weights: half the gaps to the neighbouring samples.
	span := make([]float64, len(samples))
	for i := range samples {
		lo, hi := samples[i].d, samples[i].d
		if i > 0 {
			lo = (samples[i-1].d + samples[i].d) / 2
		}
		if i+1 < len(samples) {
			hi = (samples[i].d + samples[i+1].d) / 2
		}
		span[i] = hi - lo
	}
	var envSum, cosSum float64
	for i, s := range samples {
		env := span[i] * math.Exp(-s.d*s.d/(2*sigma*sigma))
		envSum += env
		cosSum += env * math.Cos(2*math.Pi*s.d/period)
	}
	c := cosSum / envSum
	taps := make([]filterTap, 0, len(samples))
	for i, s := range samples {
		env := span[i] * math.Exp(-s.d*s.d/(2*sigma*sigma))
		taps = append(taps, filterTap{s.dx, s.dy, float32(env * (math.Cos(2*math.Pi*s.d/period) - c))})
	}
	return taps
}

// binarizedImage marks ridge pixels (negative filter response) inside the
// foreground, then removes ridge islands and holes too small to be real.
func binarizedImage(e *floatImage, m *blockMask) []uint8 {
	w, h := e.w, e.h
	b := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if m.atPixel(x, y) && e.v[y*w+x] < 0 {
				b[y*w+x] = 1
			}
		}
	}
	removeSpecks(b, w, h, 1, speckSize)
	removeSpecks(b, w, h, 0, speckSize)
	return b
}

// removeSpecks flips the 4-connected regions of value v smaller than
// maxSize pixels (ridge islands, or holes inside ridges), which thinning
// would turn into pairs of false minutiae.
func removeSpecks(b []uint8, w, h int, v uint8, maxSize int) {
	seen := make([]bool, len(b))
	var stack, region []int
	for start := range b {
		if b[start] != v || seen[start] {
			continue
		}
		seen[start] = true
		stack = append(stack[:0], start)
		region = region[:0]
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(region) < maxSize {
				// Only a region smaller than maxSize is flipped: past
				// that, its members need not be kept (the background is
				// one region of most of the image).
				region = append(region, i)
			}
			x, y := i%w, i/w
			if x > 0 && b[i-1] == v && !seen[i-1] {
				seen[i-1] = true
				stack = append(stack, i-1)
			}
			if x < w-1 && b[i+1] == v && !seen[i+1] {
				seen[i+1] = true
				stack = append(stack, i+1)
			}
			if y > 0 && b[i-w] == v && !seen[i-w] {
				seen[i-w] = true
				stack = append(stack, i-w)
			}
			if y < h-1 && b[i+w] == v && !seen[i+w] {
				seen[i+w] = true
				stack = append(stack, i+w)
			}
		}
		if len(region) < maxSize {
			// Every member was kept.
			for _, i := range region {
				b[i] = 1 - v
			}
		}
	}
}
