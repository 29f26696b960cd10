package face

import (
	"fmt"
	"image"
	"math"
)

// Quality thresholds (ICAO / ISO/IEC 19794-5 inspired, loosened to what a
// booking photo can meet); see params.go for the pipeline's other constants.
const (
	qualityMinScore     = 0.6  // detection confidence
	qualityMinInterEye  = 24.0 // pixels between eye centres
	qualityMaxYaw       = 30.0 // degrees
	qualityMaxPitch     = 25.0 // degrees
	qualityMaxRoll      = 25.0 // degrees
	qualityMinSharp     = 20.0 // variance of the Laplacian of the aligned grey crop
	qualityMinEyeOpen   = 0.12 // eye aspect ratio below which an eye counts as closed
	qualityFrontalRatio = 0.33 // nose-tip-below-eyes over chin-below-eyes, median of LFW photos
	qualityPitchGain    = 2.5  // sine of pitch per unit of that ratio's departure (rough)
)

// Quality reports measured figures about one face and the reasons, if any,
// to reject it as an enrolment photo.
type Quality struct {
	Score      float64  // detection confidence in [0, 1]
	Faces      int      // faces detected in the photo
	InterEye   float64  // distance between the eye centres, pixels
	Yaw        float64  // degrees, positive = subject turned to the image's right
	Pitch      float64  // degrees, positive = head tilted down (rough)
	Roll       float64  // degrees of the eye line from horizontal
	Sharpness  float64  // variance of the Laplacian on the aligned crop
	EyeOpening float64  // smaller eye aspect ratio of the two eyes
	Reasons    []string // why the photo should be retaken; empty if acceptable
}

// Acceptable reports whether no quality check failed.
func (q Quality) Acceptable() bool { return len(q.Reasons) == 0 }

func measureQuality(img *RGB, f *Face) Quality {
	l := f.Landmarks
	le, re := l.LeftEye(), l.RightEye()
	q := Quality{
		Score:      f.Detection.Score,
		Faces:      f.Others + 1,
		InterEye:   dist(le, re),
		Roll:       math.Atan2(re.Y-le.Y, re.X-le.X) * 180 / math.Pi,
		EyeOpening: math.Min(eyeAspect(l[36:42]), eyeAspect(l[42:48])),
		Sharpness:  sharpness(img, f),
	}
	// Yaw from the nose tip's position between the jaw ends (0 and 16).
	nose := l[30]
	dl, dr := dist(nose, l[0]), dist(nose, l[16])
	if dl+dr > 0 {
		q.Yaw = math.Asin(clampUnit((dl-dr)/(dl+dr))) * 180 / math.Pi
	}
	// Pitch from where the nose tip sits between the eye line and the chin (8).
	eyes := Point{(le.X + re.X) / 2, (le.Y + re.Y) / 2}
	if down := dist(eyes, l[8]); down > 0 {
		ratio := dist(eyes, nose) / down
		q.Pitch = math.Asin(clampUnit((ratio-qualityFrontalRatio)*qualityPitchGain)) * 180 / math.Pi
	}
	check := func(bad bool, format string, args ...any) {
		if bad {
			q.Reasons = append(q.Reasons, fmt.Sprintf(format, args...))
		}
	}
	check(q.Faces > 1, "%d faces in the photo", q.Faces)
	check(q.Score < qualityMinScore, "face detection confidence %.2f below %.2f", q.Score, qualityMinScore)
	check(q.InterEye < qualityMinInterEye, "eyes %.0f px apart, need %.0f", q.InterEye, qualityMinInterEye)
	check(math.Abs(q.Yaw) > qualityMaxYaw, "head turned %.0f°, limit %.0f°", q.Yaw, qualityMaxYaw)
	check(math.Abs(q.Pitch) > qualityMaxPitch, "head tilted %.0f° up or down, limit %.0f°", q.Pitch, qualityMaxPitch)
	check(math.Abs(q.Roll) > qualityMaxRoll, "head rolled %.0f°, limit %.0f°", q.Roll, qualityMaxRoll)
	check(q.Sharpness < qualityMinSharp, "image blurred (sharpness %.0f, need %.0f)", q.Sharpness, qualityMinSharp)
	check(q.EyeOpening < qualityMinEyeOpen, "eyes closed (opening %.2f)", q.EyeOpening)
	return q
}

func clampUnit(v float64) float64 { return math.Max(-1, math.Min(1, v)) }

// eyeAspect is the eye aspect ratio of six eye landmarks: mean lid distance
// over eye width.
func eyeAspect(e []Point) float64 {
	w := dist(e[0], e[3])
	if w == 0 {
		return 0
	}
	return (dist(e[1], e[5]) + dist(e[2], e[4])) / (2 * w)
}

// sharpness is the variance of the 4-neighbour Laplacian of the grey
// aligned crop resampled to 150×150, so it does not depend on image size.
func sharpness(img *RGB, f *Face) float64 {
	const s = RecognitionInputSize
	t := netInput(img, f.Aligned.Intersect(image.Rect(0, 0, img.Width, img.Height)), s, true, [3]float32{})
	g := make([]float64, s*s)
	for i := range g {
		g[i] = 255 * (0.299*float64(t.Data[3*i]) + 0.587*float64(t.Data[3*i+1]) + 0.114*float64(t.Data[3*i+2]))
	}
	var sum, sum2 float64
	n := 0
	for y := 1; y < s-1; y++ {
		for x := 1; x < s-1; x++ {
			v := 4*g[y*s+x] - g[y*s+x-1] - g[y*s+x+1] - g[(y-1)*s+x] - g[(y+1)*s+x]
			sum += v
			sum2 += v * v
			n++
		}
	}
	mean := sum / float64(n)
	return sum2/float64(n) - mean*mean
}
