package iris

import (
	"math"
	"sort"
)

// circle is a boundary in image coordinates.
type circle struct{ X, Y, R float64 }

// scaled returns c in an image factor times larger.
func (c circle) scaled(factor int) circle {
	f := float64(factor)
	return circle{(c.X+0.5)*f - 0.5, (c.Y+0.5)*f - 0.5, c.R * f}
}

// point returns the point of c at angle theta (radians, image y down).
func (c circle) point(theta float64) (float64, float64) {
	return c.X + c.R*math.Cos(theta), c.Y + c.R*math.Sin(theta)
}

// reflectionMask marks specular reflections: small spots much brighter than
// their surroundings on most sides, grown by ReflectionDilate pixels
// (1 = reflection). A pixel is a reflection when it is at least
// ReflectionMin and brighter by ReflectionContrast than both the mean of
// its neighbourhood and the ReflectionRingQuantile quantile of the ring of
// radius ReflectionRingRadius around it: the bright iris beside a dark
// pupil, or a bright crypt among bright iris texture, exceeds the mean (the
// pupil or the dark texture pull it down) but not what surrounds it on
// most sides.
func reflectionMask(g *grid) *grid {
	s := g.integral()
	m := newGrid(g.w, g.h)
	r := ReflectionRadius
	ring := make([]float32, 0, reflectionRingSamples)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			v := float64(g.v[y*g.w+x])
			if v < ReflectionMin {
				continue
			}
			if v-boxMean(s, g.w, g.h, x-r, y-r, x+r+1, y+r+1) <= ReflectionContrast {
				continue
			}
			if v-ringQuantile(g, x, y, ring) <= ReflectionContrast {
				continue
			}
			m.v[y*g.w+x] = 1
		}
	}
	return m.dilated(ReflectionDilate)
}

// reflectionRingSamples is the number of pixels read on the ring around a
// reflection candidate.
const reflectionRingSamples = 24

// reflectionRing holds the integer offsets of the ring of radius
// ReflectionRingRadius.
var reflectionRing = func() (ring [reflectionRingSamples][2]int) {
	for i := range ring {
		a := 2 * math.Pi * float64(i) / reflectionRingSamples
		ring[i] = [2]int{int(math.Round(ReflectionRingRadius * math.Cos(a))), int(math.Round(ReflectionRingRadius * math.Sin(a)))}
	}
	return ring
}()

// ringQuantile returns the ReflectionRingQuantile quantile of g on the ring
// of radius ReflectionRingRadius around (x, y), edges repeated; buf is
// scratch space.
func ringQuantile(g *grid, x, y int, buf []float32) float64 {
	buf = buf[:0]
	for _, d := range reflectionRing {
		xx, yy := min(max(x+d[0], 0), g.w-1), min(max(y+d[1], 0), g.h-1)
		buf = append(buf, g.v[yy*g.w+xx])
	}
	sort.Slice(buf, func(i, j int) bool { return buf[i] < buf[j] })
	return float64(buf[int(ReflectionRingQuantile*float64(len(buf)-1))])
}

// dilated grows the set pixels of a 0/1 grid by a square of radius r.
func (g *grid) dilated(r int) *grid {
	tmp := newGrid(g.w, g.h)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			if g.v[y*g.w+x] == 0 {
				continue
			}
			for xx := max(0, x-r); xx <= min(g.w-1, x+r); xx++ {
				tmp.v[y*g.w+xx] = 1
			}
		}
	}
	out := newGrid(g.w, g.h)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			if tmp.v[y*g.w+x] == 0 {
				continue
			}
			for yy := max(0, y-r); yy <= min(g.h-1, y+r); yy++ {
				out.v[yy*g.w+x] = 1
			}
		}
	}
	return out
}

// inpainted fills the masked pixels of g from their unmasked surroundings,
// growing inwards one ring at a time, so that reflections do not create
// false edges.
func inpainted(g, mask *grid) *grid {
	out := g.clone()
	known := make([]bool, len(g.v))
	var todo []int
	for i, m := range mask.v {
		known[i] = m == 0
		if !known[i] {
			todo = append(todo, i)
		}
	}
	var next []int
	fill := make([]float32, 0, len(todo))
	for len(todo) > 0 {
		next, fill = next[:0], fill[:0]
		var done []int
		for _, i := range todo {
			x, y := i%g.w, i/g.w
			var sum float32
			n := 0
			for _, d := range [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= g.w || yy >= g.h || !known[yy*g.w+xx] {
					continue
				}
				sum += out.v[yy*g.w+xx]
				n++
			}
			if n == 0 {
				next = append(next, i)
				continue
			}
			done = append(done, i)
			fill = append(fill, sum/float32(n))
		}
		if len(done) == 0 {
			break
		}
		for k, i := range done {
			out.v[i] = fill[k]
			known[i] = true
		}
		todo = append(todo[:0], next...)
	}
	return out
}

// rings holds, for the angles of an arc set and every radius 0..rmax, the
// integer offsets of the nearest pixels (dx, dy) and their index offset in
// a grid of width w: the circle searches visit the same rings at thousands
// of centres.
type rings struct {
	n, rmax, w int
	dx, dy     []int32
	off        []int
}

func newRings(cos, sin []float64, rmax, w int) *rings {
	n := len(cos)
	rg := &rings{n: n, rmax: rmax, w: w, dx: make([]int32, (rmax+1)*n), dy: make([]int32, (rmax+1)*n), off: make([]int, (rmax+1)*n)}
	for r := 0; r <= rmax; r++ {
		fr := float64(r)
		for i := range cos {
			dx, dy := int(math.Round(fr*cos[i])), int(math.Round(fr*sin[i]))
			k := r*n + i
			rg.dx[k], rg.dy[k], rg.off[k] = int32(dx), int32(dy), dy*w+dx
		}
	}
	return rg
}

// ringSum sums g over the angles [lo, hi) of ring r centred at pixel
// (x0, y0), skipping samples outside g, and counts the samples taken.
func (rg *rings) ringSum(g *grid, x0, y0, r, lo, hi int) (float32, int) {
	var sum float32
	k0 := r * rg.n
	if x0-r >= 0 && y0-r >= 0 && x0+r < g.w && y0+r < g.h {
		c := y0*g.w + x0
		for _, o := range rg.off[k0+lo : k0+hi] {
			sum += g.v[c+o]
		}
		return sum, hi - lo
	}
	n := 0
	dy := rg.dy[k0+lo : k0+hi]
	for i, dx := range rg.dx[k0+lo : k0+hi] {
		x, y := x0+int(dx), y0+int(dy[i])
		if uint(x) < uint(g.w) && uint(y) < uint(g.h) {
			sum += g.v[y*g.w+x]
			n++
		}
	}
	return sum, n
}

// circleMeans returns, for radii r0..r1 (step 1), the mean of g over the
// angles [lo, hi) of rg on the circle of radius r centred at the pixel
// nearest (cx, cy); samples outside g are skipped and a radius with too few
// samples gets NaN.
func circleMeans(g *grid, cx, cy float64, r0, r1 int, rg *rings, lo, hi int, out []float64) []float64 {
	out = out[:0]
	x0, y0 := int(math.Round(cx)), int(math.Round(cy))
	for r := r0; r <= r1; r++ {
		sum, n := rg.ringSum(g, x0, y0, r, lo, hi)
		if n*2 < hi-lo {
			out = append(out, math.NaN())
		} else {
			out = append(out, float64(sum)/float64(n))
		}
	}
	return out
}

// arcs returns the cosines and sines of n angles spread over the given
// angular ranges (degrees).
func arcs(n int, ranges ...[2]float64) (cos, sin []float64) {
	var total float64
	for _, r := range ranges {
		total += r[1] - r[0]
	}
	for _, r := range ranges {
		k := int(math.Round(float64(n) * (r[1] - r[0]) / total))
		for i := 0; i < k; i++ {
			a := (r[0] + (r[1]-r[0])*(float64(i)+0.5)/float64(k)) * math.Pi / 180
			cos = append(cos, math.Cos(a))
			sin = append(sin, math.Sin(a))
		}
	}
	return cos, sin
}

// eyeBoundaries finds the pupil and the limbus. Dark lashes, eyebrows,
// eye corners and spectacle frames can rise as steeply as a pupil, so each
// pupil candidate scoring at least PupilCandidateFraction of the best is
// given its limbus, and the pairs are returned best first by the product of
// their pupil and limbus scores: a pupil lies inside an iris. The caller
// takes the first pair whose segmentation passes the quality gates.
func eyeBoundaries(g, reflections *grid) ([]eyePair, error) {
	cands, err := pupilCandidates(g, reflections)
	if err != nil {
		return nil, err
	}
	var pairs []eyePair
	err = failf("no limbus found")
	lg := newLimbusGrid(g)
	for _, c := range cands {
		if c.score < PupilCandidateFraction*cands[0].score {
			continue
		}
		l, ls, lerr := limbusBoundary(lg, c.circle)
		if lerr != nil {
			if len(pairs) == 0 {
				err = lerr
			}
			continue
		}
		pairs = append(pairs, eyePair{c.circle, l, c.score * ls})
	}
	if len(pairs) == 0 {
		return nil, err
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	return pairs, nil
}

// eyePair is a pupil with its limbus and the product of their scores.
type eyePair struct {
	pupil, limbus circle
	score         float64
}

// pupilCandidates finds the candidate pupils, best first. Each of the
// PupilSeeds darkest discs of
// the image (eyebrows, lashes and shadows can be as dark as the pupil) seeds
// an integro-differential search over every radius in [PupilMinRadius,
// PupilMaxRadius] around the seed and around the centroid of the dark region
// grown from it; a circle scores its dark-to-bright rise less how much
// brighter its inside is than the darkest seed, so that the limbus of a dark
// iris around the pupil does not win. The search runs at half resolution,
// the winner is searched again at full resolution and refined on radial
// edges.
func pupilCandidates(g, reflections *grid) ([]scoredCircle, error) {
	cos, sin := arcs(CircleSamples, [2]float64{0, 360})
	var buf []float64
	search := func(g *grid, darkest float64, x0, y0, span, stride, r0, r1 int, rg *rings) (circle, float64) {
		var c circle
		score := math.Inf(-1)
		for y := y0 - span; y <= y0+span; y += stride {
			for x := x0 - span; x <= x0+span; x += stride {
				var r int
				var d float64
				r, d, buf = darkDiscEdge(g, float64(x), float64(y), darkest, r0, r1, rg, buf)
				if d > score {
					c, score = circle{float64(x), float64(y), float64(r)}, d
				}
			}
		}
		return c, score
	}
	half, halfRefl := g.shrunk(2), reflections.shrunk(2)
	halfRings, fullRings := newRings(cos, sin, PupilMaxRadius/2+2, half.w), newRings(cos, sin, PupilMaxRadius+2, g.w)
	seeds := darkSeeds(half, PupilSeeds)
	if len(seeds) == 0 {
		return nil, failf("no pupil found")
	}
	darkest := seeds[0].v
	r0, r1 := max(PupilMinRadius/2, 3), PupilMaxRadius/2
	var cands []scoredCircle
	for _, seed := range seeds {
		// The blob may reach a whole pupil diameter from its seed: the
		// darkest disc can sit at the pupil's edge, beside a grey patch that
		// the inpainted reflections leave in its middle, and a blob cut at
		// one radius from such a seed has its centroid off the pupil's
		// centre by more than the search below covers (CASIA scaled by
		// 1.3: pupils of radius 70 px found as a dark sliver beside the
		// inpainted ring of reflections).
		cx, cy, _ := darkBlob(half, halfRefl, seed.x, seed.y, float32(seed.v)+PupilDarkDelta, PupilMaxRadius)
		starts := [][2]int{{seed.x, seed.y}}
		if bx, by := int(math.Round(cx)), int(math.Round(cy)); abs(bx-seed.x)+abs(by-seed.y) > PupilCenterSearch/2 {
			starts = append(starts, [2]int{bx, by})
		}
		best := scoredCircle{score: math.Inf(-1)}
		for _, st := range starts {
			c, _ := search(half, darkest, st[0], st[1], PupilCenterSearch/2, 2, r0, r1, halfRings)
			c, score := search(half, darkest, int(c.X), int(c.Y), 1, 1, r0, r1, halfRings)
			if score > best.score && c.R > 0 {
				best = scoredCircle{c, score}
			}
		}
		if best.score < 5 {
			continue
		}
		dup := false
		for i, o := range cands {
			if math.Hypot(o.X-best.X, o.Y-best.Y) < math.Max(o.R, best.R) {
				dup = true
				if best.score > o.score {
					cands[i] = best
				}
			}
		}
		if !dup {
			cands = append(cands, best)
		}
	}
	if len(cands) == 0 {
		return nil, failf("no pupil found")
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	for i, cand := range cands {
		c := cand.scaled(2)
		r0, r1 = max(PupilMinRadius, int(c.R)-4), min(PupilMaxRadius, int(c.R)+4)
		if fine, _ := search(g, darkest, int(math.Round(c.X)), int(math.Round(c.Y)), 2, 1, r0, r1, fullRings); fine.R > 0 {
			c = fine
		}
		cands[i].circle = refinedPupil(g, refinedPupil(g, c))
	}
	return cands, nil
}

// scoredCircle is a candidate boundary and the score it was chosen by.
type scoredCircle struct {
	circle
	score float64
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// darkDiscEdge scores the circles centred at (cx, cy) with radii in
// [r0, r1] as pupils: the rise of the circular mean across the circle (over
// ±2 pixels) in the third weakest of PupilSectors sectors (a dark clump of
// lashes rises on some sides only; a pupil all round), less the excess of
// the disc's mean inside 0.8 r over darkest, the image's darkest level. It
// returns the best radius and its score.
func darkDiscEdge(g *grid, cx, cy, darkest float64, r0, r1 int, rg *rings, buf []float64) (int, float64, []float64) {
	const step = 2
	n := r1 + step + 1
	if cap(buf) < n*(PupilSectors+1) {
		buf = make([]float64, n*(PupilSectors+1))
	}
	buf = buf[:n*(PupilSectors+1)]
	means, sectors := buf[:n], buf[n:]
	x0, y0 := int(math.Round(cx)), int(math.Round(cy))
	per := rg.n / PupilSectors
	for r := 0; r < n; r++ {
		var all float32
		total := 0
		for sct := 0; sct < PupilSectors; sct++ {
			sum, k := rg.ringSum(g, x0, y0, r, sct*per, (sct+1)*per)
			if k*2 < per {
				sectors[sct*n+r] = math.NaN()
			} else {
				sectors[sct*n+r] = float64(sum) / float64(k)
			}
			all += sum
			total += k
		}
		if total*2 < rg.n {
			means[r] = math.NaN()
		} else {
			means[r] = float64(all) / float64(total)
		}
	}
	bestR, best := 0, math.Inf(-1)
	var sumW, sumM float64
	k := 0
	var rises [PupilSectors]float64
	for r := r0; r <= r1; r++ {
		// Inside: rings 0..0.8 r weighted by their circumference.
		for ; k <= r*4/5; k++ {
			m := means[k]
			if math.IsNaN(m) {
				continue
			}
			w := float64(max(k, 1))
			sumW += w
			sumM += w * m
		}
		if sumW == 0 {
			continue
		}
		for sct := range rises {
			rises[sct] = sectors[sct*n+r+step] - sectors[sct*n+r-step]
			if math.IsNaN(rises[sct]) {
				rises[sct] = math.Inf(-1)
			}
		}
		sort.Float64s(rises[:])
		if d := rises[2] - math.Max(sumM/sumW-darkest, 0); d > best {
			bestR, best = r, d
		}
	}
	return bestR, best, buf
}

// seed is a candidate pupil position and its darkness.
type seed struct {
	x, y int
	v    float64
}

// darkSeeds returns the n darkest discs of half-size PupilSeedHalf/2 of g
// (the image at half resolution), at least PupilSeedHalf+PupilMinRadius/2
// pixels apart, darkest first.
func darkSeeds(g *grid, n int) []seed {
	s := g.integral()
	h := PupilSeedHalf / 2
	margin := PupilMinRadius / 2
	var all []seed
	for y := margin; y < g.h-margin; y++ {
		for x := margin; x < g.w-margin; x++ {
			all = append(all, seed{x, y, boxMean(s, g.w, g.h, x-h, y-h, x+h+1, y+h+1)})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	sep := PupilSeedHalf + PupilMinRadius/2
	var out []seed
	for _, c := range all {
		far := true
		for _, o := range out {
			if abs(c.x-o.x) < sep && abs(c.y-o.y) < sep {
				far = false
				break
			}
		}
		if far {
			out = append(out, c)
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// refinedPupil fits a circle to the strongest radial edges along rays from
// the centre, which follows non-circular pupils better than the
// integro-differential circle, rejecting outliers.
func refinedPupil(g *grid, c circle) circle {
	return refinedPupilOutside(g, c, nil)
}

// refinedPupilOutside is refinedPupil with the edges that hidden reports
// dropped (pupil edges under an eyelid are the lid's margin); when no edge
// is hidden it returns c.
func refinedPupilOutside(g *grid, c circle, hidden func(x, y float64) bool) circle {
	const rays = 64
	xs := make([]float64, 0, rays)
	ys := make([]float64, 0, rays)
	dropped := 0
	for i := 0; i < rays; i++ {
		a := 2 * math.Pi * float64(i) / rays
		ca, sa := math.Cos(a), math.Sin(a)
		bestR, best := -1.0, 0.0
		for r := c.R - 8; r <= c.R+8; r += 0.5 {
			v0, ok0 := g.at(c.X+(r-1.5)*ca, c.Y+(r-1.5)*sa)
			v1, ok1 := g.at(c.X+(r+1.5)*ca, c.Y+(r+1.5)*sa)
			if !ok0 || !ok1 {
				continue
			}
			if d := float64(v1 - v0); d > best {
				bestR, best = r, d
			}
		}
		if bestR > 0 {
			x, y := c.X+bestR*ca, c.Y+bestR*sa
			if hidden != nil && hidden(x, y) {
				dropped++
				continue
			}
			xs = append(xs, x)
			ys = append(ys, y)
		}
	}
	if len(xs) < rays/2 || (hidden != nil && dropped == 0) {
		return c
	}
	fit, ok := fitCircle(xs, ys)
	if !ok {
		return c
	}
	// Drop points more than 1.5 px off, refit once.
	var fx, fy []float64
	for i := range xs {
		if math.Abs(math.Hypot(xs[i]-fit.X, ys[i]-fit.Y)-fit.R) < 1.5 {
			fx, fy = append(fx, xs[i]), append(fy, ys[i])
		}
	}
	if len(fx) >= rays/2 {
		if f2, ok := fitCircle(fx, fy); ok {
			fit = f2
		}
	}
	if math.Hypot(fit.X-c.X, fit.Y-c.Y) > 6 || math.Abs(fit.R-c.R) > 6 {
		return c
	}
	return fit
}

// fitCircle is the algebraic (Kåsa) least-squares circle through the points.
func fitCircle(xs, ys []float64) (circle, bool) {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var suu, svv, suv, suuu, svvv, suvv, svuu float64
	for i := range xs {
		u, v := xs[i]-mx, ys[i]-my
		suu += u * u
		svv += v * v
		suv += u * v
		suuu += u * u * u
		svvv += v * v * v
		suvv += u * v * v
		svuu += v * u * u
	}
	det := suu*svv - suv*suv
	if math.Abs(det) < 1e-9 {
		return circle{}, false
	}
	b1 := (suuu + suvv) / 2
	b2 := (svvv + svuu) / 2
	uc := (b1*svv - b2*suv) / det
	vc := (suu*b2 - suv*b1) / det
	r := math.Sqrt(uc*uc + vc*vc + (suu+svv)/n)
	return circle{mx + uc, my + vc, r}, true
}

// limbusGrid is the image the limbus is searched in, blurred again, with the
// rings of its two lateral arcs; it is made once for every pupil candidate.
type limbusGrid struct {
	g           *grid
	right, left *rings
}

func newLimbusGrid(g *grid) limbusGrid {
	up, down := float64(IrisArcUp), float64(IrisArcDown)
	rc, rs := arcs(CircleSamples, [2]float64{-up, down})
	lc, ls := arcs(CircleSamples, [2]float64{180 - down, 180 + up})
	return limbusGrid{g.blurred(1.5), newRings(rc, rs, IrisMaxRadius+limbusStep, g.w), newRings(lc, ls, IrisMaxRadius+limbusStep, g.w)}
}

// limbusStep is the half-width in pixels of the limbus's radial derivative.
const limbusStep = 3

// limbusBoundary finds the iris/sclera boundary with the integro-differential
// operator on the lateral arcs, which eyelids rarely cover.
func limbusBoundary(lg limbusGrid, p circle) (circle, float64, error) {
	// The limbus must rise on both sides: scoring the weaker side keeps a
	// decentred circle from borrowing one side's inner-iris edges.
	r0 := max(int(p.R*IrisMinRatio), int(p.R)+10, IrisMinRadius)
	r1 := min(int(p.R*IrisMaxRatio), IrisMaxRadius)
	if r1 <= r0 {
		return circle{}, 0, failf("pupil radius %.0f leaves no room for an iris", p.R)
	}
	g2 := lg.g
	const step = limbusStep
	// Each lateral arc is split into LimbusSectors sectors and a side rises
	// by its LimbusSectorRank-th weakest sector: an eyelid or lashes that
	// cross the ends of an arc rise in one sector only, the limbus in all.
	per := lg.right.n / LimbusSectors
	sideRings := [2]*rings{lg.right, lg.left}
	var means [2][LimbusSectors][]float64
	var rises [LimbusSectors]float64
	var prof []float64
	oneSided := false
	sideRise := func(side, i int) float64 {
		nan := 0
		for sct := range rises {
			m := means[side][sct]
			rises[sct] = m[i+step] - m[i-step]
			if math.IsNaN(rises[sct]) {
				nan++
				rises[sct] = math.Inf(-1)
			}
		}
		if nan*2 > LimbusSectors {
			return math.NaN()
		}
		sort.Float64s(rises[:])
		return rises[LimbusSectorRank-1]
	}
	search := func(x0, y0 float64, span, stride int) (circle, float64) {
		var c circle
		score := math.Inf(-1)
		for dy := -span; dy <= span; dy += stride {
			for dx := -span; dx <= span; dx += stride {
				x, y := x0+float64(dx), y0+float64(dy)
				for side, rg := range sideRings {
					for sct := 0; sct < LimbusSectors; sct++ {
						means[side][sct] = circleMeans(g2, x, y, r0-step, r1+step, rg, sct*per, (sct+1)*per, means[side][sct])
					}
				}
				// The outermost rise at least LimbusPeakFraction of the
				// strongest: the collarette inside the iris can rise as
				// steeply as the limbus.
				prof = prof[:0]
				top := math.Inf(-1)
				for r := r0; r <= r1; r++ {
					i := r - (r0 - step)
					dr, dl := sideRise(0, i), sideRise(1, i)
					d := math.Min(dr, dl)
					if oneSided {
						// Only one side inside the frame scores.
						switch {
						case math.IsNaN(dl):
							d = dr
						case math.IsNaN(dr):
							d = dl
						default:
							d = math.NaN()
						}
					}
					if math.IsNaN(d) {
						d = math.Inf(-1)
					}
					prof = append(prof, d)
					top = math.Max(top, d)
				}
				for k := len(prof) - 1; k >= 0; k-- {
					d := prof[k]
					if d < LimbusPeakFraction*top || (k+1 < len(prof) && prof[k+1] > d) {
						continue
					}
					if d > score {
						c, score = circle{x, y, float64(r0 + k)}, d
					}
					break
				}
			}
		}
		return c, score
	}
	c, score := search(math.Round(p.X), math.Round(p.Y), IrisCenterSearch, 2)
	c, score = search(c.X, c.Y, 1, 1)
	// An eye at the edge of the frame has one lateral arc outside the
	// image beyond some radius, where the search above cannot look: search
	// those radii again on the arc that is inside, centred on the pupil
	// (one arc cannot tell the centre from the radius), and take that
	// circle when it rises LimbusOneSidedGain times more steeply.
	oneSided = true
	if c1, s1 := search(math.Round(p.X), math.Round(p.Y), 0, 1); c1.R > c.R && s1 > LimbusOneSidedGain*math.Max(score, 0) {
		c, score = c1, s1
	}
	if score < 3 || c.R == 0 {
		return circle{}, 0, failf("no limbus found")
	}
	return c, score, nil
}

// parabola is an eyelid boundary y = A·(x−X0)² + B·(x−X0) + C in image
// coordinates; Ok is false when no eyelid crosses the iris.
type parabola struct {
	A, B, C, X0 float64
	Ok          bool
}

func (p parabola) y(x float64) float64 {
	d := x - p.X0
	return p.A*d*d + p.B*d + p.C
}

// eyelids are the upper and lower eyelid boundaries.
type eyelids struct{ Upper, Lower parabola }

// scaled returns the eyelids in an image factor times larger.
func (e eyelids) scaled(factor int) eyelids {
	f := float64(factor)
	scale := func(p parabola) parabola {
		// y' = f·y(x'/f) with the pixel-centre offset of circle.scaled.
		x0 := (p.X0+0.5)*f - 0.5
		return parabola{A: p.A / f, B: p.B, C: (p.C+0.5)*f - 0.5, X0: x0, Ok: p.Ok}
	}
	return eyelids{scale(e.Upper), scale(e.Lower)}
}

// covered reports whether (x, y) lies under an eyelid.
func (e eyelids) covered(x, y float64) bool {
	return (e.Upper.Ok && y < e.Upper.y(x)) || (e.Lower.Ok && y > e.Lower.y(x))
}

// within reports whether (x, y) lies under an eyelid or less than margin
// pixels outside it.
func (e eyelids) within(x, y, margin float64) bool {
	return (e.Upper.Ok && y < e.Upper.y(x)+margin) || (e.Lower.Ok && y > e.Lower.y(x)-margin)
}

// eyelidBoundaries finds the eyelids as parabolas through the strongest
// vertical edges between the pupil and the limbus, fitted robustly.
func eyelidBoundaries(g *grid, p, l circle) eyelids {
	g2 := g.blurred(2)
	return eyelids{
		Upper: eyelid(g2, p, l, -1),
		Lower: eyelid(g2, p, l, +1),
	}
}

// eyelid finds one eyelid: side −1 above the pupil, +1 below.
func eyelid(g *grid, p, l circle, side float64) parabola {
	var xs, ys, ws []float64
	for x := l.X - 0.85*l.R; x <= l.X+0.85*l.R; x += 2 {
		dx := x - l.X
		half := math.Sqrt(max(l.R*l.R-dx*dx, 0))
		// Search from just inside the limbus to just outside the pupil
		// (or to the limbus centre line beside it).
		yFar := l.Y + side*(half-3)
		yNear := l.Y + side*4
		if pd := math.Abs(x - p.X); pd < p.R+3 {
			yNear = p.Y + side*(math.Sqrt(max((p.R+3)*(p.R+3)-pd*pd, 0))+3)
		}
		lo, hi := math.Min(yNear, yFar), math.Max(yNear, yFar)
		bestY, best := 0.0, 0.0
		for y := lo; y <= hi; y++ {
			a, ok0 := g.at(x, y-2)
			b, ok1 := g.at(x, y+2)
			if !ok0 || !ok1 {
				continue
			}
			if d := math.Abs(float64(b - a)); d > best {
				bestY, best = y, d
			}
		}
		if best > 0 {
			xs, ys, ws = append(xs, x), append(ys, bestY), append(ws, best)
		}
	}
	if len(xs) < 10 {
		return parabola{}
	}
	sorted := append([]float64(nil), ws...)
	sort.Float64s(sorted)
	median := sorted[len(sorted)/2]
	// RANSAC over deterministic triples.
	var best parabola
	bestScore := 0.0
	n := len(xs)
	for i := 0; i < n; i += 2 {
		for j := i + n/4; j < n; j += 3 {
			for k := j + n/8; k < n; k += 3 {
				par, ok := parabolaThrough(l.X, xs[i], ys[i], xs[j], ys[j], xs[k], ys[k])
				if !ok || side*par.A > 0 || math.Abs(par.A) > EyelidMaxCurvature {
					continue
				}
				score := 0.0
				for m := range xs {
					if math.Abs(par.y(xs[m])-ys[m]) < 2.5 {
						score += ws[m]
					}
				}
				if score > bestScore && spansPupil(par, p, xs, ys) {
					best, bestScore = par, score
				}
			}
		}
	}
	// Accept when the inliers carry a good part of the edge strength and the
	// edge is clearly stronger than texture.
	var total float64
	for _, w := range ws {
		total += w
	}
	inliers := 0
	for m := range xs {
		if math.Abs(best.y(xs[m])-ys[m]) < 2.5 {
			inliers++
		}
	}
	if bestScore < 0.4*total || inliers < n/3 || median < 4 {
		return parabola{}
	}
	best.Ok = true
	return best
}

// spansPupil reports whether an eyelid candidate is supported by edge
// points (within the RANSAC tolerance) on both sides of the pupil, beyond
// its columns: a lid crosses the whole iris, while the blurred pupil edge,
// or the far side of an upper lid that sags below the pupil's centre, only
// gives edges over the pupil's columns or on one side. Each side needs
// EyelidSideSupport of its edge points on the curve (a side with fewer
// than 3 points is not counted against the candidate).
func spansPupil(par parabola, p circle, xs, ys []float64) bool {
	var n, in [2]int
	for m, x := range xs {
		side := 0
		switch {
		case x < p.X-p.R-3:
		case x > p.X+p.R+3:
			side = 1
		default:
			continue
		}
		n[side]++
		if math.Abs(par.y(x)-ys[m]) < 2.5 {
			in[side]++
		}
	}
	for k := range n {
		if n[k] >= 3 && float64(in[k]) < EyelidSideSupport*float64(n[k]) {
			return false
		}
	}
	return true
}

// parabolaThrough returns the parabola through three points, centred at x0.
func parabolaThrough(x0, x1, y1, x2, y2, x3, y3 float64) (parabola, bool) {
	u1, u2, u3 := x1-x0, x2-x0, x3-x0
	d := (u1 - u2) * (u1 - u3) * (u2 - u3)
	if math.Abs(d) < 1e-9 {
		return parabola{}, false
	}
	a := (u3*(y2-y1) + u2*(y1-y3) + u1*(y3-y2)) / d
	b := (u3*u3*(y1-y2) + u2*u2*(y3-y1) + u1*u1*(y2-y3)) / d
	c := (u2*u3*(u2-u3)*y1 + u3*u1*(u3-u1)*y2 + u1*u2*(u1-u2)*y3) / d
	return parabola{A: a, B: b, C: c, X0: x0}, true
}

// darkBlob grows the region darker than threshold from the seed (within
// maxRadius of it) and returns its centroid and equivalent radius.
func darkBlob(g, reflections *grid, sx, sy int, threshold float32, maxRadius int) (cx, cy, r float64) {
	seen := make([]bool, len(g.v))
	stack := []int{sy*g.w + sx}
	seen[stack[0]] = true
	var n, mx, my float64
	lim := maxRadius * maxRadius
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%g.w, i/g.w
		n++
		mx += float64(x)
		my += float64(y)
		for _, d := range [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			xx, yy := x+d[0], y+d[1]
			if xx < 0 || yy < 0 || xx >= g.w || yy >= g.h {
				continue
			}
			j := yy*g.w + xx
			if seen[j] || (g.v[j] > threshold && reflections.v[j] == 0) || (xx-sx)*(xx-sx)+(yy-sy)*(yy-sy) > lim {
				continue
			}
			seen[j] = true
			stack = append(stack, j)
		}
	}
	return mx / n, my / n, math.Sqrt(n / math.Pi)
}

// eyelashMask marks thin dark structures (eyelashes) inside the square
// around the limbus as the amount by which a grey closing (max then min
// filter over a square of EyelashRadius) lifts each pixel; the iris texture
// is lifted much less.
func eyelashMask(g *grid, l circle) *grid {
	m := int(l.R) + 2*EyelashRadius + 2
	x0, y0 := max(0, int(l.X)-m), max(0, int(l.Y)-m)
	x1, y1 := min(g.w, int(l.X)+m+1), min(g.h, int(l.Y)+m+1)
	out := newGrid(g.w, g.h)
	if x1 <= x0 || y1 <= y0 {
		return out
	}
	crop := newGrid(x1-x0, y1-y0)
	for y := y0; y < y1; y++ {
		copy(crop.v[(y-y0)*crop.w:(y-y0+1)*crop.w], g.v[y*g.w+x0:y*g.w+x1])
	}
	closed := crop.filtered(EyelashRadius, true).filtered(EyelashRadius, false)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			i := (y-y0)*crop.w + x - x0
			if float64(closed.v[i]-crop.v[i]) > EyelashContrast {
				out.v[y*g.w+x] = 1
			}
		}
	}
	return out
}

// filtered returns the running max (dilate) or min of g over a square of
// radius r, computed separably.
func (g *grid) filtered(r int, dilate bool) *grid {
	tmp := newGrid(g.w, g.h)
	extreme := func(dst []float32, src []float32, stride, n int) {
		for i := 0; i < n; i++ {
			v := src[i*stride]
			for j := max(0, i-r); j <= min(n-1, i+r); j++ {
				if w := src[j*stride]; (w > v) == dilate && w != v {
					v = w
				}
			}
			dst[i*stride] = v
		}
	}
	for y := 0; y < g.h; y++ {
		extreme(tmp.v[y*g.w:], g.v[y*g.w:], 1, g.w)
	}
	out := newGrid(g.w, g.h)
	for x := 0; x < g.w; x++ {
		extreme(out.v[x:], tmp.v[x:], g.w, g.h)
	}
	return out
}
