package tattoo

import "math"

// Affine maps probe coordinates to candidate coordinates:
// x' = A11·x + A12·y + Tx, y' = A21·x + A22·y + Ty.
type Affine struct {
	A11, A12, A21, A22, Tx, Ty float64
}

// Apply maps a probe point into the candidate's normalised crop.
func (a Affine) Apply(x, y float64) (float64, float64) {
	return a.A11*x + a.A12*y + a.Tx, a.A21*x + a.A22*y + a.Ty
}

// Affine returns the similarity as an affine map.
func (s Similarity) Affine() Affine {
	c, n := s.Scale*math.Cos(s.Angle), s.Scale*math.Sin(s.Angle)
	return Affine{A11: c, A12: -n, A21: n, A22: c, Tx: s.Tx, Ty: s.Ty}
}

// singularValues returns the larger and smaller singular values of the
// linear part, signed by the determinant's sign on the smaller.
func (a Affine) singularValues() (float64, float64) {
	// σ1,2 = (√((a+d)²+(c−b)²) ± √((a−d)²+(b+c)²)) / 2
	p := math.Hypot(a.A11+a.A22, a.A21-a.A12)
	q := math.Hypot(a.A11-a.A22, a.A21+a.A12)
	s1, s2 := (p+q)/2, (p-q)/2 // s2 < 0 for a reflection
	return s1, s2
}

// plausible reports whether the linear part is a viewpoint change the
// engine accepts: no reflection, scales within [minScale, maxScale], and
// an anisotropy (ratio of the singular values) of at most maxAnisotropy.
func (a Affine) plausible() bool {
	s1, s2 := a.singularValues()
	return s2 > 0 && s2 >= minScale && s1 <= maxScale && s1 <= maxAnisotropy*s2
}

// verifyData holds one comparison's tentative matches in the form the
// geometric models need.
type verifyData struct {
	pts [][4]float64 // probe x, y, candidate x, y
	dir [][4]float64 // probe orientation cos, sin; candidate cos, sin
}

// agrees reports whether match i lands within tolerance under a and its
// probe orientation, mapped by a, points along the candidate's.
func (v *verifyData) agrees(a *Affine, i int, tol2 float64) bool {
	p := &v.pts[i]
	dx := a.A11*p[0] + a.A12*p[1] + a.Tx - p[2]
	dy := a.A21*p[0] + a.A22*p[1] + a.Ty - p[3]
	if dx*dx+dy*dy > tol2 {
		return false
	}
	return v.orientationAgrees(a, i)
}

// orientationAgrees reports whether match i's probe orientation, carried
// by a, points along its candidate orientation within orientationTolerance.
func (v *verifyData) orientationAgrees(a *Affine, i int) bool {
	d := &v.dir[i]
	ux := a.A11*d[0] + a.A12*d[1]
	uy := a.A21*d[0] + a.A22*d[1]
	n := math.Hypot(ux, uy)
	return n > 0 && (ux*d[2]+uy*d[3]) > cosOrientationTolerance*n
}

// count returns the number of matches that agree with a within the
// squared tolerance tol2, appending their indices to in when it is set.
func (v *verifyData) count(a *Affine, tol2 float64, in *[]int) int {
	c := 0
	for i := range v.pts {
		if v.agrees(a, i, tol2) {
			c++
			if in != nil {
				*in = append(*in, i)
			}
		}
	}
	return c
}

// affineLeastSquares fits an affine map to the listed matches; ok is false
// when their probe points are (nearly) collinear, so that the fit would be
// unconstrained across the line.
func affineLeastSquares(pts [][4]float64, idx []int) (Affine, bool) {
	if len(idx) < 3 {
		return Affine{}, false
	}
	var mx, my, nx, ny float64
	for _, i := range idx {
		mx += pts[i][0]
		my += pts[i][1]
		nx += pts[i][2]
		ny += pts[i][3]
	}
	k := float64(len(idx))
	mx, my, nx, ny = mx/k, my/k, nx/k, ny/k
	var sxx, sxy, syy, sux, suy, svx, svy float64
	for _, i := range idx {
		x, y := pts[i][0]-mx, pts[i][1]-my
		u, v := pts[i][2]-nx, pts[i][3]-ny
		sxx += x * x
		sxy += x * y
		syy += y * y
		sux += u * x
		suy += u * y
		svx += v * x
		svy += v * y
	}
	det := sxx*syy - sxy*sxy
	// The smaller eigenvalue of the scatter, per point, is the variance
	// across the points' main line: demand minSpread pixels of it.
	tr := sxx + syy
	minor := (tr - math.Sqrt(math.Max(0, tr*tr-4*det))) / 2
	if minor/k < minSpread*minSpread {
		return Affine{}, false
	}
	a := Affine{
		A11: (sux*syy - suy*sxy) / det,
		A12: (suy*sxx - sux*sxy) / det,
		A21: (svx*syy - svy*sxy) / det,
		A22: (svy*sxx - svx*sxy) / det,
	}
	a.Tx = nx - (a.A11*mx + a.A12*my)
	a.Ty = ny - (a.A21*mx + a.A22*my)
	return a, true
}

// verifyMatches is the geometric verification. Every tentative match
// proposes the similarity its own two keypoints imply (rotation from their
// orientations, scale from their pyramid levels, translation from their
// positions); the seedRefinements proposals that gather the most matches
// within twice ransacTolerance are refined by least squares (a similarity
// on that consensus, then affine fits on the consensus at ransacTolerance
// for as long as they gain inliers), each affine fit kept only when its
// inliers are spread across two dimensions and it is a plausible view
// (Affine.plausible). An inlier lands within ransacTolerance and its probe
// orientation, carried by the map, points along the candidate's.
//
// The score is the inlier count less chanceInliers, so comparisons whose
// matches pile up in one busy patch do not outscore spread, precise ones.
// Drawing random pairs or triples of matches (RANSAC) was measured too:
// with 5–10% inliers among ~200 tentative matches, 500 draws found the
// consensus unreliably and added nothing over the one-match proposals.
func verifyMatches(probe, candidate *Template, matches []Match) Comparison {
	n := len(matches)
	if n < minInliers {
		return Comparison{Tentative: n}
	}
	v := verifyData{pts: make([][4]float64, n), dir: make([][4]float64, n)}
	levelDiff := make([]int, n)
	for i, m := range matches {
		a, b := probe.Keypoints[m.Probe], candidate.Keypoints[m.Candidate]
		levelDiff[i] = int(b.Level) - int(a.Level)
		v.pts[i] = [4]float64{float64(a.X), float64(a.Y), float64(b.X), float64(b.Y)}
		sa, ca := math.Sincos(float64(a.Angle))
		sb, cb := math.Sincos(float64(b.Angle))
		v.dir[i] = [4]float64{ca, sa, cb, sb}
	}
	type proposal struct {
		a     Affine
		count int
	}
	var top [seedRefinements]proposal
	loose := 4 * ransacTolerance * ransacTolerance
	// rot[i] is the rotation, as a unit vector, taking match i's probe
	// orientation onto its candidate orientation: under a similarity of
	// rotation r, match j's orientations agree when rot[j]·r > cos tolerance.
	rot := make([][2]float64, n)
	for i, d := range v.dir {
		rot[i] = [2]float64{d[0]*d[2] + d[1]*d[3], d[0]*d[3] - d[1]*d[2]}
	}
	for i := range n {
		scale := math.Pow(pyramidScale, float64(levelDiff[i]))
		c, sn := scale*rot[i][0], scale*rot[i][1]
		p := &v.pts[i]
		a := Affine{A11: c, A12: -sn, A21: sn, A22: c}
		a.Tx = p[2] - (c*p[0] - sn*p[1])
		a.Ty = p[3] - (sn*p[0] + c*p[1])
		count := 0
		for j := range n {
			if rot[j][0]*rot[i][0]+rot[j][1]*rot[i][1] <= cosOrientationTolerance {
				continue
			}
			q := &v.pts[j]
			dx := c*q[0] - sn*q[1] + a.Tx - q[2]
			dy := sn*q[0] + c*q[1] + a.Ty - q[3]
			if dx*dx+dy*dy <= loose {
				count++
			}
		}
		for k := range top {
			if count > top[k].count {
				copy(top[k+1:], top[k:len(top)-1])
				top[k] = proposal{a, count}
				break
			}
		}
	}
	var best Affine
	bestCount := 0
	tol2 := ransacTolerance * ransacTolerance
	for _, pr := range top {
		if pr.count < minInliers {
			break
		}
		var in []int
		v.count(&pr.a, loose, &in)
		s, ok := similarityLeastSquares(v.pts, in)
		if !ok || s.Scale < minScale || s.Scale > maxScale {
			continue
		}
		a := s.Affine()
		count := v.count(&a, tol2, nil)
		for range affineRefinements {
			in = in[:0]
			v.count(&a, tol2, &in)
			f, ok := affineLeastSquares(v.pts, in)
			if !ok || !f.plausible() {
				break
			}
			c := v.count(&f, tol2, nil)
			if c <= count {
				break
			}
			a, count = f, c
		}
		if count > bestCount {
			best, bestCount = a, count
		}
	}
	var in []int
	v.count(&best, tol2, &in)
	if len(in) < minInliers {
		return Comparison{Tentative: n}
	}
	inliers := make([]Match, len(in))
	for k, i := range in {
		inliers[k] = matches[i]
	}
	score := math.Max(0, float64(len(in))-v.chanceInliers(&best))
	return Comparison{Score: score, Inliers: inliers, Transform: best, Tentative: n}
}

// chanceInliers is the number of inliers best would have if the tentative
// matches were paired at random: for each probe point, the share of the
// matches' candidate points that lie within tolerance of where best maps
// it with an agreeing orientation, summed. It counts how crowded the
// candidate's matched points are where the map sends the probe's, so a
// comparison whose matches pile up in one busy patch scores less than one
// whose inliers are spread and precise.
func (v *verifyData) chanceInliers(a *Affine) float64 {
	tol2 := ransacTolerance * ransacTolerance
	n := len(v.pts)
	// Bucket the candidate points in cells of the tolerance's size, so each
	// mapped probe point is compared with the 3×3 cells around it only.
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, q := range v.pts {
		minX, minY = math.Min(minX, q[2]), math.Min(minY, q[3])
		maxX, maxY = math.Max(maxX, q[2]), math.Max(maxY, q[3])
	}
	gw := int((maxX-minX)/ransacTolerance) + 1
	gh := int((maxY-minY)/ransacTolerance) + 1
	start := make([]int32, gw*gh+1)
	cellOf := func(x, y float64) int {
		return int((y-minY)/ransacTolerance)*gw + int((x-minX)/ransacTolerance)
	}
	for _, q := range v.pts {
		start[cellOf(q[2], q[3])+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	order := make([]int32, n)
	fill := append([]int32(nil), start[:gw*gh]...)
	for j, q := range v.pts {
		k := cellOf(q[2], q[3])
		order[fill[k]] = int32(j)
		fill[k]++
	}
	total := 0
	for i := range v.pts {
		p, d := &v.pts[i], &v.dir[i]
		x := a.A11*p[0] + a.A12*p[1] + a.Tx
		y := a.A21*p[0] + a.A22*p[1] + a.Ty
		cx := int(math.Floor((x - minX) / ransacTolerance))
		cy := int(math.Floor((y - minY) / ransacTolerance))
		if cx < -1 || cy < -1 || cx > gw || cy > gh {
			continue
		}
		ux := a.A11*d[0] + a.A12*d[1]
		uy := a.A21*d[0] + a.A22*d[1]
		un := math.Hypot(ux, uy) * cosOrientationTolerance
		for gy := max(cy-1, 0); gy <= min(cy+1, gh-1); gy++ {
			for gx := max(cx-1, 0); gx <= min(cx+1, gw-1); gx++ {
				k := gy*gw + gx
				for _, j := range order[start[k]:start[k+1]] {
					q, e := &v.pts[j], &v.dir[j]
					dx, dy := x-q[2], y-q[3]
					if dx*dx+dy*dy <= tol2 && ux*e[2]+uy*e[3] > un {
						total++
					}
				}
			}
		}
	}
	return float64(total) / float64(n)
}
