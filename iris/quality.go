package iris

import "math"

// measuredQuality measures the usable iris area, the pupil/iris ratio, the
// sharpness of the iris texture and the gaze (pupil–iris decentring).
func measuredQuality(g *grid, p, l circle, t *Template) Quality {
	q := Quality{PupilRatio: p.R / l.R, Gaze: math.Hypot(p.X-l.X, p.Y-l.Y) / l.R}
	valid := 0
	for _, m := range t.Mask {
		valid += popcount(m)
	}
	// The fragile-bit mask removes FragileFraction of the valid bits by design.
	q.UsableFraction = float64(valid) / (CodeBits * (1 - FragileFraction))
	var sum float64
	n := 0
	for y := int(l.Y - l.R); y <= int(l.Y+l.R); y++ {
		for x := int(l.X - l.R); x <= int(l.X+l.R); x++ {
			if x < 1 || y < 1 || x >= g.w-1 || y >= g.h-1 {
				continue
			}
			d := math.Hypot(float64(x)-l.X, float64(y)-l.Y)
			if d < p.R+3 || d > l.R-3 || math.Abs(float64(y)-l.Y) > 0.5*l.R {
				continue
			}
			i := y*g.w + x
			lap := 4*g.v[i] - g.v[i-1] - g.v[i+1] - g.v[i-g.w] - g.v[i+g.w]
			sum += math.Abs(float64(lap))
			n++
		}
	}
	if n > 0 {
		q.Sharpness = sum / float64(n)
	}
	return q
}

// check rejects images whose quality is below the thresholds of params.go.
func (q Quality) check() error {
	switch {
	case q.UsableFraction < MinUsableFraction:
		return failf("usable iris area %.0f%% below %.0f%% (eyelids, reflections or off-angle)", 100*q.UsableFraction, 100*MinUsableFraction)
	case q.PupilRatio < MinPupilRatio || q.PupilRatio > MaxPupilRatio:
		return failf("pupil/iris ratio %.2f outside [%.2f, %.2f]", q.PupilRatio, MinPupilRatio, MaxPupilRatio)
	case q.Gaze > MaxGaze:
		return failf("pupil decentred by %.2f of the iris radius (off-angle gaze)", q.Gaze)
	case q.Sharpness < MinSharpness:
		return failf("sharpness %.2f below %.2f (blurred)", q.Sharpness, MinSharpness)
	}
	return nil
}
