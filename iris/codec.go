package iris

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Template serialisation, Huella's own format (little-endian):
//
//	"HIRC" magic, version byte (1), Bands byte, Columns uint16,
//	UsableFraction, PupilRatio, Sharpness, Gaze as float32,
//	CodeWords uint64 code words, CodeWords uint64 mask words.
const (
	templateMagic   = "HIRC"
	templateVersion = 1
	templateHeader  = 4 + 1 + 1 + 2 + 4*4
	// TemplateSize is the length of an encoded template in bytes.
	TemplateSize = templateHeader + 2*CodeWords*8
)

// ErrTemplateFormat is wrapped by every error of DecodeTemplate.
var ErrTemplateFormat = errors.New("iris: invalid template")

// EncodeTemplate serialises t (TemplateSize bytes).
func EncodeTemplate(t *Template) []byte {
	b := make([]byte, 0, TemplateSize)
	b = append(b, templateMagic...)
	b = append(b, templateVersion, Bands)
	b = binary.LittleEndian.AppendUint16(b, Columns)
	for _, f := range []float64{t.Quality.UsableFraction, t.Quality.PupilRatio, t.Quality.Sharpness, t.Quality.Gaze} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f)))
	}
	for _, w := range t.Code {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	for _, w := range t.Mask {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// DecodeTemplate parses a template written by EncodeTemplate. It rejects
// other versions and code geometries.
func DecodeTemplate(b []byte) (*Template, error) {
	if len(b) < templateHeader {
		return nil, fmt.Errorf("%w: %d bytes, header needs %d", ErrTemplateFormat, len(b), templateHeader)
	}
	if string(b[:4]) != templateMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrTemplateFormat)
	}
	if b[4] != templateVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrTemplateFormat, b[4], templateVersion)
	}
	if bands, cols := int(b[5]), int(binary.LittleEndian.Uint16(b[6:])); bands != Bands || cols != Columns {
		return nil, fmt.Errorf("%w: geometry %d×%d, want %d×%d", ErrTemplateFormat, bands, cols, Bands, Columns)
	}
	if len(b) != TemplateSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrTemplateFormat, len(b), TemplateSize)
	}
	var q [4]float64
	for i := range q {
		q[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[8+4*i:])))
		if math.IsNaN(q[i]) || math.IsInf(q[i], 0) {
			return nil, fmt.Errorf("%w: quality field %d not finite", ErrTemplateFormat, i)
		}
	}
	t := &Template{
		Code:    make([]uint64, CodeWords),
		Mask:    make([]uint64, CodeWords),
		Quality: Quality{UsableFraction: q[0], PupilRatio: q[1], Sharpness: q[2], Gaze: q[3]},
	}
	p := b[templateHeader:]
	for i := range t.Code {
		t.Code[i] = binary.LittleEndian.Uint64(p[8*i:])
		t.Mask[i] = binary.LittleEndian.Uint64(p[8*(CodeWords+i):])
	}
	return t, nil
}
