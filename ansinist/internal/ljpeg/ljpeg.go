// Package ljpeg decodes lossless JPEG (ITU-T T.81 process 14, SOF3), the
// JPEGL compression of ANSI/NIST-ITL image records, which the standard
// library's image/jpeg does not read.
//
// Supported: one scan holding every component, each sampled 1×1, 2–16 bits,
// predictors 1–7, point transform, restart intervals.
package ljpeg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// ErrFormat reports data that is not a lossless JPEG this package reads.
var ErrFormat = errors.New("ljpeg: invalid or unsupported data")

type huffman struct {
	maxCode [17]int32 // -1 when no code of that length
	valPtr  [17]int32
	minCode [17]int32
	values  []byte
}

func newHuffman(counts []byte, values []byte) (*huffman, error) {
	h := &huffman{values: values}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.valPtr[l], h.minCode[l] = k, code
		code += n
		k += n
		if code > 1<<l {
			return nil, fmt.Errorf("%w: over-subscribed Huffman table", ErrFormat)
		}
		h.maxCode[l] = code - 1
		if n == 0 {
			h.maxCode[l] = -1
		}
		code <<= 1
	}
	if int(k) != len(values) {
		return nil, fmt.Errorf("%w: Huffman table value count", ErrFormat)
	}
	return h, nil
}

type bitReader struct {
	data  []byte
	pos   int
	acc   uint32
	nbits uint
}

// bit returns the next entropy-coded bit; past a marker or the end it
// returns zeros, which the caller's sample count bounds.
func (b *bitReader) bit() uint32 {
	if b.nbits == 0 {
		b.acc, b.nbits = 0, 8
		if b.pos < len(b.data) {
			v := b.data[b.pos]
			if v == 0xFF {
				if b.pos+1 < len(b.data) && b.data[b.pos+1] == 0 {
					b.pos += 2
				} else {
					v = 0 // a marker: do not consume it
				}
			} else {
				b.pos++
			}
			b.acc = uint32(v)
		}
	}
	b.nbits--
	return b.acc >> b.nbits & 1
}

func (b *bitReader) bits(n int) int32 {
	v := int32(0)
	for range n {
		v = v<<1 | int32(b.bit())
	}
	return v
}

func (b *bitReader) decode(h *huffman) (int, error) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(b.bit())
		if h.maxCode[l] >= 0 && code <= h.maxCode[l] {
			return int(h.values[h.valPtr[l]+code-h.minCode[l]]), nil
		}
	}
	return 0, fmt.Errorf("%w: invalid Huffman code", ErrFormat)
}

// restart aligns to the next byte and skips an RSTn marker.
func (b *bitReader) restart() {
	b.nbits = 0
	if b.pos+1 < len(b.data) && b.data[b.pos] == 0xFF && b.data[b.pos+1] >= 0xD0 && b.data[b.pos+1] <= 0xD7 {
		b.pos += 2
	}
}

// Decode decodes a lossless JPEG whose width×height is at most maxPixels:
// grey images as *image.Gray (8 bits) or *image.Gray16, three-component
// 8-bit images as *image.RGBA.
func Decode(data []byte, maxPixels int) (image.Image, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, fmt.Errorf("%w: no start-of-image marker", ErrFormat)
	}
	var dc, ac [4]*huffman
	var width, height, precision, restartInterval int
	var compIDs []byte
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xFF {
			return nil, fmt.Errorf("%w: expected a marker at byte %d", ErrFormat, pos)
		}
		m := data[pos+1]
		if m == 0xFF {
			pos++ // fill byte
			continue
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		if length < 2 || pos+2+length > len(data) {
			return nil, fmt.Errorf("%w: segment length at byte %d", ErrFormat, pos)
		}
		seg := data[pos+4 : pos+2+length]
		pos += 2 + length
		switch {
		case m == 0xC4: // DHT
			for len(seg) > 0 {
				if len(seg) < 17 {
					return nil, fmt.Errorf("%w: DHT truncated", ErrFormat)
				}
				class, id := seg[0]>>4, seg[0]&15
				n := 0
				for _, c := range seg[1:17] {
					n += int(c)
				}
				if id > 3 || 17+n > len(seg) {
					return nil, fmt.Errorf("%w: DHT table", ErrFormat)
				}
				h, err := newHuffman(seg[1:17], append([]byte(nil), seg[17:17+n]...))
				if err != nil {
					return nil, err
				}
				if class == 0 {
					dc[id] = h
				} else {
					ac[id] = h
				}
				seg = seg[17+n:]
			}
		case m == 0xC3: // SOF3
			if len(seg) < 6 {
				return nil, fmt.Errorf("%w: SOF3 truncated", ErrFormat)
			}
			precision = int(seg[0])
			height, width = int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
			nc := int(seg[5])
			if nc != 1 && nc != 3 || len(seg) < 6+3*nc || precision < 2 || precision > 16 {
				return nil, fmt.Errorf("%w: %d components at %d bits", ErrFormat, nc, precision)
			}
			for i := range nc {
				if seg[6+3*i+1] != 0x11 {
					return nil, fmt.Errorf("%w: subsampled components", ErrFormat)
				}
				compIDs = append(compIDs, seg[6+3*i])
			}
			if width == 0 || height == 0 || width*height > maxPixels {
				return nil, fmt.Errorf("%w: image size %dx%d", ErrFormat, width, height)
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return nil, fmt.Errorf("%w: not a lossless JPEG (SOF%d)", ErrFormat, m-0xC0)
		case m == 0xDD: // DRI
			if len(seg) >= 2 {
				restartInterval = int(binary.BigEndian.Uint16(seg))
			}
		case m == 0xDA: // SOS
			if compIDs == nil {
				return nil, fmt.Errorf("%w: scan before frame", ErrFormat)
			}
			if len(seg) < 1 || int(seg[0]) != len(compIDs) || len(seg) < 1+2*len(compIDs)+3 {
				return nil, fmt.Errorf("%w: scan must hold every component", ErrFormat)
			}
			tables := make([]*huffman, len(compIDs))
			for i := range compIDs {
				id := seg[2+2*i] >> 4 & 3
				tables[i] = dc[id]
				if tables[i] == nil {
					tables[i] = ac[id] // some encoders file the table as class 1
				}
				if tables[i] == nil {
					return nil, fmt.Errorf("%w: undefined Huffman table %d", ErrFormat, id)
				}
			}
			p := seg[1+2*len(compIDs):]
			predictor, pointTransform := int(p[0]), int(p[2]&15)
			if predictor < 1 || predictor > 7 || pointTransform >= precision {
				return nil, fmt.Errorf("%w: predictor %d, point transform %d", ErrFormat, predictor, pointTransform)
			}
			samples, err := decodeScan(&bitReader{data: data[pos:]}, tables, width, height, precision, predictor, pointTransform, restartInterval)
			if err != nil {
				return nil, err
			}
			return toImage(samples, len(compIDs), width, height, precision), nil
		case m == 0xD9:
			return nil, fmt.Errorf("%w: no scan", ErrFormat)
		}
	}
	return nil, fmt.Errorf("%w: truncated", ErrFormat)
}

// decodeScan decodes the interleaved samples of one scan (T.81 H.1, H.2).
func decodeScan(br *bitReader, tables []*huffman, width, height, precision, predictor, pt, restartInterval int) ([]uint16, error) {
	nc := len(tables)
	out := make([]uint16, width*height*nc)
	mask := int32(1)<<16 - 1
	initial := int32(1) << (precision - pt - 1)
	mcu := 0
	firstRow := 0 // the first row of the current restart interval
	for y := range height {
		for x := range width {
			if restartInterval > 0 && mcu > 0 && mcu%restartInterval == 0 {
				br.restart()
				firstRow = y
				if x != 0 {
					return nil, fmt.Errorf("%w: restart interval not a multiple of the width", ErrFormat)
				}
			}
			mcu++
			for c := range nc {
				t, err := br.decode(tables[c])
				if err != nil {
					return nil, err
				}
				var diff int32
				switch {
				case t == 0:
				case t == 16:
					diff = 32768
				case t < 16:
					v := br.bits(t)
					if v < 1<<(t-1) {
						v += -1<<t + 1
					}
					diff = v
				default:
					return nil, fmt.Errorf("%w: difference category %d", ErrFormat, t)
				}
				i := (y*width+x)*nc + c
				left, up, diag := int32(0), int32(0), int32(0)
				if x > 0 {
					left = int32(out[i-nc])
				}
				if y > firstRow {
					up = int32(out[i-width*nc])
					if x > 0 {
						diag = int32(out[i-width*nc-nc])
					}
				}
				var pred int32
				switch {
				case y == firstRow && x == 0:
					pred = initial
				case y == firstRow:
					pred = left
				case x == 0:
					pred = up
				default:
					switch predictor {
					case 1:
						pred = left
					case 2:
						pred = up
					case 3:
						pred = diag
					case 4:
						pred = left + up - diag
					case 5:
						pred = left + (up-diag)>>1
					case 6:
						pred = up + (left-diag)>>1
					case 7:
						pred = (left + up) / 2
					}
				}
				out[i] = uint16((pred + diff) & mask)
			}
		}
	}
	if pt > 0 {
		for i := range out {
			out[i] <<= pt
		}
	}
	return out, nil
}

func toImage(samples []uint16, nc, width, height, precision int) image.Image {
	r := image.Rect(0, 0, width, height)
	switch {
	case nc == 1 && precision <= 8:
		g := image.NewGray(r)
		for i, v := range samples {
			g.Pix[i] = uint8(v)
		}
		return g
	case nc == 1:
		g := image.NewGray16(r)
		for i, v := range samples {
			g.SetGray16(i%width, i/width, color.Gray16{Y: v << (16 - precision)})
		}
		return g
	}
	m := image.NewRGBA(r)
	shift := max(precision-8, 0)
	for i := 0; i < width*height; i++ {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = uint8(samples[3*i]>>shift), uint8(samples[3*i+1]>>shift), uint8(samples[3*i+2]>>shift), 0xFF
	}
	return m
}
