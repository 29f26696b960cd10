package face

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/huella-abis/huella/face/tfjs"
)

// ErrNoFace reports an image in which the detector found no face.
var ErrNoFace = errors.New("face: no face found")

// DescriptorSize is the length of a face descriptor.
const DescriptorSize = 128

// Face is everything the pipeline found out about the face in one image.
type Face struct {
	// Detection is the chosen face box and its confidence.
	Detection Detection
	// Others counts further faces the detector found.
	Others int
	// Landmarks are the 68 iBUG points in image pixels.
	Landmarks Landmarks68
	// Aligned is the crop fed to the recognition network.
	Aligned image.Rectangle
	// Descriptor is the L2-normalised 128-d embedding.
	Descriptor []float32
	// Quality holds the measured quality figures and any rejection reasons.
	Quality Quality
}

// Extractor turns a photo into a Face. It is safe for concurrent use when
// Trace is nil or itself concurrency-safe.
type Extractor struct {
	// Models are the networks; nil means LoadModels().
	Models *Models
	// Exec bounds the goroutines one extraction uses (0 = all CPUs).
	Exec tfjs.Exec
	// Trace, when not nil, receives each stage's output under stable
	// kebab-case keys: "detections", "face-box", "landmarks",
	// "aligned-crop" (images) — see trace.go.
	Trace func(key string, img image.Image)
}

// Extract runs the pipeline: detections → face → landmarks → aligned crop →
// descriptor → quality.
func (x *Extractor) Extract(img *RGB) (*Face, error) {
	m := x.Models
	if m == nil {
		var err error
		if m, err = LoadModels(); err != nil {
			return nil, err
		}
	}
	detections, err := m.Detector.Detect(x.Exec, img, DetectorInputSize, DetectorMinScore, DetectorIoU)
	if err != nil {
		return nil, err
	}
	x.trace(TraceDetections, func() image.Image { return drawDetections(img, detections) })
	if len(detections) == 0 {
		return nil, ErrNoFace
	}
	f := &Face{Detection: chooseFace(detections), Others: len(detections) - 1}
	if f.Landmarks, err = m.Landmarks.Landmarks(x.Exec, img, f.Detection.Box); err != nil {
		return nil, err
	}
	x.trace(TraceLandmarks, func() image.Image { return drawLandmarks(img, f.Detection.Box, f.Landmarks) })
	f.Aligned = alignedRegion(f.Landmarks, img.Width, img.Height)
	if f.Aligned.Empty() {
		return nil, fmt.Errorf("%w: aligned face outside the image", ErrNoFace)
	}
	x.trace(TraceAlignedCrop, func() image.Image { return cropImage(img, f.Aligned, RecognitionInputSize) })
	raw, err := m.Recognition.Descriptor(x.Exec, img, f.Aligned)
	if err != nil {
		return nil, err
	}
	f.Descriptor = normalize(raw)
	f.Quality = measureQuality(img, f)
	return f, nil
}

func (x *Extractor) trace(key string, render func() image.Image) {
	if x.Trace != nil {
		x.Trace(key, render())
	}
}

// chooseFace picks the largest detected face (the subject in a portrait).
func chooseFace(dets []Detection) Detection {
	best := dets[0]
	for _, d := range dets[1:] {
		if d.Box.Area() > best.Box.Area() {
			best = d
		}
	}
	return best
}

// normalize returns v scaled to unit length.
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(s))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

// Similarity is the cosine similarity of two L2-normalised descriptors, in
// [-1, 1]; higher means more alike.
func Similarity(a, b []float32) float32 {
	if len(a) != len(b) {
		return float32(math.Inf(-1))
	}
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
