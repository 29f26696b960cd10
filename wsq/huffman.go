package wsq

import "fmt"

// huffTable is one Huffman table: the JPEG-style code-length counts and the
// symbols in code order, with the canonical decoding limits derived from them.
type huffTable struct {
	counts [maxHuffBits + 1]int // counts[l]: number of codes of length l (1..16)
	values []byte
	// Canonical decoding: codes of length l are minCode[l]..maxCode[l] and
	// map to values[valPtr[l]+code-minCode[l]]; maxCode[l] = -1 when none.
	minCode, maxCode, valPtr [maxHuffBits + 1]int32
	// fast maps the next 8 bits to (length<<8 | symbol) for codes of at most
	// 8 bits; 0 means "longer code, use the canonical walk".
	fast [256]uint16
}

// newHuffTable checks counts and values and builds the decoding limits.
func newHuffTable(counts [maxHuffBits + 1]int, values []byte) (*huffTable, error) {
	t := &huffTable{counts: counts, values: values}
	total := 0
	code := int32(0)
	for l := 1; l <= maxHuffBits; l++ {
		n := counts[l]
		if n == 0 {
			t.maxCode[l] = -1
			code <<= 1
			continue
		}
		t.valPtr[l] = int32(total)
		t.minCode[l] = code
		code += int32(n)
		if code > 1<<l {
			return nil, fmt.Errorf("%w: Huffman table is over-subscribed at length %d", ErrFormat, l)
		}
		t.maxCode[l] = code - 1
		total += n
		code <<= 1
	}
	if total != len(values) || total == 0 || total > maxHuffValues {
		return nil, fmt.Errorf("%w: Huffman table with %d codes for %d values", ErrFormat, total, len(values))
	}
	// Fill the 8-bit fast table.
	code = 0
	k := 0
	for l := 1; l <= 8; l++ {
		for i := 0; i < counts[l]; i++ {
			shift := 8 - l
			base := int(code) << shift
			for j := 0; j < 1<<shift; j++ {
				t.fast[base+j] = uint16(l)<<8 | uint16(values[k])
			}
			code++
			k++
		}
		code <<= 1
	}
	return t, nil
}

// bitReader reads MSB-first bits from an entropy-coded segment whose stuffed
// 0xFF00 pairs have already been removed.
type bitReader struct {
	data  []byte
	pos   int
	acc   uint64
	nbits uint
}

// fill tops the accumulator up; past the end it supplies nothing.
func (b *bitReader) fill() {
	for b.nbits <= 56 && b.pos < len(b.data) {
		b.acc |= uint64(b.data[b.pos]) << (56 - b.nbits)
		b.pos++
		b.nbits += 8
	}
}

// bits reads n (≤ 16) bits; ok is false when the segment has fewer left.
func (b *bitReader) bits(n uint) (uint32, bool) {
	if b.nbits < n {
		b.fill()
		if b.nbits < n {
			return 0, false
		}
	}
	v := uint32(b.acc >> (64 - n))
	b.acc <<= n
	b.nbits -= n
	return v, true
}

// symbol decodes one Huffman symbol. ok is false at the end of the segment
// (including the 1-bit padding of the last byte); err reports a code that is
// in no table.
func (b *bitReader) symbol(t *huffTable) (sym byte, ok bool, err error) {
	if b.nbits < 16 {
		b.fill()
	}
	if b.pos >= len(b.data) && b.nbits < 8 && b.acc>>(64-b.nbits) == 1<<b.nbits-1 {
		return 0, false, nil // the 1-bit padding of the last byte
	}
	if b.nbits >= 8 {
		if e := t.fast[b.acc>>56]; e != 0 {
			l := uint(e >> 8)
			b.acc <<= l
			b.nbits -= l
			return byte(e), true, nil
		}
	}
	code := int32(0)
	for l := 1; l <= maxHuffBits; l++ {
		if uint(l) > b.nbits {
			return 0, false, nil // ran into the end of the segment
		}
		code = code<<1 | int32(b.acc>>(64-uint(l))&1)
		if t.maxCode[l] >= 0 && code <= t.maxCode[l] && code >= t.minCode[l] {
			b.acc <<= uint(l)
			b.nbits -= uint(l)
			return t.values[t.valPtr[l]+code-t.minCode[l]], true, nil
		}
	}
	if b.nbits < 16+8 && b.pos >= len(b.data) {
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("%w: invalid Huffman code", ErrFormat)
}
