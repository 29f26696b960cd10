package finger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Template is the stored form of one finger: its minutiae at 500 ppi, the
// image size they live in, and the image quality (0–100). Encoded with
// MarshalBinary it takes 10 + 6 bytes per minutia and the template's
// DescriptorBytes descriptor (at most 986 bytes), so that an index loads the
// descriptor instead of computing it.
type Template struct {
	Width, Height int
	Minutiae      []Minutia
	Quality       int
}

// templateMagic starts every encoded template; its last byte is the format
// version: 1 is the minutiae alone, 2 the minutiae followed by their
// descriptor. Both decode; MarshalBinary writes version 2.
var templateMagic = [4]byte{'H', 'F', 'M', 2}

const (
	formatMinutiae   = 1 // header and minutiae
	formatDescriptor = 2 // header, minutiae, descriptor
)

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
	b := make([]byte, templateHeader, templateHeader+6*len(t.Minutiae)+DescriptorBytes)
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
	// The descriptor of the template as it decodes (directions rounded to
	// 1/256 turns), so that it equals Describe of the decoded template.
	var decoded Template
	if err := decoded.decode(b, formatMinutiae); err != nil {
		return nil, err
	}
	d := Describe(&decoded)
	for _, w := range d {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary decodes a template written by MarshalBinary, in either
// format version. Truncated or inconsistent input gives an error wrapping
// ErrBadTemplate. The descriptor, if any, is not decoded: StoredDescriptor
// reads it.
func (t *Template) UnmarshalBinary(data []byte) error {
	format, err := checkTemplate(data)
	if err != nil {
		return err
	}
	return t.decode(data, format)
}

// checkTemplate validates an encoded template without decoding it and
// returns its format version.
func checkTemplate(data []byte) (int, error) {
	if len(data) < templateHeader || [3]byte(data[:3]) != [3]byte(templateMagic[:3]) {
		return 0, fmt.Errorf("%w: missing header", ErrBadTemplate)
	}
	format := int(data[3])
	w, h := int(binary.BigEndian.Uint16(data[4:])), int(binary.BigEndian.Uint16(data[6:]))
	q, n := int(data[8]), int(data[9])
	want := templateHeader + 6*n
	switch format {
	case formatMinutiae:
	case formatDescriptor:
		want += DescriptorBytes
	default:
		return 0, fmt.Errorf("%w: unknown format version %d", ErrBadTemplate, format)
	}
	if w == 0 || h == 0 || q > 100 {
		return 0, fmt.Errorf("%w: header out of range", ErrBadTemplate)
	}
	if len(data) != want {
		return 0, fmt.Errorf("%w: have %d bytes, want %d", ErrBadTemplate, len(data), want)
	}
	for i := range n {
		r := data[templateHeader+6*i:]
		if int(binary.BigEndian.Uint16(r)) >= w || int(binary.BigEndian.Uint16(r[2:])) >= h || r[5]&0x7f > 100 {
			return 0, fmt.Errorf("%w: minutia %d out of range", ErrBadTemplate, i)
		}
	}
	return format, nil
}

// decode decodes a template checkTemplate accepted (or MarshalBinary is
// writing) of the format.
func (t *Template) decode(data []byte, format int) error {
	w, h := int(binary.BigEndian.Uint16(data[4:])), int(binary.BigEndian.Uint16(data[6:]))
	q, n := int(data[8]), int(data[9])
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
		ms[i] = m
	}
	*t = Template{Width: w, Height: h, Quality: q, Minutiae: ms}
	return nil
}

// StoredDescriptor validates an encoded template and returns the descriptor
// it carries: Describe of the decoded template, computed when it was
// encoded. stored is false for format version 1, which carries none (the
// caller decodes and describes it).
func StoredDescriptor(data []byte) (d Descriptor, stored bool, err error) {
	format, err := checkTemplate(data)
	if err != nil || format != formatDescriptor {
		return d, false, err
	}
	r := data[len(data)-DescriptorBytes:]
	for i := range d {
		d[i] = binary.LittleEndian.Uint64(r[8*i:])
	}
	return d, true, nil
}

// AppendMinutiae appends the template encoded in data without its
// descriptor (format version 1) to dst: the compact form an index keeps
// beside the descriptors it holds apart. data must be a template that
// StoredDescriptor or UnmarshalBinary accepted.
func AppendMinutiae(dst, data []byte) []byte {
	n := templateHeader + 6*int(data[9])
	start := len(dst)
	dst = append(dst, data[:n]...)
	dst[start+3] = formatMinutiae
	return dst
}
