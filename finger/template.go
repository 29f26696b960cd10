package finger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Template is the stored form of one finger: its minutiae at 500 ppi, the
// image size they live in, and the image quality (0–100). Encoded with
// MarshalBinary it takes 10 + 6 bytes per minutia (at most 730 bytes).
type Template struct {
	Width, Height int
	Minutiae      []Minutia
	Quality       int
}

// templateMagic starts every encoded template (format version 1).
var templateMagic = [4]byte{'H', 'F', 'M', 1}

// ErrBadTemplate is returned when decoding bytes that are not a valid template.
var ErrBadTemplate = errors.New("finger: bad template")

const templateHeader = 10

// MarshalBinary encodes the template: magic, width, height (uint16 BE),
// quality, minutia count, then per minutia x, y (uint16 BE), direction
// (1/256 turns) and type (top bit set for bifurcations) with quality in the
// low 7 bits.
func (t *Template) MarshalBinary() ([]byte, error) {
	if t.Width <= 0 || t.Height <= 0 || t.Width > math.MaxUint16 || t.Height > math.MaxUint16 {
		return nil, fmt.Errorf("%w: size %dx%d", ErrBadTemplate, t.Width, t.Height)
	}
	if len(t.Minutiae) > 255 {
		return nil, fmt.Errorf("%w: %d minutiae", ErrBadTemplate, len(t.Minutiae))
	}
	b := make([]byte, templateHeader, templateHeader+6*len(t.Minutiae))
	copy(b, templateMagic[:])
	binary.BigEndian.PutUint16(b[4:], uint16(t.Width))
	binary.BigEndian.PutUint16(b[6:], uint16(t.Height))
	b[8] = uint8(min(max(t.Quality, 0), 100))
	b[9] = uint8(len(t.Minutiae))
	for _, m := range t.Minutiae {
		if m.X < 0 || m.Y < 0 || m.X >= t.Width || m.Y >= t.Height {
			return nil, fmt.Errorf("%w: minutia outside the image", ErrBadTemplate)
		}
		kind := uint8(0)
		if m.Type == Bifurcation {
			kind = 0x80
		}
		dir := uint8(int(math.Round(normAngle(m.Direction)/(2*math.Pi)*256)) & 0xff)
		b = binary.BigEndian.AppendUint16(b, uint16(m.X))
		b = binary.BigEndian.AppendUint16(b, uint16(m.Y))
		b = append(b, dir, kind|min(m.Quality, 100))
	}
	return b, nil
}

// UnmarshalBinary decodes a template written by MarshalBinary. Truncated or
// inconsistent input gives an error wrapping ErrBadTemplate.
func (t *Template) UnmarshalBinary(data []byte) error {
	if len(data) < templateHeader || [4]byte(data[:4]) != templateMagic {
		return fmt.Errorf("%w: missing header", ErrBadTemplate)
	}
	w, h := int(binary.BigEndian.Uint16(data[4:])), int(binary.BigEndian.Uint16(data[6:]))
	q, n := int(data[8]), int(data[9])
	if w == 0 || h == 0 || q > 100 {
		return fmt.Errorf("%w: header out of range", ErrBadTemplate)
	}
	if len(data) != templateHeader+6*n {
		return fmt.Errorf("%w: have %d bytes, want %d", ErrBadTemplate, len(data), templateHeader+6*n)
	}
	ms := make([]Minutia, n)
	for i := range ms {
		r := data[templateHeader+6*i:]
		m := Minutia{
			X:         int(binary.BigEndian.Uint16(r)),
			Y:         int(binary.BigEndian.Uint16(r[2:])),
			Direction: float64(r[4]) / 256 * 2 * math.Pi,
			Type:      Ending,
			Quality:   r[5] & 0x7f,
		}
		if r[5]&0x80 != 0 {
			m.Type = Bifurcation
		}
		if m.X >= w || m.Y >= h || m.Quality > 100 {
			return fmt.Errorf("%w: minutia %d out of range", ErrBadTemplate, i)
		}
		ms[i] = m
	}
	*t = Template{Width: w, Height: h, Quality: q, Minutiae: ms}
	return nil
}
