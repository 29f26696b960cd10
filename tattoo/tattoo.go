// Package tattoo is the scars, marks and tattoos (SMT) engine: it finds the
// same tattoo in another photograph and searches SMT records by their
// structured description.
//
// Image search works on local keypoints: the officer's crop is resampled to
// a fixed size, FAST corners are found on an image pyramid and ranked by the
// Harris measure, oriented by their intensity centroid and described by a
// 256-bit rotated BRIEF descriptor (ORB, Rublee et al. 2011). Two templates
// are compared by matching descriptors under Hamming distance with Lowe's
// ratio test and verifying the matches geometrically: each match proposes
// the similarity its own keypoints imply, the best proposals are refined to
// affine maps (so a sheared or foreshortened view still verifies), and the
// score is the number of verified matches less those expected by chance. A
// gallery first ranks every image by a bag of visual words (a vocabulary
// tree, tf-idf weights, an inverted index, the probe's descriptors voting
// for their nearest words), adds to that shortlist the images whose global
// descriptors are nearest the probe's, re-ranks it by geometric
// verification plus a share of the global similarity (globalBonus), and
// verifies its best images once more from descriptors matched over more
// vocabulary cells (Gallery.reverify).
//
// The global descriptor (global.go) is a MobileNetV2's last feature map
// averaged over the colour crop, projected on whitened principal axes: two
// photographs of one tattoo taken from another side share few keypoints but
// still look alike as a whole. The network (nsfwjs's MobileNetV2, MIT;
// models/PROVENANCE.md) runs on face/tfgraph; its projection
// (globalprojection.bin) is learnt by tattoo/internal/trainglobal on the
// same distractor photos as the vocabulary.
//
// The shipped vocabulary (vocabulary.bin) is trained by
// tattoo/internal/trainvocab on the 321 Instagram tattoo photos of
// ../shared/datasets/tattoo/instagram-distractors only: it holds no word
// learnt from a BIVTatt photo, so searches of BIVTatt subjects (and of the
// held-out subjects) do not profit from words fitted to their designs.
//
// Structured search (type, NCIC body location, class, colours, words of the
// description in Spanish or English) is in SMTIndex and combines with the
// image search.
package tattoo

import (
	"fmt"
	"image"
)

// Template is what the engine stores for one SMT image: oriented keypoints
// with their binary descriptors, in the coordinates of the normalised crop.
type Template struct {
	// Width and Height are the size of the normalised crop.
	Width, Height int
	// Region is the crop in the source image's pixels, and Scale the factor
	// from source pixels to normalised pixels; together they map keypoints
	// back onto the photograph.
	Region image.Rectangle
	Scale  float64
	// Keypoints and Descriptors are parallel.
	Keypoints   []Keypoint
	Descriptors []Descriptor
	// Global is the unit-length global descriptor of the colour crop
	// (globalDims values; see GlobalProjection), nil in templates made
	// without one.
	Global []float32
}

// Trace receives the image of each pipeline stage under a stable
// kebab-case key ("crop", "normalized-crop", "keypoints", "matches").
type Trace func(key string, img image.Image)

// Option changes how Extract and Compare work.
type Option func(*options)

type options struct {
	trace Trace
}

// WithTrace passes every stage's image to t.
func WithTrace(t Trace) Option { return func(o *options) { o.trace = t } }

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o *options) emit(key string, img func() image.Image) {
	if o.trace != nil {
		o.trace(key, img())
	}
}

// ExtractBytes decodes an encoded photograph and extracts the template of
// region (the whole image when region is empty).
func ExtractBytes(data []byte, region image.Rectangle, opts ...Option) (*Template, error) {
	img, err := DecodeImage(data)
	if err != nil {
		return nil, err
	}
	return Extract(img, region, opts...)
}

// Extract computes the template of the tattoo inside region of img (the
// whole image when region is empty). Region is in img's pixel coordinates
// relative to its top-left corner.
func Extract(img image.Image, region image.Rectangle, opts ...Option) (*Template, error) {
	o := collect(opts)
	b := img.Bounds()
	if int64(b.Dx())*int64(b.Dy()) > maxSourcePixels {
		return nil, fmt.Errorf("%w: %dx%d", ErrImageTooLarge, b.Dx(), b.Dy())
	}
	crop, cropRect, err := grayCrop(img, region)
	if err != nil {
		return nil, err
	}
	o.emit("crop", func() image.Image { return crop })
	normalized, padding := normalizedCrop(crop)
	o.emit("normalized-crop", func() image.Image { return normalized })
	pyramid := imagePyramid(normalized)
	corners := pyramidCorners(pyramid, padding)
	if len(corners) < minInliers {
		return nil, ErrNoFeatures
	}
	orientations(pyramid, corners)
	descriptors := briefDescriptors(pyramid, corners)
	var global []float32
	if p := defaultProjection(); p != nil {
		pooled, err := pooledFeatures(img, cropRect)
		if err != nil {
			return nil, err
		}
		global = p.Project(pooled)
	}
	t := &Template{
		Width:       normalized.Bounds().Dx(),
		Height:      normalized.Bounds().Dy(),
		Region:      cropRect,
		Scale:       float64(normalized.Bounds().Dx()) / float64(crop.Bounds().Dx()),
		Keypoints:   keypointsAtLevelZero(pyramid, corners),
		Descriptors: descriptors,
		Global:      global,
	}
	o.emit("keypoints", func() image.Image { return drawKeypoints(normalized, t.Keypoints) })
	return t, nil
}

// keypointsAtLevelZero maps corners to level-0 coordinates.
func keypointsAtLevelZero(levels []level, cs []corner) []Keypoint {
	out := make([]Keypoint, len(cs))
	for i, c := range cs {
		s := float32(levels[c.level].scale)
		out[i] = Keypoint{
			X:        (float32(c.x)+0.5)*s - 0.5,
			Y:        (float32(c.y)+0.5)*s - 0.5,
			Angle:    c.angle,
			Level:    uint8(c.level),
			Response: c.response,
		}
	}
	return out
}
