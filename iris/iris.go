// Package iris is Huella's iris engine: segmentation of near-infrared eye
// images, rubber-sheet normalisation, log-Gabor phase encoding into a bit
// code with a noise mask, and masked Hamming-distance matching with rotation
// compensation, in 1:1 and packed 1:N forms.
//
// The pipeline reads top to bottom in Extract; each stage is named after what
// it produces and its tuned constants live in params.go.
package iris

import (
	"errors"
	"fmt"
	"image"
)

// Code geometry derived from params.go.
const (
	// ColumnBits is the number of code bits per angular column.
	ColumnBits = 2 * Bands
	// CodeBits is the number of bits of a code (and of its mask).
	CodeBits = Columns * ColumnBits
	// CodeWords is the number of 64-bit words of a code (and of its mask).
	CodeWords = CodeBits / 64
)

// Template is an enrolled iris: the phase code and the mask of its valid bits
// (1 = usable), both CodeWords long, with the quality measured at extraction.
type Template struct {
	Code    []uint64
	Mask    []uint64
	Quality Quality
}

// Quality holds the quality measures of one eye image.
type Quality struct {
	// UsableFraction is the fraction of code bits left valid by the masks.
	UsableFraction float64
	// PupilRatio is the pupil radius divided by the iris radius.
	PupilRatio float64
	// Sharpness is the mean absolute Laplacian of the iris region, per grey level.
	Sharpness float64
	// Gaze is the distance between pupil and iris centres relative to the iris radius.
	Gaze float64
	// Pupil and Iris are the boundaries found, in input image pixels. They
	// are not part of the encoded template.
	Pupil, Iris Circle
}

// Circle is a boundary in image pixels: centre (X, Y) and radius R.
type Circle struct{ X, Y, R float64 }

// ErrFailedToEnroll is wrapped by every error that rejects an image because
// no reliable iris code could be made from it; Reason says why.
var ErrFailedToEnroll = errors.New("iris: failed to enroll")

// EnrollError says why an image failed to enroll.
type EnrollError struct {
	Reason string
}

func (e *EnrollError) Error() string { return "iris: failed to enroll: " + e.Reason }

// Unwrap makes errors.Is(err, ErrFailedToEnroll) true.
func (e *EnrollError) Unwrap() error { return ErrFailedToEnroll }

func failf(format string, args ...any) error {
	return &EnrollError{Reason: fmt.Sprintf(format, args...)}
}

// TraceFunc receives the image of each pipeline stage under a stable
// kebab-case key (see the Trace* constants).
type TraceFunc func(key string, img image.Image)

// Trace keys passed to TraceFunc.
const (
	TraceInput        = "input"
	TraceReflections  = "reflection-mask"
	TraceInpainted    = "inpainted"
	TraceEyelashes    = "eyelash-mask"
	TraceSegmentation = "segmentation-overlay"
	TraceUnwrapped    = "unwrapped-iris"
	TraceNoiseMask    = "noise-mask"
	TraceCode         = "iris-code"
	TraceCodeMask     = "iris-code-mask"
)

// Options configures Extract. The zero value is ready to use.
type Options struct {
	// Trace, when set, receives each stage's image.
	Trace TraceFunc
}

func (o Options) trace(key string, img func() image.Image) {
	if o.Trace != nil {
		o.Trace(key, img())
	}
}

// Extract makes the template of one near-infrared eye image. It returns an
// error wrapping ErrFailedToEnroll (an *EnrollError with the reason) when the
// image holds no usable iris.
func Extract(img *image.Gray, opts Options) (*Template, error) {
	b := img.Bounds()
	if b.Dx() < 64 || b.Dy() < 64 {
		return nil, failf("image %dx%d too small", b.Dx(), b.Dy())
	}
	opts.trace(TraceInput, func() image.Image { return img })
	gray := grayToGrid(img)
	reflections := reflectionMask(gray)
	opts.trace(TraceReflections, func() image.Image { return reflections.image() })
	clean := inpainted(gray, reflections)
	opts.trace(TraceInpainted, func() image.Image { return clean.image() })
	// Boundaries are searched at no more than SegmentMaxSide pixels on the
	// short side (the tuned radii are in those pixels), then scaled back.
	factor := max(1, (min(gray.w, gray.h)+SegmentMaxSide-1)/SegmentMaxSide)
	seg := clean.shrunk(factor)
	smooth := seg.blurred(SegmentBlurSigma)
	pairs, err := eyeBoundaries(smooth, reflections.shrunk(factor))
	if err != nil {
		return nil, err
	}
	// The best pair is taken unless its segmentation fails the quality
	// gates: then the next pairs are tried (a spectacle frame and the skin
	// around it can outscore the eye, and mask most of the "iris"). A trace
	// shows the last pair tried; a failure reports the best pair's reason.
	var first error
	for i, pr := range pairs {
		if i == SegmentationTries {
			break
		}
		t, err := segmentedTemplate(img, clean, reflections, seg, smooth, factor, pr, opts)
		if err == nil {
			return t, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// segmentedTemplate makes the template of one pupil and limbus pair: the
// eyelids and eyelashes, the unwrapped iris and its code, then the quality
// gates.
func segmentedTemplate(img *image.Gray, clean, reflections, seg, smooth *grid, factor int, pr eyePair, opts Options) (*Template, error) {
	pupil, limbus := pr.pupil, pr.limbus
	lids := eyelidBoundaries(smooth, pupil, limbus)
	// A lid over the pupil's edge moves the pupil's radial edges to its
	// margin: fit the pupil again without them.
	pupil = refinedPupilOutside(smooth, pupil, func(x, y float64) bool {
		return lids.within(x, y, EyelidPupilMargin)
	})
	pupilFull, limbusFull, lidsFull := pupil.scaled(factor), limbus.scaled(factor), lids.scaled(factor)
	opts.trace(TraceSegmentation, func() image.Image { return overlay(img, pupilFull, limbusFull, lidsFull, reflections) })
	lashes := eyelashMask(seg, limbus)
	opts.trace(TraceEyelashes, func() image.Image { return lashes.image() })
	polar := unwrappedIris(clean, reflections, lashes, factor, pupilFull, limbusFull, lidsFull)
	noiseMask(polar)
	opts.trace(TraceUnwrapped, func() image.Image { return polar.values.image() })
	opts.trace(TraceNoiseMask, func() image.Image { return polar.valid.image() })
	t := irisCode(polar)
	opts.trace(TraceCode, func() image.Image { return bitsImage(t.Code) })
	opts.trace(TraceCodeMask, func() image.Image { return bitsImage(t.Mask) })
	t.Quality = measuredQuality(smooth, pupil, limbus, t)
	t.Quality.Pupil, t.Quality.Iris = Circle(pupilFull), Circle(limbusFull)
	if err := t.Quality.check(); err != nil {
		return nil, err
	}
	return t, nil
}
