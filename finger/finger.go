// Package finger is Huella's fingerprint engine: it extracts minutiae
// templates from grey images, scores a probe against candidates (1:1 and 1:N)
// and rates image quality. It depends on nothing but the image helpers.
//
// The extraction pipeline reads top to bottom in Extract; each stage is named
// after what it produces and can be inspected through a Trace.
package finger

import (
	"errors"
	"image"
)

// Errors returned by Extract for images that give no usable template
// (failure to enroll).
var (
	// ErrTooSmall is returned for images too small to hold a fingerprint.
	ErrTooSmall = errors.New("finger: image too small")
	// ErrBadResolution is returned for a resolution outside 250–1000 ppi.
	ErrBadResolution = errors.New("finger: resolution out of range")
	// ErrNoFingerprint is returned for blank or non-fingerprint images.
	ErrNoFingerprint = errors.New("finger: no fingerprint found")
	// ErrTooFewMinutiae is returned when too few reliable minutiae are found.
	ErrTooFewMinutiae = errors.New("finger: too few minutiae")
)

// MinutiaType tells a ridge ending from a bifurcation.
type MinutiaType uint8

// Minutia types.
const (
	Ending      MinutiaType = 1
	Bifurcation MinutiaType = 2
)

// Minutia is one ridge ending or bifurcation at 500 ppi: position in pixels
// from the top-left corner, direction in radians [0, 2π) counter-clockwise
// from the x axis (image y pointing down), and quality 0–100.
type Minutia struct {
	X, Y      int
	Direction float64
	Type      MinutiaType
	Quality   uint8
}

// Trace receives each stage's image under a stable kebab-case key
// ("mask", "orientation", "enhanced", "skeleton", "ridge-graph",
// "minutiae"...). A nil Trace costs nothing.
type Trace func(key string, img image.Image)

// Options controls one extraction.
type Options struct {
	// PPI is the resolution of the input image; 0 means 500.
	PPI int
	// Trace, when set, receives each stage's image.
	Trace Trace
}
