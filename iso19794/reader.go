package iso19794

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
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

// header reads a record's format identifier and version (four bytes each,
// the last zero) and refuses a record of another type or edition. A short
// read is left in r.err for the caller's next check.
func (r *reader) header(magic, version []byte) error {
	if got := r.take(4); r.err == nil && !bytes.Equal(got, magic) {
		return fmt.Errorf("format identifier %q is not %q: %w", got, magic, ErrMalformed)
	}
	if got := r.take(4); r.err == nil && !bytes.Equal(got, version) {
		return fmt.Errorf("version %q is not %q: %w", got, version, ErrMalformed)
	}
	return nil
}

// checkLength checks a record's length field against the length of its
// header and the n bytes given: bytes beyond the record are refused only
// when strict.
func checkLength(length, headerLen, n int, strict bool) error {
	switch {
	case length < headerLen:
		return fmt.Errorf("record length %d is shorter than its header: %w", length, ErrMalformed)
	case length > n:
		return fmt.Errorf("record length %d, only %d bytes: %w", length, n, ErrTruncated)
	case length < n && strict:
		return fmt.Errorf("record length %d, %d bytes given: %w", length, n, ErrMalformed)
	}
	return nil
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
