package tattoo

import (
	"math"
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
	// matches less the number expected by chance (see verifyMatches), 0
	// when fewer than minInliers agree.
	Score float64
	// Inliers are the verified matches, for the examiner to see.
	Inliers []Match
	// Transform maps the probe's crop onto the candidate's.
	Transform Affine
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

// cosOrientationTolerance is the cosine of orientationTolerance.
var cosOrientationTolerance = math.Cos(orientationTolerance)

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
