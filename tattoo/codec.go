package tattoo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
)

// templateMagic starts a serialised template, with the format version:
// version 2 appends the global descriptor (a uint16 count, then float32
// values) to version 1's keypoints; both are read.
var (
	templateMagic   = [4]byte{'H', 'T', 'T', '2'}
	templateMagicV1 = [4]byte{'H', 'T', 'T', '1'}
)

const (
	templateHeaderSize   = 4 + 2 + 2 + 16 + 8 + 4
	templateKeypointSize = 4 + 4 + 4 + 1 + 4 + 32
	// maxTemplateKeypoints bounds what UnmarshalBinary accepts.
	maxTemplateKeypoints = 1 << 16
	// maxGlobalDims bounds the global descriptor UnmarshalBinary accepts.
	maxGlobalDims = 4096
)

// ErrBadTemplate is returned for bytes that are not a serialised template.
var ErrBadTemplate = errors.New("tattoo: bad template")

// MarshalBinary serialises the template (little-endian): the stored form,
// separate from the gallery's search-time structures.
func (t *Template) MarshalBinary() ([]byte, error) {
	if len(t.Keypoints) != len(t.Descriptors) || len(t.Keypoints) >= maxTemplateKeypoints {
		return nil, fmt.Errorf("%w: %d keypoints, %d descriptors", ErrBadTemplate, len(t.Keypoints), len(t.Descriptors))
	}
	if t.Width <= 0 || t.Width > math.MaxUint16 || t.Height <= 0 || t.Height > math.MaxUint16 {
		return nil, fmt.Errorf("%w: size %dx%d", ErrBadTemplate, t.Width, t.Height)
	}
	if len(t.Global) > maxGlobalDims {
		return nil, fmt.Errorf("%w: global descriptor of %d values", ErrBadTemplate, len(t.Global))
	}
	b := make([]byte, 0, templateHeaderSize+len(t.Keypoints)*templateKeypointSize+2+4*len(t.Global))
	le := binary.LittleEndian
	b = append(b, templateMagic[:]...)
	b = le.AppendUint16(b, uint16(t.Width))
	b = le.AppendUint16(b, uint16(t.Height))
	for _, v := range []int{t.Region.Min.X, t.Region.Min.Y, t.Region.Max.X, t.Region.Max.Y} {
		b = le.AppendUint32(b, uint32(int32(v)))
	}
	b = le.AppendUint64(b, math.Float64bits(t.Scale))
	b = le.AppendUint32(b, uint32(len(t.Keypoints)))
	for i, k := range t.Keypoints {
		b = le.AppendUint32(b, math.Float32bits(k.X))
		b = le.AppendUint32(b, math.Float32bits(k.Y))
		b = le.AppendUint32(b, math.Float32bits(k.Angle))
		b = append(b, k.Level)
		b = le.AppendUint32(b, math.Float32bits(k.Response))
		for _, w := range t.Descriptors[i] {
			b = le.AppendUint64(b, w)
		}
	}
	b = le.AppendUint16(b, uint16(len(t.Global)))
	for _, v := range t.Global {
		b = le.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}

// UnmarshalBinary parses a template written by MarshalBinary, checking
// every count and coordinate so hostile bytes give an error.
func (t *Template) UnmarshalBinary(data []byte) error {
	le := binary.LittleEndian
	if len(data) < templateHeaderSize || ([4]byte(data[:4]) != templateMagic && [4]byte(data[:4]) != templateMagicV1) {
		return fmt.Errorf("%w: no header", ErrBadTemplate)
	}
	v1 := [4]byte(data[:4]) == templateMagicV1
	w, h := int(le.Uint16(data[4:])), int(le.Uint16(data[6:]))
	var r [4]int
	for i := range r {
		r[i] = int(int32(le.Uint32(data[8+4*i:])))
	}
	scale := math.Float64frombits(le.Uint64(data[24:]))
	n := int(le.Uint32(data[32:]))
	if w == 0 || h == 0 || !(scale > 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("%w: size %dx%d scale %v", ErrBadTemplate, w, h, scale)
	}
	size := templateHeaderSize + n*templateKeypointSize
	if n >= maxTemplateKeypoints || len(data) < size || (v1 && len(data) != size) {
		return fmt.Errorf("%w: %d keypoints in %d bytes", ErrBadTemplate, n, len(data))
	}
	var global []float32
	if !v1 {
		if len(data) < size+2 {
			return fmt.Errorf("%w: no global descriptor", ErrBadTemplate)
		}
		g := int(le.Uint16(data[size:]))
		if g > maxGlobalDims || len(data) != size+2+4*g {
			return fmt.Errorf("%w: global descriptor of %d values in %d bytes", ErrBadTemplate, g, len(data))
		}
		if g > 0 {
			global = make([]float32, g)
		}
		for i := range global {
			v := math.Float32frombits(le.Uint32(data[size+2+4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: global descriptor value %d", ErrBadTemplate, i)
			}
			global[i] = v
		}
	}
	out := Template{Width: w, Height: h, Region: image.Rect(r[0], r[1], r[2], r[3]), Scale: scale,
		Keypoints: make([]Keypoint, n), Descriptors: make([]Descriptor, n), Global: global}
	p := data[templateHeaderSize:]
	for i := 0; i < n; i++ {
		k := Keypoint{
			X:        math.Float32frombits(le.Uint32(p)),
			Y:        math.Float32frombits(le.Uint32(p[4:])),
			Angle:    math.Float32frombits(le.Uint32(p[8:])),
			Level:    p[12],
			Response: math.Float32frombits(le.Uint32(p[13:])),
		}
		if !(k.X >= 0 && k.X < float32(w) && k.Y >= 0 && k.Y < float32(h)) || math.IsNaN(float64(k.Angle)) || math.IsInf(float64(k.Angle), 0) {
			return fmt.Errorf("%w: keypoint %d out of range", ErrBadTemplate, i)
		}
		out.Keypoints[i] = k
		for j := range out.Descriptors[i] {
			out.Descriptors[i][j] = le.Uint64(p[17+8*j:])
		}
		p = p[templateKeypointSize:]
	}
	*t = out
	return nil
}
