package iso19794

import (
	"encoding/binary"
	"errors"
)

// ErrTruncated reports a record that ends before the data its fields declare.
var ErrTruncated = errors.New("record truncated")

// ErrMalformed reports a record whose fields are inconsistent or out of range:
// a wrong format identifier or version, lengths that disagree, values that
// cannot be encoded.
var ErrMalformed = errors.New("record malformed")

// reader walks a byte slice with bounds checks; the first short read sets err
// to ErrTruncated and every later read returns zero, so callers check once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.err = ErrTruncated
		r.off = len(r.b)
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16() uint16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// clone copies n bytes so that a decoded record does not alias its input.
func (r *reader) clone(n int) []byte {
	p := r.take(n)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}

// writer appends big-endian fields to a byte slice.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)              { w.b = append(w.b, v) }
func (w *writer) u16(v uint16)            { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32)            { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) bytes(p []byte)          { w.b = append(w.b, p...) }
func (w *writer) putU16(at int, v uint16) { binary.BigEndian.PutUint16(w.b[at:], v) }
func (w *writer) putU32(at int, v uint32) { binary.BigEndian.PutUint32(w.b[at:], v) }
