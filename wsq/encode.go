package wsq

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"math"
	"sort"

	"github.com/huella-abis/huella/imgproc"
)

// Options configures the encoder.
type Options struct {
	// BitRate is the achieved rate in bits per pixel of the whole file,
	// headers included: the encoder picks the coarsest quantisation whose
	// file is at most BitRate·width·height/8 bytes, and lands within about
	// 0.5% below that. Tiny images whose headers alone exceed it get the
	// smallest file possible, and nearly flat ones, which need fewer bits
	// even at the finest useful step (half a grey level), a smaller file.
	// 0 means DefaultBitRate (0.75).
	BitRate float64
	// PPI is the resolution written to the NIST_COM comment; 0 means 500.
	PPI int
	// Comment, when not empty, is written as an extra COM segment.
	Comment string
	// Trace, when set, receives the image of each stage (see Trace).
	Trace Trace
}

// Encode compresses img (converted to 8-bit grey) as a WSQ file.
func Encode(w io.Writer, img image.Image, opts *Options) error {
	data, err := EncodeGray(imgproc.ToGray(img), opts)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// EncodeGray compresses an 8-bit grey image as a WSQ file: normalisation,
// the 64-subband decomposition, the bin widths for the target rate (found
// by a few quantise-and-count passes, see fitRate), dead-zone scalar
// quantisation and Huffman coding in the reference encoder's layout. The
// file uses only what IAFIS-IC-0110 v3.1 decoders read from the DQT: the
// bin widths Q, the zero bins Z (chosen per subband so that the decoder's
// reconstruction Q·(p−C)+Z/2 is the centroid of each bin) and C = 0.44.
func EncodeGray(g *image.Gray, opts *Options) ([]byte, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BitRate == 0 {
		o.BitRate = DefaultBitRate
	}
	if o.PPI == 0 {
		o.PPI = DefaultPPI
	}
	b := g.Bounds()
	width, height := b.Dx(), b.Dy()
	if width < 1 || height < 1 || width > 0xFFFF || height > 0xFFFF {
		return nil, fmt.Errorf("wsq: encode: image size %dx%d out of range", width, height)
	}
	if o.BitRate <= 0 || o.BitRate > 8 || math.IsNaN(o.BitRate) {
		return nil, fmt.Errorf("wsq: encode: bit rate %g out of range", o.BitRate)
	}
	if len(o.Comment) > 0xFFFF-2 {
		return nil, fmt.Errorf("wsq: encode: comment of %d bytes too long", len(o.Comment))
	}
	filters, err := newFilterBank(defaultLowPass, defaultHighPass)
	if err != nil {
		return nil, err
	}
	frame, plane := normalizedPlane(g)
	tree := newDecomposition(width, height)
	decompose(plane, tree, filters, width)
	traceSubbands(o.Trace, "wsq-subbands", plane, tree, width, height)
	alloc := newAllocation()
	target := int(o.BitRate * float64(width) * float64(height) / 8)
	headerBytes := len(writeHeaders(frame, filters, alloc.table(1, nil), o))
	peak := 0.0
	for _, v := range plane {
		peak = max(peak, math.Abs(float64(v)))
	}
	minScale := finestStep / frame.Scale
	for k := 0; k < numCodedSubbands; k++ {
		minScale = max(minScale, peak/(alloc.shape[k]*maxCoefficient))
	}
	qt := alloc.fitRate(plane, tree, width, headerBytes, target, minScale)
	var smallest []byte
	for i := range maxRatePasses {
		coefficients := alloc.quantize(qt, plane, tree, width)
		data := append(writeHeaders(frame, filters, qt, o), writeBlocks(qt, tree, coefficients)...)
		if smallest == nil || len(data) < len(smallest) {
			smallest = data
		}
		if len(data) <= target || allCut(qt) || i == maxRatePasses-1 {
			if o.Trace != nil {
				traceSubbands(o.Trace, "wsq-quantized", qt.dequantize(coefficients, tree, width, height), tree, width, height)
			}
			return smallest, nil
		}
		// The estimate fell short (byte stuffing, or the headers of a tiny
		// image): coarsen, by more each time.
		f := 1 + 0.005*float64(int(1)<<i)
		for k := range qt.q {
			if qt.q[k] != 0 {
				offset := qt.z[k]/(2*qt.q[k]) - qt.binCenter // δ/Q, kept
				qt.q[k] = decimalValue(decimal16(qt.q[k] * f))
				qt.z[k] = decimalValue(decimal16(2 * qt.q[k] * max(0, offset+qt.binCenter)))
			}
		}
	}
	panic("unreachable")
}

// allCut reports whether qt codes no subband.
func allCut(qt *quantTable) bool {
	for _, q := range qt.q {
		if q != 0 {
			return false
		}
	}
	return true
}

// newAllocation returns the encoder's allocation: bin widths that give
// every subband the same contribution to the image's squared error per unit
// of step², Q_k ∝ 1/√gain_k (the high-rate optimum for mean squared error;
// see synthesisGains), with the decision rule of params.go.
func newAllocation() *allocation {
	a := &allocation{zeroTo: zeroThreshold, rounding: roundingOffset, centroids: true}
	g := defaultGains()
	for k := 0; k < numCodedSubbands; k++ {
		a.shape[k] = 1 / math.Sqrt(g[k])
		a.offset[k] = initialOffset
	}
	return a
}

// normalizedPlane returns the frame header values M and R and the image as
// floats (pixel - M) / R, using M and R as the file will store them.
func normalizedPlane(g *image.Gray) (Frame, []float32) {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	sum, lo, hi := 0.0, 255, 0
	for y := 0; y < h; y++ {
		for _, p := range g.Pix[(b.Min.Y+y-g.Rect.Min.Y)*g.Stride+(b.Min.X-g.Rect.Min.X):][:w] {
			sum += float64(p)
			lo, hi = min(lo, int(p)), max(hi, int(p))
		}
	}
	mean := sum / float64(w*h)
	scale := max(float64(hi)-mean, mean-float64(lo)) / 128
	if scale == 0 {
		scale = 1
	}
	frame := Frame{Black: 0, White: 255, Width: w, Height: h, Encoder: 2}
	frame.Shift = decimalValue(decimal16(mean))
	frame.Scale = decimalValue(decimal16(scale))
	plane := make([]float32, w*h)
	for y := 0; y < h; y++ {
		row := g.Pix[(b.Min.Y+y-g.Rect.Min.Y)*g.Stride+(b.Min.X-g.Rect.Min.X):][:w]
		for x, p := range row {
			plane[y*w+x] = float32((float64(p) - frame.Shift) / frame.Scale)
		}
	}
	return frame, plane
}

// decimal16 encodes v ≥ 0 as value / 10^scale with value < 65536, keeping
// as many digits as fit (the specification's scaled integers).
func decimal16(v float64) (scale byte, value uint16) {
	if v <= 0 {
		return 0, 0
	}
	for v*10 < 65535 && scale < 30 {
		v *= 10
		scale++
	}
	return scale, uint16(math.Min(math.Round(v), 65535))
}

func decimalValue(scale byte, value uint16) float64 { return scaled(scale, uint32(value)) }

// decompose runs the forward transform of every node, shallowest first.
func decompose(plane []float32, tree *decomposition, filters *filterBank, width int) {
	p := newPlane(plane, width)
	for _, r := range tree.nodes {
		p.analyze(filters, r)
	}
}

// writeHeaders starts the byte stream in the order of the reference
// encoder: SOI, COM, DTT, DQT, SOF.
func writeHeaders(frame Frame, filters *filterBank, qt *quantTable, o Options) []byte {
	var buf bytes.Buffer
	put16 := func(v int) { buf.WriteByte(byte(v >> 8)); buf.WriteByte(byte(v)) }
	put16(markerSOI)

	comment := fmt.Sprintf("NIST_COM 9\nPIX_WIDTH %d\nPIX_HEIGHT %d\nPIX_DEPTH 8\nPPI %d\nLOSSY 1\nCOLORSPACE GRAY\nCOMPRESSION WSQ\nWSQ_BITRATE %f",
		frame.Width, frame.Height, o.PPI, o.BitRate)
	for _, c := range []string{comment, o.Comment} {
		if c == "" {
			continue
		}
		if len(c) > 0xFFFF-2 {
			c = c[:0xFFFF-2] // checked by EncodeGray
		}
		put16(markerCOM)
		put16(len(c) + 2)
		buf.WriteString(c)
	}

	put16(markerDTT)
	put16(2 + 2 + 6*(len(filters.loHalf)+len(filters.hiHalf)))
	buf.WriteByte(byte(2*len(filters.loHalf) - 1))
	buf.WriteByte(byte(2*len(filters.hiHalf) - 1))
	for _, half := range [][]float64{filters.loHalf, filters.hiHalf} {
		for _, c := range half {
			sign := byte(0)
			if c < 0 {
				sign, c = 1, -c
			}
			scale, value := decimal32(c)
			buf.WriteByte(sign)
			buf.WriteByte(scale)
			var v [4]byte
			binary.BigEndian.PutUint32(v[:], value)
			buf.Write(v[:])
		}
	}

	put16(markerDQT)
	put16(2 + 3 + 6*numSubbands)
	// The bin centre as the reference encoder writes it: 44 / 10^2.
	buf.WriteByte(2)
	put16(int(math.Round(qt.binCenter * 100)))
	for k := 0; k < numSubbands; k++ {
		s, v := decimal16(qt.q[k])
		buf.WriteByte(s)
		put16(int(v))
		s, v = decimal16(qt.z[k])
		buf.WriteByte(s)
		put16(int(v))
	}

	put16(markerSOF)
	put16(17)
	buf.WriteByte(byte(frame.Black))
	buf.WriteByte(byte(frame.White))
	put16(frame.Height)
	put16(frame.Width)
	s, v := decimal16(frame.Shift)
	buf.WriteByte(s)
	put16(int(v))
	s, v = decimal16(frame.Scale)
	buf.WriteByte(s)
	put16(int(v))
	buf.WriteByte(byte(frame.Encoder))
	put16(frame.Software)

	return buf.Bytes()
}

// writeBlocks ends the stream as the reference encoder does: DHT 0 and
// block 1, DHT 1 and blocks 2 and 3, EOI.
func writeBlocks(qt *quantTable, tree *decomposition, coefficients []int32) []byte {
	var buf bytes.Buffer
	put16 := func(v int) { buf.WriteByte(byte(v >> 8)); buf.WriteByte(byte(v)) }
	// Split the coefficients into the three blocks.
	var sizes [3]int
	for k, r := range tree.subbands[:numCodedSubbands] {
		if qt.q[k] == 0 {
			continue
		}
		switch {
		case k < blockSplit1:
			sizes[0] += r.w * r.h
		case k < blockSplit2:
			sizes[1] += r.w * r.h
		default:
			sizes[2] += r.w * r.h
		}
	}
	blocks := [3][]int32{
		coefficients[:sizes[0]],
		coefficients[sizes[0] : sizes[0]+sizes[1]],
		coefficients[sizes[0]+sizes[1]:],
	}
	symbols := [3][]codedSymbol{}
	for i, blk := range blocks {
		symbols[i] = symbolize(blk)
	}
	tables := [2]*huffCode{
		newHuffCode(symbols[0]),
		newHuffCode(append(append([]codedSymbol(nil), symbols[1]...), symbols[2]...)),
	}
	for i := range blocks {
		id := min(i, 1)
		if i < 2 {
			t := tables[id]
			put16(markerDHT)
			put16(2 + 1 + maxHuffBits + len(t.values))
			buf.WriteByte(byte(id))
			for l := 1; l <= maxHuffBits; l++ {
				buf.WriteByte(byte(t.counts[l]))
			}
			buf.Write(t.values)
		}
		put16(markerSOB)
		put16(3)
		buf.WriteByte(byte(id))
		writeBlock(&buf, symbols[i], tables[id])
	}
	put16(markerEOI)
	return buf.Bytes()
}

// decimal32 is decimal16 for the 32-bit values of the transform table.
func decimal32(v float64) (scale byte, value uint32) {
	if v <= 0 {
		return 0, 0
	}
	for v*10 < math.MaxUint32 && scale < 40 {
		v *= 10
		scale++
	}
	return scale, uint32(math.Min(math.Round(v), math.MaxUint32))
}

// codedSymbol is one Huffman symbol with its extra bits.
type codedSymbol struct {
	symbol    byte
	extraBits uint8 // 0, 8 or 16
	extra     uint16
}

// symbolize turns a block of coefficients into the symbol alphabet: zero
// runs, small values inline and escapes for larger ones.
func symbolize(coefficients []int32) []codedSymbol {
	var out []codedSymbol
	run := 0
	flush := func() {
		for run > 0 {
			switch {
			case run <= symMaxZeroRun:
				out = append(out, codedSymbol{symbol: byte(run)})
				run = 0
			case run <= 0xFF:
				out = append(out, codedSymbol{symbol: symZeroRun8, extraBits: 8, extra: uint16(run)})
				run = 0
			default:
				n := min(run, maxZeroRunField)
				out = append(out, codedSymbol{symbol: symZeroRun16, extraBits: 16, extra: uint16(n)})
				run -= n
			}
		}
	}
	for _, c := range coefficients {
		if c == 0 {
			run++
			continue
		}
		flush()
		switch {
		case c >= maxInlineNeg && c <= maxInlinePos:
			out = append(out, codedSymbol{symbol: byte(c + symValueOffset)})
		case c > 0 && c <= 0xFF:
			out = append(out, codedSymbol{symbol: symPos8, extraBits: 8, extra: uint16(c)})
		case c < 0 && c >= -0xFF:
			out = append(out, codedSymbol{symbol: symNeg8, extraBits: 8, extra: uint16(-c)})
		case c > 0:
			out = append(out, codedSymbol{symbol: symPos16, extraBits: 16, extra: uint16(c)})
		default:
			out = append(out, codedSymbol{symbol: symNeg16, extraBits: 16, extra: uint16(-c)})
		}
	}
	flush()
	return out
}

// huffCode is a Huffman table for encoding: the DHT contents and the code
// and length of each symbol.
type huffCode struct {
	counts [maxHuffBits + 1]int
	values []byte
	code   [256]uint16
	length [256]uint8
}

// newHuffCode builds a length-limited Huffman code for the symbols as in
// JPEG Annex K: code lengths from the frequencies (with one reserved
// all-ones code point so no code is all ones), lengths limited to 16 bits,
// then canonical codes in order of length and symbol.
func newHuffCode(symbols []codedSymbol) *huffCode {
	var counts [256]int
	for _, s := range symbols {
		counts[s.symbol]++
	}
	return newHuffCodeFreq(counts)
}

// newHuffCodeFreq is newHuffCode from the count of each symbol.
func newHuffCodeFreq(counts [256]int) *huffCode {
	var freq [257]int
	copy(freq[:], counts[:])
	if counts == ([256]int{}) {
		freq[1] = 1 // an empty block still needs a valid table
	}
	freq[256] = 1 // reserved code point
	var size [257]int
	others := [257]int{}
	for i := range others {
		others[i] = -1
	}
	for {
		// The two least frequent live entries (ties: the larger index).
		c1, c2 := -1, -1
		for i := 0; i < 257; i++ {
			if freq[i] == 0 {
				continue
			}
			if c1 < 0 || freq[i] <= freq[c1] {
				c2, c1 = c1, i
			} else if c2 < 0 || freq[i] <= freq[c2] {
				c2 = i
			}
		}
		if c2 < 0 {
			break
		}
		freq[c1] += freq[c2]
		freq[c2] = 0
		for {
			size[c1]++
			if others[c1] < 0 {
				break
			}
			c1 = others[c1]
		}
		others[c1] = c2
		for {
			size[c2]++
			if others[c2] < 0 {
				break
			}
			c2 = others[c2]
		}
	}
	// Code lengths can exceed 32 bits for skewed counts: keep them all.
	var bits [258]int
	for i := 0; i < 257; i++ {
		if size[i] > 0 {
			bits[size[i]]++
		}
	}
	// Limit code lengths to 16 bits.
	for i := len(bits) - 1; i > maxHuffBits; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	// Remove the reserved code point from the longest length.
	i := maxHuffBits
	for bits[i] == 0 {
		i--
	}
	bits[i]--
	h := &huffCode{}
	copy(h.counts[1:], bits[1:maxHuffBits+1])
	// Symbols sorted by code length, then value.
	type sv struct{ size, symbol int }
	var order []sv
	for s := 0; s < 256; s++ {
		if size[s] > 0 {
			order = append(order, sv{size[s], s})
		}
	}
	sort.Slice(order, func(a, b int) bool {
		if order[a].size != order[b].size {
			return order[a].size < order[b].size
		}
		return order[a].symbol < order[b].symbol
	})
	for _, o := range order {
		h.values = append(h.values, byte(o.symbol))
	}
	// Canonical codes by length.
	code, k := 0, 0
	for l := 1; l <= maxHuffBits; l++ {
		for n := 0; n < h.counts[l]; n++ {
			s := h.values[k]
			h.code[s], h.length[s] = uint16(code), uint8(l)
			code++
			k++
		}
		code <<= 1
	}
	return h
}

// writeBlock writes the symbols MSB first with 0xFF bytes stuffed with a
// zero and the last byte padded with ones.
func writeBlock(buf *bytes.Buffer, symbols []codedSymbol, t *huffCode) {
	var acc uint64
	var n uint
	put := func(v uint32, bits uint) {
		acc = acc<<bits | uint64(v)&(1<<bits-1)
		n += bits
		for n >= 8 {
			b := byte(acc >> (n - 8))
			buf.WriteByte(b)
			if b == 0xFF {
				buf.WriteByte(0)
			}
			n -= 8
		}
	}
	for _, s := range symbols {
		put(uint32(t.code[s.symbol]), uint(t.length[s.symbol]))
		if s.extraBits > 0 {
			put(uint32(s.extra), uint(s.extraBits))
		}
	}
	if n > 0 {
		put(1<<(8-n)-1, 8-n)
	}
}
