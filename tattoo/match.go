package tattoo

import (
	"math"
	"math/rand/v2"
)

// Match pairs keypoint Probe of one template with keypoint Candidate of
// another.
type Match struct {
	Probe, Candidate int
	// Distance is the Hamming distance of their descriptors.
	Distance int
}

// Similarity maps probe coordinates to candidate coordinates:
// x' = Scale·(cos θ·x − sin θ·y) + Tx, y' = Scale·(sin θ·x + cos θ·y) + Ty.
type Similarity struct {
	Scale, Angle, Tx, Ty float64
}

// Apply maps a probe point into the candidate's normalised crop.
func (s Similarity) Apply(x, y float64) (float64, float64) {
	c, n := s.Scale*math.Cos(s.Angle), s.Scale*math.Sin(s.Angle)
	return c*x - n*y + s.Tx, n*x + c*y + s.Ty
}

// Comparison is the outcome of comparing two templates.
type Comparison struct {
	// Score is the similarity: the number of geometrically verified
	// matches, 0 when fewer than minInliers agree.
	Score float64
	// Inliers are the verified matches, for the examiner to see.
	Inliers []Match
	// Transform maps the probe's crop onto the candidate's.
	Transform Similarity
	// Tentative is the number of descriptor matches verification started from.
	Tentative int
}

// Compare matches the descriptors of probe and candidate and verifies the
// matches geometrically. Malformed templates (keypoints and descriptors of
// different lengths) score 0.
func Compare(probe, candidate *Template) Comparison {
	if probe == nil || candidate == nil || len(probe.Keypoints) != len(probe.Descriptors) ||
		len(candidate.Keypoints) != len(candidate.Descriptors) {
		return Comparison{}
	}
	matches := matchDescriptors(probe.Descriptors, candidate.Descriptors)
	return verifyMatches(probe, candidate, matches)
}

// matchDescriptors finds for each probe descriptor its nearest candidate
// descriptor and keeps it when it passes the ratio test and the distance
// bound; a candidate keypoint claimed twice keeps its closer match.
func matchDescriptors(p, c []Descriptor) []Match {
	if len(p) == 0 || len(c) < 2 {
		return nil
	}
	best := make([]int32, len(c)) // index+1 of the match that claimed candidate j
	var out []Match
	for i := range p {
		d := &p[i]
		b1, b2, j1 := 257, 257, -1
		for j := range c {
			dist := d.Distance(&c[j])
			if dist < b2 {
				if dist < b1 {
					b1, b2, j1 = dist, b1, j
				} else {
					b2 = dist
				}
			}
		}
		if b1 > matchMaxDistance || float64(b1) > matchRatio*float64(b2) {
			continue
		}
		if k := best[j1]; k != 0 {
			if out[k-1].Distance <= b1 {
				continue
			}
			out[k-1].Distance = 1 << 30 // superseded
		}
		out = append(out, Match{Probe: i, Candidate: j1, Distance: b1})
		best[j1] = int32(len(out))
	}
	kept := out[:0]
	for _, m := range out {
		if m.Distance < 1<<30 {
			kept = append(kept, m)
		}
	}
	return kept
}

// verifyMatches runs RANSAC over similarity transforms drawn from pairs of
// matches, counts as inliers the matches that land within ransacTolerance
// and whose orientations agree with the rotation, refits on the inliers and
// returns the best consensus.
func verifyMatches(probe, candidate *Template, matches []Match) Comparison {
	n := len(matches)
	if n < minInliers {
		return Comparison{Tentative: n}
	}
	pts := make([][4]float64, n)
	angles := make([][2]float64, n)
	for i, m := range matches {
		a, b := probe.Keypoints[m.Probe], candidate.Keypoints[m.Candidate]
		pts[i] = [4]float64{float64(a.X), float64(a.Y), float64(b.X), float64(b.Y)}
		d := float64(b.Angle - a.Angle)
		angles[i] = [2]float64{math.Cos(d), math.Sin(d)}
	}
	rng := rand.New(rand.NewPCG(uint64(n), 0x7a7700))
	var best Similarity
	bestCount := 0
	try := func(i, j int) {
		s, ok := similarityFrom2(pts[i], pts[j])
		if !ok || s.Scale < minScale || s.Scale > maxScale {
			return
		}
		if !anglesAgree(angles[i], s.Angle) || !anglesAgree(angles[j], s.Angle) {
			return
		}
		if c := countInliers(s, pts, angles, nil); c > bestCount {
			bestCount, best = c, s
		}
	}
	if pairs := n * (n - 1) / 2; pairs <= ransacIterations {
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				try(i, j)
			}
		}
	} else {
		for it := 0; it < ransacIterations; it++ {
			i := rng.IntN(n)
			j := rng.IntN(n - 1)
			if j >= i {
				j++
			}
			try(i, j)
		}
	}
	if bestCount < 2 {
		return Comparison{}
	}
	// Refit on the consensus set, twice, then collect the final inliers.
	for range 2 {
		var in []int
		countInliers(best, pts, angles, &in)
		if s, ok := similarityLeastSquares(pts, in); ok && s.Scale >= minScale && s.Scale <= maxScale {
			if c := countInliers(s, pts, angles, nil); c >= bestCount {
				best, bestCount = s, c
			}
		}
	}
	var in []int
	countInliers(best, pts, angles, &in)
	if len(in) < minInliers {
		return Comparison{}
	}
	inliers := make([]Match, len(in))
	for k, i := range in {
		inliers[k] = matches[i]
	}
	return Comparison{Score: float64(len(in)), Inliers: inliers, Transform: best, Tentative: n}
}

// cosOrientationTolerance is the cosine of orientationTolerance.
var cosOrientationTolerance = math.Cos(orientationTolerance)

// anglesAgree reports whether a keypoint orientation change d (as a unit
// vector) agrees with the rotation a within orientationTolerance.
func anglesAgree(d [2]float64, a float64) bool {
	return d[0]*math.Cos(a)+d[1]*math.Sin(a) > cosOrientationTolerance
}

func countInliers(s Similarity, pts [][4]float64, angles [][2]float64, in *[]int) int {
	cs, sn := math.Cos(s.Angle), math.Sin(s.Angle)
	c, n := s.Scale*cs, s.Scale*sn
	tol2 := ransacTolerance * ransacTolerance
	count := 0
	for i, p := range pts {
		dx := c*p[0] - n*p[1] + s.Tx - p[2]
		dy := n*p[0] + c*p[1] + s.Ty - p[3]
		if dx*dx+dy*dy <= tol2 && angles[i][0]*cs+angles[i][1]*sn > cosOrientationTolerance {
			count++
			if in != nil {
				*in = append(*in, i)
			}
		}
	}
	return count
}

// similarityFrom2 solves the similarity taking two probe points to their
// candidate points.
func similarityFrom2(p, q [4]float64) (Similarity, bool) {
	ux, uy := q[0]-p[0], q[1]-p[1]
	vx, vy := q[2]-p[2], q[3]-p[3]
	l := ux*ux + uy*uy
	if l < 16 {
		return Similarity{}, false
	}
	// (a + ib)·u = v with a = s cos θ, b = s sin θ.
	a := (ux*vx + uy*vy) / l
	b := (ux*vy - uy*vx) / l
	s := Similarity{Scale: math.Hypot(a, b), Angle: math.Atan2(b, a)}
	s.Tx = p[2] - (a*p[0] - b*p[1])
	s.Ty = p[3] - (b*p[0] + a*p[1])
	return s, true
}

// similarityLeastSquares fits a similarity to the listed matches.
func similarityLeastSquares(pts [][4]float64, idx []int) (Similarity, bool) {
	if len(idx) < 2 {
		return Similarity{}, false
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
	var sxx, sab, sba float64
	for _, i := range idx {
		x, y := pts[i][0]-mx, pts[i][1]-my
		u, v := pts[i][2]-nx, pts[i][3]-ny
		sxx += x*x + y*y
		sab += x*u + y*v
		sba += x*v - y*u
	}
	if sxx < 1e-9 {
		return Similarity{}, false
	}
	a, b := sab/sxx, sba/sxx
	s := Similarity{Scale: math.Hypot(a, b), Angle: math.Atan2(b, a)}
	s.Tx = nx - (a*mx - b*my)
	s.Ty = ny - (b*mx + a*my)
	return s, true
}
