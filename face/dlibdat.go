package face

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrModel reports a model file that cannot be decoded.
var ErrModel = errors.New("face: bad model file")

// dlibReader decodes dlib's serialisation format (dlib/serialize.h): integers
// as a size byte (low nibble: byte count, 0x80: negative) followed by that
// many little-endian bytes, floats as an integer mantissa and exponent,
// vectors as a count followed by their elements, matrices as −rows, −cols
// followed by their elements in row order.
type dlibReader struct {
	r   *bufio.Reader
	err error
}

func (d *dlibReader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(format, args...))
	}
}

// int reads one integer of at most maxBytes bytes.
func (d *dlibReader) int(maxBytes int) int64 {
	if d.err != nil {
		return 0
	}
	head, err := d.r.ReadByte()
	if err != nil {
		d.fail("truncated integer")
		return 0
	}
	n := int(head & 0x0f)
	if n > maxBytes || head&0x70 != 0 {
		d.fail("integer header %#x", head)
		return 0
	}
	var v uint64
	for i := 0; i < n; i++ {
		b, err := d.r.ReadByte()
		if err != nil {
			d.fail("truncated integer")
			return 0
		}
		v |= uint64(b) << (8 * i)
	}
	if v > math.MaxInt64 {
		d.fail("integer out of range")
		return 0
	}
	if head&0x80 != 0 {
		return -int64(v)
	}
	return int64(v)
}

// count reads a non-negative length no greater than limit.
func (d *dlibReader) count(limit int, what string) int {
	v := d.int(8)
	if d.err == nil && (v < 0 || v > int64(limit)) {
		d.fail("%s count %d out of range", what, v)
		return 0
	}
	return int(v)
}

// float reads a float (dlib float_details: mantissa·2^exponent).
func (d *dlibReader) float() float32 {
	mantissa := d.int(8)
	exponent := d.int(2)
	if d.err != nil {
		return 0
	}
	// 32000–32002 encode ±Inf and NaN, which no model here holds.
	if exponent >= 32000 || exponent < -1100 {
		d.fail("float exponent %d", exponent)
		return 0
	}
	v := math.Ldexp(float64(mantissa), int(exponent))
	if math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
		d.fail("float out of range")
		return 0
	}
	return float32(v)
}

// column reads a matrix<float,0,1> of at most limit elements.
func (d *dlibReader) column(limit int) []float32 {
	rows, cols := d.int(8), d.int(8)
	if rows < 0 || cols < 0 {
		rows, cols = -rows, -cols
	}
	if d.err != nil {
		return nil
	}
	if cols != 1 || rows < 0 || rows > int64(limit) {
		d.fail("matrix %d×%d, want a column of ≤ %d", rows, cols, limit)
		return nil
	}
	out := make([]float32, rows)
	for i := range out {
		out[i] = d.float()
	}
	return out
}

// readDlib reads r to the end through fn, failing on trailing bytes.
func readDlib(r io.Reader, fn func(d *dlibReader)) error {
	d := &dlibReader{r: bufio.NewReader(r)}
	fn(d)
	if d.err != nil {
		return d.err
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: trailing bytes", ErrModel)
	}
	return nil
}
