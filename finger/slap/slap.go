// Package slap segments simultaneous impressions: from a four-finger slap
// (ANSI/NIST finger positions 13 and 14) or the two thumbs (15) it finds each
// fingertip, measures the hand's and each finger's orientation, cuts the
// fingertip along its rotated box and names its finger position.
//
// The pipeline reads top to bottom in Segment: block contrast, skin mask,
// print regions, hand orientation, fingers, fingertips, positions. It knows
// images, not people, and imports nothing of the domain.
package slap

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"sort"
)

// Slap finger positions (ANSI/NIST-ITL 2011 Table 8).
const (
	RightFour  = 13
	LeftFour   = 14
	BothThumbs = 15
)

// Errors returned by Segment.
var (
	// ErrNotSlap is returned for a position that is not a slap (13, 14, 15).
	ErrNotSlap = errors.New("slap: position is not a slap")
	// ErrBadResolution is returned for a resolution outside 250–1000 ppi.
	ErrBadResolution = errors.New("slap: resolution out of range")
	// ErrFingerCount is returned when fewer fingertips are found than the
	// slap must hold; the positions of the ones found cannot be named.
	ErrFingerCount = errors.New("slap: fingertips missing")
)

// Box is a fingertip's rotated rectangle in the slap's pixel coordinates
// (origin top-left, y down). Angle is the finger's tilt from upright in
// radians, positive when the tip leans right (clockwise).
type Box struct {
	CenterX, CenterY float64
	Width, Height    float64
	Angle            float64
}

// Corners returns the box's four corners, top-left, top-right,
// bottom-right, bottom-left as seen along the finger (ANSI/NIST 14.022
// polygon order).
func (b Box) Corners() [4]image.Point {
	up := [2]float64{math.Sin(b.Angle), -math.Cos(b.Angle)}
	across := [2]float64{math.Cos(b.Angle), math.Sin(b.Angle)}
	at := func(a, u float64) image.Point {
		return image.Pt(int(math.Round(b.CenterX+a*across[0]+u*up[0])), int(math.Round(b.CenterY+a*across[1]+u*up[1])))
	}
	w, h := b.Width/2, b.Height/2
	return [4]image.Point{at(-w, h), at(w, h), at(w, -h), at(-w, -h)}
}

// Bounds returns the axis-aligned rectangle around the box, clipped to r
// (ANSI/NIST 14.021 segment).
func (b Box) Bounds(r image.Rectangle) image.Rectangle {
	c := b.Corners()
	out := image.Rectangle{Min: c[0], Max: c[0]}
	for _, p := range c[1:] {
		out.Min.X, out.Min.Y = min(out.Min.X, p.X), min(out.Min.Y, p.Y)
		out.Max.X, out.Max.Y = max(out.Max.X, p.X), max(out.Max.Y, p.Y)
	}
	return out.Intersect(r)
}

// Fingertip is one segmented finger: its position, its box in the slap and
// the upright image cut along that box.
type Fingertip struct {
	Position int
	Box      Box
	Image    *image.Gray
}

// Result is the segmentation of one slap.
type Result struct {
	// HandAngle is the hand's tilt from upright in radians (clockwise
	// positive), the mean of its fingers' axes.
	HandAngle float64
	// Fingertips are in order across the image, left to right.
	Fingertips []Fingertip
}

// Expected returns the finger positions a slap holds, left to right as the
// hand lies on the platen (fingers up): the right hand shows index to
// little, the left hand little to index, and the thumbs left then right.
func Expected(position int) ([]int, error) {
	switch position {
	case RightFour:
		return []int{2, 3, 4, 5}, nil
	case LeftFour:
		return []int{10, 9, 8, 7}, nil
	case BothThumbs:
		return []int{6, 1}, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrNotSlap, position)
}

// Trace receives each stage's image under a stable kebab-case key
// ("contrast", "skin"). A nil Trace costs nothing.
type Trace func(key string, img image.Image)

// Options controls one segmentation.
type Options struct {
	// PPI is the slap's resolution; 0 means 500.
	PPI int
	// Trace, when set, receives each stage's image.
	Trace Trace
	// Missing lists the finger positions known to be absent from the slap
	// (amputated, bandaged): the others are named in their order.
	Missing []int
}

// Segment finds the fingertips of a slap and names them for position (13,
// 14 or 15; 0 guesses it from the image: two prints are the thumbs, and of
// four the hand is told by its fingertips' heights, rightHand: pass the
// position when known). When
// fewer tips are found than the slap holds it returns the ones found,
// unnamed (position 0), with ErrFingerCount.
func Segment(img *image.Gray, position int, opt Options) (*Result, error) {
	if position == 0 {
		res, err := Segment(img, RightFour, opt)
		switch {
		case errors.Is(err, ErrFingerCount) && len(res.Fingertips) == 2:
			return Segment(img, BothThumbs, opt)
		case err != nil:
			return res, err
		}
		if !rightHand(res) {
			return Segment(img, LeftFour, opt)
		}
		return res, nil
	}
	ppi := opt.PPI
	positions, err := Expected(position)
	if err != nil {
		return nil, err
	}
	positions = slices.DeleteFunc(positions, func(p int) bool { return slices.Contains(opt.Missing, p) })
	if len(positions) == 0 {
		return &Result{}, nil
	}
	if ppi == 0 {
		ppi = standardPPI
	}
	if ppi < 250 || ppi > 1000 {
		return nil, ErrBadResolution
	}
	g := newGeometry(img.Bounds(), ppi)
	contrast := blockContrast(img, g)
	skin := skinMask(contrast, g)
	if opt.Trace != nil {
		opt.Trace("contrast", blockImage(g, func(i int) uint8 { return uint8(min(255, 4*contrast[i])) }))
		opt.Trace("skin", blockImage(g, func(i int) uint8 { return map[bool]uint8{true: 255}[skin[i]] }))
	}
	regions := printRegions(skin, g)
	hand := handAngle(regions)
	fingers := fingers(regions, hand, g)
	tips := fingertips(img, fingers, hand, position == BothThumbs, g)
	tips = strongest(tips, len(positions))
	res := &Result{HandAngle: hand}
	for i, t := range tips {
		ft := Fingertip{Box: t, Image: cut(img, t)}
		if len(tips) == len(positions) {
			ft.Position = positions[i]
		}
		res.Fingertips = append(res.Fingertips, ft)
	}
	if len(tips) < len(positions) {
		return res, fmt.Errorf("%w: found %d of %d", ErrFingerCount, len(tips), len(positions))
	}
	return res, nil
}

// rightHand tells a right four-finger slap from a left one by the heights
// of its four fingertips, measured along the hand's axis (so that a slanted
// hand does not raise one end of the image): on a right hand, left to
// right index, middle, ring, little, the index's tip stands higher than
// the little finger's and the middle's higher than the ring's; a left hand
// shows them mirrored. The two differences are summed, so that one finger
// pressed low (a card's index under its box's edge) is outvoted by the
// other pair.
func rightHand(res *Result) bool {
	tips := res.Fingertips
	if len(tips) != 4 {
		return true
	}
	s, c := math.Sincos(res.HandAngle)
	var top [4]float64
	for i, ft := range tips {
		b := ft.Box
		top[i] = b.CenterX*s - b.CenterY*c + b.Height/2 // frame's along, the box's top
	}
	return (top[0]-top[3])+(top[1]-top[2]) >= 0
}

// geometry is the block grid laid over one image.
type geometry struct {
	bounds image.Rectangle
	block  int     // block side in pixels
	scale  float64 // pixels per 500-ppi pixel
	cols   int
	rows   int
}

func newGeometry(r image.Rectangle, ppi int) geometry {
	scale := float64(ppi) / standardPPI
	b := max(4, int(math.Round(blockSize*scale)))
	return geometry{bounds: r, block: b, scale: scale, cols: r.Dx() / b, rows: r.Dy() / b}
}

// center returns the pixel centre of block (c, r).
func (g geometry) center(c, r int) (float64, float64) {
	return float64(g.bounds.Min.X) + (float64(c)+0.5)*float64(g.block), float64(g.bounds.Min.Y) + (float64(r)+0.5)*float64(g.block)
}

// blockContrast is the grey-level standard deviation of each block.
func blockContrast(img *image.Gray, g geometry) []float64 {
	out := make([]float64, g.cols*g.rows)
	n := float64(g.block * g.block)
	for r := 0; r < g.rows; r++ {
		for c := 0; c < g.cols; c++ {
			var sum, sq int
			for y := 0; y < g.block; y++ {
				off := img.PixOffset(g.bounds.Min.X+c*g.block, g.bounds.Min.Y+r*g.block+y)
				for _, v := range img.Pix[off : off+g.block] {
					sum += int(v)
					sq += int(v) * int(v)
				}
			}
			mean := float64(sum) / n
			out[r*g.cols+c] = math.Sqrt(max(0, float64(sq)/n-mean*mean))
			if mean < occlusionLevel {
				out[r*g.cols+c] = math.Inf(1) // ink blot, punch hole: may hide skin
			}
		}
	}
	return out
}

// skinMask marks the blocks of friction ridge skin: contrast above a
// fraction of the image's high percentile, closed across pale patches and
// opened to drop strokes narrower than a fingertip.
func skinMask(contrast []float64, g geometry) []bool {
	sorted := slices.DeleteFunc(append([]float64(nil), contrast...), func(v float64) bool { return math.IsInf(v, 1) })
	sort.Float64s(sorted)
	threshold := float64(minContrast)
	if len(sorted) > 0 {
		threshold = max(threshold, contrastFraction*sorted[len(sorted)*95/100])
	}
	mask := make([]bool, len(contrast))
	for i, v := range contrast {
		mask[i] = v >= threshold
	}
	opening := int(math.Round(openingWidth * g.scale / float64(2*g.block)))
	mask = morph(mask, g, opening, false, false)
	return morph(mask, g, opening, true, false)
}

// morph dilates (grow) or erodes a block mask by a square of half-side
// radius, separably. Outside the grid counts as skin when outsideOn (so a
// closing keeps prints cut by the image edge) and as background otherwise
// (so an opening removes strokes along the edge).
func morph(m []bool, g geometry, radius int, grow, outsideOn bool) []bool {
	pass := func(src []bool, dx, dy int) []bool {
		dst := make([]bool, len(src))
		for r := 0; r < g.rows; r++ {
			for c := 0; c < g.cols; c++ {
				v := !grow
				for k := -radius; k <= radius; k++ {
					cc, rr := c+k*dx, r+k*dy
					in := cc >= 0 && cc < g.cols && rr >= 0 && rr < g.rows && src[rr*g.cols+cc]
					if grow && in {
						v = true
						break
					}
					outside := cc < 0 || cc >= g.cols || rr < 0 || rr >= g.rows
					if !grow && !in && !(outside && outsideOn) {
						v = false
						break
					}
				}
				dst[r*g.cols+c] = v
			}
		}
		return dst
	}
	return pass(pass(m, 1, 0), 0, 1)
}

// region is one connected patch of skin: its blocks' pixel centres.
type region struct {
	xs, ys []float64
}

func (r *region) area() int { return len(r.xs) }

// axis returns the region's principal axis as a tilt from upright (radians,
// clockwise positive) and how elongated it is (major over minor spread).
func (r *region) axis() (angle, elongation float64) {
	n := float64(len(r.xs))
	var mx, my float64
	for i := range r.xs {
		mx += r.xs[i]
		my += r.ys[i]
	}
	mx, my = mx/n, my/n
	var cxx, cyy, cxy float64
	for i := range r.xs {
		dx, dy := r.xs[i]-mx, r.ys[i]-my
		cxx += dx * dx
		cyy += dy * dy
		cxy += dx * dy
	}
	// The major axis makes angle a with the x axis; upright is a = ±π/2.
	a := 0.5 * math.Atan2(2*cxy, cxx-cyy)
	tilt := a + math.Pi/2 // image y points down: a = -π/2 is upright
	for tilt > math.Pi/2 {
		tilt -= math.Pi
	}
	for tilt <= -math.Pi/2 {
		tilt += math.Pi
	}
	tr, det := cxx+cyy, cxx*cyy-cxy*cxy
	disc := math.Sqrt(max(0, tr*tr/4-det))
	l1, l2 := tr/2+disc, tr/2-disc
	if l2 <= 0 {
		return tilt, math.Inf(1)
	}
	return tilt, math.Sqrt(l1 / l2)
}

// printRegions returns the connected skin regions large enough to hold a
// fingertip.
func printRegions(mask []bool, g geometry) []*region {
	label := make([]int32, len(mask))
	var out []*region
	minBlocks := int(minFingerArea * g.scale * g.scale / float64(g.block*g.block))
	stack := []int{}
	for start, on := range mask {
		if !on || label[start] != 0 {
			continue
		}
		reg := &region{}
		label[start] = 1
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			c, r := i%g.cols, i/g.cols
			x, y := g.center(c, r)
			reg.xs, reg.ys = append(reg.xs, x), append(reg.ys, y)
			for _, n := range [4][2]int{{c - 1, r}, {c + 1, r}, {c, r - 1}, {c, r + 1}} {
				if n[0] < 0 || n[0] >= g.cols || n[1] < 0 || n[1] >= g.rows {
					continue
				}
				j := n[1]*g.cols + n[0]
				if mask[j] && label[j] == 0 {
					label[j] = 1
					stack = append(stack, j)
				}
			}
		}
		if reg.area() >= minBlocks {
			out = append(out, reg)
		}
	}
	return out
}

// handAngle is the area-weighted mean tilt of the elongated regions (the
// fingers), within ±maxHandAngle; 0 when no region is elongated.
func handAngle(regions []*region) float64 {
	var sum, weight float64
	for _, r := range regions {
		tilt, elongation := r.axis()
		if elongation < 1.3 || math.Abs(tilt) > maxHandAngle {
			continue
		}
		sum += tilt * float64(r.area())
		weight += float64(r.area())
	}
	if weight == 0 {
		return 0
	}
	return sum / weight
}

// frame projects a point onto a tilted finger frame: across (left to right)
// and along (toward the tip).
func frame(x, y, tilt float64) (across, along float64) {
	s, c := math.Sincos(tilt)
	return x*c + y*s, x*s - y*c
}

// unframe is frame's inverse.
func unframe(across, along, tilt float64) (x, y float64) {
	s, c := math.Sincos(tilt)
	return across*c + along*s, across*s - along*c
}

// fingers groups the regions that lie along one finger (its phalanges)
// across the hand's axis.
func fingers(regions []*region, hand float64, g geometry) []*region {
	type span struct {
		lo, hi float64
		reg    *region
	}
	spans := make([]span, 0, len(regions))
	for _, r := range regions {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range r.xs {
			a, _ := frame(r.xs[i], r.ys[i], hand)
			lo, hi = min(lo, a), max(hi, a)
		}
		spans = append(spans, span{lo, hi, r})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo+spans[i].hi < spans[j].lo+spans[j].hi })
	var out []*region
	var cur *span
	for i := range spans {
		s := spans[i]
		if cur != nil {
			overlap := min(cur.hi, s.hi) - max(cur.lo, s.lo)
			if overlap > 0.5*min(cur.hi-cur.lo, s.hi-s.lo) {
				merged := &region{xs: append(append([]float64(nil), cur.reg.xs...), s.reg.xs...), ys: append(append([]float64(nil), cur.reg.ys...), s.reg.ys...)}
				cur.reg, cur.lo, cur.hi = merged, min(cur.lo, s.lo), max(cur.hi, s.hi)
				out[len(out)-1] = merged
				continue
			}
		}
		cur = &spans[i]
		out = append(out, s.reg)
	}
	_ = g
	return out
}

// tipShape is one finger's blocks in its own tilted frame.
type tipShape struct {
	tilt, top     float64
	across, along []float64
	lo, hi        float64 // across extent near the top
	cut           bool    // by the image's left or right side
}

// fingertips returns each finger's distal box: from the finger's top down
// to the first crease (the palest band across the finger) or, when none shows,
// a length bounded by its width, along the finger's own axis.
func fingertips(img *image.Gray, fingers []*region, hand float64, thumbs bool, g geometry) []Box {
	shortest, longest := tipMinRatio, tipMaxRatio
	if thumbs {
		shortest, longest = thumbMinRatio, thumbMaxRatio
	}
	half := float64(g.block) / 2
	var tips []*tipShape
	var whole []float64 // widths of the tips not cut by a side
	for _, f := range fingers {
		t := &tipShape{tilt: hand, top: math.Inf(-1)}
		if a, e := f.axis(); e >= 1.3 && math.Abs(a-hand) < 0.5 {
			t.tilt = a
		}
		t.across = make([]float64, len(f.xs))
		t.along = make([]float64, len(f.xs))
		// Within two blocks of a side: the opening rounds prints off there.
		left, right := float64(g.bounds.Min.X)+5*half, float64(g.bounds.Min.X+g.cols*g.block)-5*half
		for i := range f.xs {
			t.across[i], t.along[i] = frame(f.xs[i], f.ys[i], t.tilt)
			t.top = max(t.top, t.along[i])
			t.cut = t.cut || f.xs[i] <= left || f.xs[i] >= right
		}
		t.lo, t.hi = t.width(minTipWidth*g.scale*2, half)
		if t.hi-t.lo < minTipWidth*g.scale {
			continue
		}
		if !t.cut {
			whole = append(whole, t.hi-t.lo)
		}
		tips = append(tips, t)
	}
	// A print cut by the image's side is as wide as the others (the median
	// of the whole ones, or the widest when every one is cut).
	sort.Float64s(whole)
	reference := 0.0
	if len(whole) > 0 {
		reference = whole[len(whole)/2]
	}
	for _, t := range tips {
		if len(whole) == 0 {
			reference = max(reference, t.hi-t.lo)
		}
	}
	var out []Box
	for _, t := range tips {
		// A print much wider than the others has a neighbour's print
		// joined at one side: keep the reference width around its top.
		if len(whole) >= 2 && t.hi-t.lo > maxWidthRatio*reference {
			var sum, n float64
			for i := range t.across {
				if t.along[i] >= t.top-reference/4 {
					sum += t.across[i]
					n++
				}
			}
			t.lo, t.hi = sum/n-reference/2, sum/n+reference/2
		}
		w := t.hi - t.lo
		if t.cut {
			w = max(w, reference)
		}
		top := t.top + half
		band := creaseBand * (t.hi - t.lo)
		skip, length := crease(img, t.lo+band, t.hi-band, top, t.tilt, shortest*w, longest*w, topSkipRatio*w, g)
		bottom := top
		for i := range t.along {
			if t.along[i] >= top-length {
				bottom = min(bottom, t.along[i]-half)
			}
		}
		top -= skip
		lo, hi := t.width(t.top+half-bottom, half)
		lo, hi = max(lo, t.lo), min(hi, t.hi)
		cx, cy := unframe((lo+hi)/2, (top+bottom)/2, t.tilt)
		out = append(out, Box{CenterX: cx, CenterY: cy, Width: hi - lo, Height: top - bottom, Angle: t.tilt})
	}
	return out
}

// width returns the across extent of the tip's blocks down to depth below
// its top, widened by half a block each side.
func (t *tipShape) width(depth, half float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range t.across {
		if t.along[i] >= t.top-depth {
			lo, hi = min(lo, t.across[i]), max(hi, t.across[i])
		}
	}
	return lo - half, hi + half
}

// crease measures a fingertip along its axis from top, on the profile of
// darkness across the finger (between across lo and hi). skip is the depth
// of a pale gap between something dark above (card text the skin mask
// joined to the print) and the print itself, within maxSkip of the top;
// length is the depth below top, between skip+shortest and skip+longest,
// of the first band clearly paler than the tip (the distal crease), else
// skip+longest.
func crease(img *image.Gray, lo, hi, top, tilt, shortest, longest, maxSkip float64, g geometry) (skip, length float64) {
	step := max(2, 4*g.scale)
	n := int((longest+maxSkip)/step) + 1
	dark := make([]float64, 0, n)
	r := img.Bounds()
	for k := 0; k < n; k++ {
		var sum, count float64
		for a := lo; a <= hi; a += step {
			x, y := unframe(a, top-float64(k)*step, tilt)
			p := image.Pt(int(x), int(y))
			if p.In(r) {
				sum += 255 - float64(img.GrayAt(p.X, p.Y).Y)
				count++
			}
		}
		if count == 0 {
			if len(dark) == 0 && k < n-1 {
				continue // above the image's edge: a print the edge cuts
			}
			break // past the image's edge: no crease to see
		}
		for len(dark) < k {
			dark = append(dark, sum/count) // the rows cut off take the first row seen
		}
		dark = append(dark, sum/count)
	}
	n = len(dark)
	smooth := make([]float64, n)
	for k := range dark {
		var s, c float64
		for j := max(0, k-creaseSmoothing); j <= min(n-1, k+creaseSmoothing); j++ {
			s += dark[j]
			c++
		}
		smooth[k] = s / c
	}
	// The tip's darkness, a little below the top to the shortest length.
	var ref []float64
	for k := int(0.2 * shortest / step); k < min(n, int(shortest/step)); k++ {
		ref = append(ref, smooth[k])
	}
	if len(ref) == 0 {
		return 0, longest
	}
	sort.Float64s(ref)
	pale := creaseDepth * ref[len(ref)/2]
	// A pale gap below something dark, near the top.
	first, above := 0, false
	for k := 0; k < min(n, int(maxSkip/step)); k++ {
		switch {
		case smooth[k] >= pale:
			above = true
		case above:
			first = k + 1
		}
	}
	skip = float64(first) * step
	// The first pale band: its palest line.
	at := -1
	for k := first + int(shortest/step); k < min(n, first+int(longest/step)+1); k++ {
		if smooth[k] >= pale {
			if at >= 0 {
				break
			}
			continue
		}
		if at < 0 || smooth[k] < smooth[at] {
			at = k
		}
	}
	if at < 0 {
		return skip, skip + longest
	}
	return skip, float64(at) * step
}

// strongest keeps the n largest boxes, in their order across the image.
func strongest(boxes []Box, n int) []Box {
	if len(boxes) > n {
		idx := make([]int, len(boxes))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			return boxes[idx[a]].Width*boxes[idx[a]].Height > boxes[idx[b]].Width*boxes[idx[b]].Height
		})
		keep := idx[:n]
		sort.Ints(keep)
		kept := make([]Box, 0, n)
		for _, i := range keep {
			kept = append(kept, boxes[i])
		}
		boxes = kept
	}
	return boxes
}

// cut samples the box upright out of img (nearest pixel; white outside).
func cut(img *image.Gray, b Box) *image.Gray {
	w, h := int(math.Round(b.Width)), int(math.Round(b.Height))
	out := image.NewGray(image.Rect(0, 0, w, h))
	s, c := math.Sincos(b.Angle)
	r := img.Bounds()
	for j := 0; j < h; j++ {
		for i := 0; i < w; i++ {
			a, u := float64(i)+0.5-b.Width/2, b.Height/2-float64(j)-0.5
			x := int(math.Floor(b.CenterX + a*c + u*s))
			y := int(math.Floor(b.CenterY + a*s - u*c))
			v := color.Gray{Y: 255}
			if image.Pt(x, y).In(r) {
				v = img.GrayAt(x, y)
			}
			out.SetGray(i, j, v)
		}
	}
	return out
}

// blockImage draws one grey level per block, for traces.
func blockImage(g geometry, level func(i int) uint8) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, g.cols, g.rows))
	for i := range out.Pix {
		out.Pix[i] = level(i)
	}
	return out
}
