package wsq

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/huella-abis/huella/imgproc"
)

const defaultMaxPixels = imgproc.MaxPixels

var grayModel = color.GrayModel

// Decoder decodes WSQ files under a size cap.
type Decoder struct {
	// MaxPixels caps the declared width×height; zero means imgproc.MaxPixels.
	MaxPixels int
	// Trace, when set, receives the image of each stage (see Trace).
	Trace Trace
}

// DecodeFile decodes a WSQ file held in memory.
func DecodeFile(data []byte) (*File, error) { return Decoder{}.Decode(data) }

// Decode decodes a WSQ file held in memory: the stages of the specification
// in order. No allocation exceeds what the declared size (capped) needs, and
// the coefficient planes are allocated only once the entropy-coded data has
// proved to hold every coefficient.
func (dc Decoder) Decode(data []byte) (*File, error) {
	d := &decoder{data: data, maxPixels: dc.MaxPixels}
	if d.maxPixels <= 0 {
		d.maxPixels = defaultMaxPixels
	}
	frame, err := d.readHeaders()
	if err != nil {
		return nil, err
	}
	tree := newDecomposition(frame.Width, frame.Height)
	coefficients, err := d.readBlocks(tree)
	if err != nil {
		return nil, err
	}
	if d.quant == nil {
		return nil, fmt.Errorf("%w: no quantisation table", ErrFormat)
	}
	filters := d.filters
	if filters == nil {
		if filters, err = newFilterBank(defaultLowPass, defaultHighPass); err != nil {
			return nil, err
		}
	}
	subbands := d.quant.dequantize(coefficients, tree, frame.Width, frame.Height)
	traceSubbands(dc.Trace, "wsq-subbands", subbands, tree, frame.Width, frame.Height)
	reconstruct(subbands, tree, filters, frame.Width)
	gray := toGray(subbands, frame)
	if dc.Trace != nil {
		dc.Trace("wsq-reconstructed", gray)
	}
	return &File{Image: gray, Frame: frame, PPI: d.ppi, Comments: d.comments}, nil
}

// quantTable is the DQT: bin centre C, bin widths Q and zero bins Z.
type quantTable struct {
	binCenter float64
	q, z      [numSubbands]float64
}

// codedCount returns how many coefficients the stream carries for tree.
func (qt *quantTable) codedCount(tree *decomposition) int {
	n := 0
	for k, r := range tree.subbands[:numCodedSubbands] {
		if qt.q[k] != 0 {
			n += r.w * r.h
		}
	}
	return n
}

// dequantize places the coefficients into their subbands of a float plane.
func (qt *quantTable) dequantize(coefficients []int32, tree *decomposition, width, height int) []float32 {
	plane := make([]float32, width*height)
	i := 0
	for k, r := range tree.subbands[:numCodedSubbands] {
		q := qt.q[k]
		if q == 0 {
			continue
		}
		// value = q*(p ∓ C) ± Z/2 = q*p ∓ (q*C - Z/2) for p ≷ 0.
		q32, offset := float32(q), float32(q*qt.binCenter-qt.z[k]/2)
		for y := r.y; y < r.y+r.h; y++ {
			row := plane[y*width+r.x : y*width+r.x+r.w]
			src := coefficients[i : i+len(row)]
			i += len(row)
			for x, p := range src {
				switch {
				case p > 0:
					row[x] = q32*float32(p) - offset
				case p < 0:
					row[x] = q32*float32(p) + offset
				}
			}
		}
	}
	return plane
}

// reconstruct runs the synthesis of every transform node, deepest first.
func reconstruct(subbands []float32, tree *decomposition, filters *filterBank, width int) {
	p := newPlane(subbands, width)
	for i := len(tree.nodes) - 1; i >= 0; i-- {
		p.synthesize(filters, tree.nodes[i])
	}
}

// toGray undoes the normalisation (pixel = value*R + M) and rounds to 8 bits.
func toGray(plane []float32, frame Frame) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, frame.Width, frame.Height))
	scale, shift := float32(frame.Scale), float32(frame.Shift)
	for i, v := range plane {
		p := v*scale + shift + 0.5
		switch {
		case p < 0:
			g.Pix[i] = 0
		case p > 255:
			g.Pix[i] = 255
		default:
			g.Pix[i] = uint8(p)
		}
	}
	return g
}

// decoder is the state of one decoding: the byte cursor and the tables read.
type decoder struct {
	data      []byte
	pos       int
	maxPixels int

	frame    Frame
	filters  *filterBank
	quant    *quantTable
	huffman  [maxHuffTables]*huffTable
	comments []string
	ppi      int
}

func (d *decoder) u8() (int, error) {
	if d.pos+1 > len(d.data) {
		return 0, ErrTruncated
	}
	d.pos++
	return int(d.data[d.pos-1]), nil
}

func (d *decoder) u16() (int, error) {
	if d.pos+2 > len(d.data) {
		return 0, ErrTruncated
	}
	d.pos += 2
	return int(binary.BigEndian.Uint16(d.data[d.pos-2:])), nil
}

// segment returns the payload of a length-prefixed segment and moves past it.
func (d *decoder) segment(name string) ([]byte, error) {
	n, err := d.u16()
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, fmt.Errorf("%w: %s segment length %d", ErrFormat, name, n)
	}
	if d.pos+n-2 > len(d.data) {
		return nil, fmt.Errorf("%s segment: %w", name, ErrTruncated)
	}
	seg := d.data[d.pos : d.pos+n-2]
	d.pos += n - 2
	return seg, nil
}

// readHeaders reads SOI, the tables and comments before the frame, and the
// frame header, checking the declared size against the cap.
func (d *decoder) readHeaders() (Frame, error) {
	m, err := d.u16()
	if err != nil {
		return Frame{}, err
	}
	if m != markerSOI {
		return Frame{}, fmt.Errorf("%w: no start-of-image marker", ErrFormat)
	}
	for {
		m, err := d.u16()
		if err != nil {
			return Frame{}, err
		}
		if m == markerSOF {
			break
		}
		if err := d.readTable(m); err != nil {
			return Frame{}, err
		}
	}
	seg, err := d.segment("frame")
	if err != nil {
		return Frame{}, err
	}
	if len(seg) < 15 {
		return Frame{}, fmt.Errorf("%w: frame header of %d bytes", ErrFormat, len(seg))
	}
	f := Frame{
		Black:    int(seg[0]),
		White:    int(seg[1]),
		Height:   int(binary.BigEndian.Uint16(seg[2:])),
		Width:    int(binary.BigEndian.Uint16(seg[4:])),
		Shift:    scaled(seg[6], uint32(binary.BigEndian.Uint16(seg[7:]))),
		Scale:    scaled(seg[9], uint32(binary.BigEndian.Uint16(seg[10:]))),
		Encoder:  int(seg[12]),
		Software: int(binary.BigEndian.Uint16(seg[13:])),
	}
	if f.Width == 0 || f.Height == 0 {
		return Frame{}, fmt.Errorf("%w: image size %dx%d", ErrFormat, f.Width, f.Height)
	}
	if f.Width*f.Height > d.maxPixels {
		return Frame{}, fmt.Errorf("%w: %dx%d", ErrTooLarge, f.Width, f.Height)
	}
	d.frame = f
	return f, nil
}

// scaled returns value / 10^scale, the specification's decimal encoding.
func scaled(scale byte, value uint32) float64 {
	return float64(value) / math.Pow(10, float64(scale))
}

// readTable reads one table or comment segment introduced by marker m.
func (d *decoder) readTable(m int) error {
	switch m {
	case markerDTT:
		seg, err := d.segment("transform table")
		if err != nil {
			return err
		}
		return d.readTransformTable(seg)
	case markerDQT:
		seg, err := d.segment("quantisation table")
		if err != nil {
			return err
		}
		return d.readQuantTable(seg)
	case markerDHT:
		seg, err := d.segment("Huffman table")
		if err != nil {
			return err
		}
		return d.readHuffmanTables(seg)
	case markerCOM:
		seg, err := d.segment("comment")
		if err != nil {
			return err
		}
		d.readComment(seg)
		return nil
	case markerDRT:
		_, err := d.segment("restart interval")
		return err
	default:
		return fmt.Errorf("%w: unexpected marker %#04x at byte %d", ErrFormat, m, d.pos-2)
	}
}

func (d *decoder) readTransformTable(seg []byte) error {
	if len(seg) < 2 {
		return fmt.Errorf("%w: transform table of %d bytes", ErrFormat, len(seg))
	}
	loSize, hiSize := int(seg[0]), int(seg[1])
	if loSize%2 == 0 || hiSize%2 == 0 {
		return fmt.Errorf("%w: even-length transform filters (%d, %d taps)", ErrUnsupported, loSize, hiSize)
	}
	if loSize > maxFilterTaps || hiSize > maxFilterTaps {
		return fmt.Errorf("%w: transform filters of %d and %d taps", ErrFormat, loSize, hiSize)
	}
	nLo, nHi := (loSize+1)/2, (hiSize+1)/2
	if len(seg) < 2+6*(nLo+nHi) {
		return fmt.Errorf("transform table: %w", ErrTruncated)
	}
	read := func(b []byte) float64 {
		v := scaled(b[1], binary.BigEndian.Uint32(b[2:]))
		if b[0] != 0 {
			v = -v
		}
		return v
	}
	lo, hi := make([]float64, nLo), make([]float64, nHi)
	p := seg[2:]
	for i := range lo {
		lo[i] = read(p[6*i:])
	}
	p = p[6*nLo:]
	for i := range hi {
		hi[i] = read(p[6*i:])
	}
	fb, err := newFilterBank(lo, hi)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	d.filters = fb
	return nil
}

func (d *decoder) readQuantTable(seg []byte) error {
	if len(seg) < 3+6*numSubbands {
		return fmt.Errorf("%w: quantisation table of %d bytes", ErrFormat, len(seg))
	}
	qt := &quantTable{binCenter: scaled(seg[0], uint32(binary.BigEndian.Uint16(seg[1:])))}
	p := seg[3:]
	for k := 0; k < numSubbands; k++ {
		b := p[6*k:]
		qt.q[k] = scaled(b[0], uint32(binary.BigEndian.Uint16(b[1:])))
		qt.z[k] = scaled(b[3], uint32(binary.BigEndian.Uint16(b[4:])))
	}
	d.quant = qt
	return nil
}

func (d *decoder) readHuffmanTables(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 1+maxHuffBits {
			return fmt.Errorf("Huffman table: %w", ErrTruncated)
		}
		id := int(seg[0])
		if id >= maxHuffTables {
			return fmt.Errorf("%w: Huffman table id %d", ErrFormat, id)
		}
		var counts [maxHuffBits + 1]int
		total := 0
		for l := 1; l <= maxHuffBits; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		seg = seg[1+maxHuffBits:]
		if total > len(seg) {
			return fmt.Errorf("Huffman table values: %w", ErrTruncated)
		}
		t, err := newHuffTable(counts, append([]byte(nil), seg[:total]...))
		if err != nil {
			return err
		}
		d.huffman[id] = t
		seg = seg[total:]
	}
	return nil
}

// readComment keeps the comment text and takes the resolution from a
// NIST_COM comment ("PPI 500" line).
func (d *decoder) readComment(seg []byte) {
	text := string(seg)
	d.comments = append(d.comments, text)
	if !strings.HasPrefix(text, "NIST_COM") {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "PPI "); ok {
			if ppi, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ppi > 0 {
				d.ppi = ppi
			}
		}
	}
}

// readBlocks reads the blocks up to EOI and returns the quantised
// coefficients of every coded subband in stream order.
func (d *decoder) readBlocks(tree *decomposition) ([]int32, error) {
	var coefficients []int32
	want := -1
	var unstuffed []byte
	for {
		m, err := d.u16()
		if err != nil {
			return nil, fmt.Errorf("before end of image: %w", err)
		}
		if m == markerEOI {
			break
		}
		if m != markerSOB {
			if err := d.readTable(m); err != nil {
				return nil, err
			}
			continue
		}
		seg, err := d.segment("block header")
		if err != nil {
			return nil, err
		}
		if len(seg) < 1 {
			return nil, fmt.Errorf("%w: empty block header", ErrFormat)
		}
		id := int(seg[0])
		if id >= maxHuffTables || d.huffman[id] == nil {
			return nil, fmt.Errorf("%w: block uses undefined Huffman table %d", ErrFormat, id)
		}
		if d.quant == nil {
			return nil, fmt.Errorf("%w: block before the quantisation table", ErrFormat)
		}
		if want < 0 {
			want = d.quant.codedCount(tree)
			// Reserve what the input can plausibly hold, never the declared
			// size alone: a hostile header must not buy a large allocation.
			coefficients = make([]int32, 0, min(want, 256*len(d.data)))
		}
		unstuffed = d.entropySegment(unstuffed[:0])
		coefficients, err = decodeBlock(coefficients, want, unstuffed, d.huffman[id])
		if err != nil {
			return nil, err
		}
	}
	if want < 0 {
		return nil, fmt.Errorf("%w: no coefficient blocks", ErrFormat)
	}
	if len(coefficients) != want {
		return nil, fmt.Errorf("%w: %d coefficients decoded, %d expected", ErrFormat, len(coefficients), want)
	}
	return coefficients, nil
}

// entropySegment copies the entropy-coded bytes up to the next marker into
// buf, removing the zero byte stuffed after each 0xFF, and moves past them.
func (d *decoder) entropySegment(buf []byte) []byte {
	data := d.data
	i := d.pos
	for i < len(data) {
		b := data[i]
		if b != 0xFF {
			buf = append(buf, b)
			i++
			continue
		}
		if i+1 < len(data) && data[i+1] == 0 {
			buf = append(buf, 0xFF)
			i += 2
			continue
		}
		break // a marker (or a lone 0xFF at the end)
	}
	d.pos = i
	return buf
}

// decodeBlock appends the coefficients of one block to out, never beyond want.
func decodeBlock(out []int32, want int, data []byte, t *huffTable) ([]int32, error) {
	br := bitReader{data: data}
	tooMany := fmt.Errorf("%w: more coefficients than the subbands hold", ErrFormat)
	zeros := func(n int) error {
		if len(out)+n > want {
			return tooMany
		}
		out = slices.Grow(out, n)
		out = out[:len(out)+n]
		clear(out[len(out)-n:])
		return nil
	}
	value := func(v int32) error {
		if len(out) >= want {
			return tooMany
		}
		out = append(out, v)
		return nil
	}
	for {
		sym, ok, err := br.symbol(t)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		s := int(sym)
		switch {
		case s >= 1 && s <= symMaxZeroRun:
			err = zeros(s)
		case s > symZeroRun16 && s < 0xFF:
			err = value(int32(s - symValueOffset))
		case s >= symPos8 && s <= symZeroRun16:
			n := uint(8)
			if s == symPos16 || s == symNeg16 || s == symZeroRun16 {
				n = 16
			}
			v, ok := br.bits(n)
			if !ok {
				return nil, fmt.Errorf("coefficient escape: %w", ErrTruncated)
			}
			switch s {
			case symPos8, symPos16:
				err = value(int32(v))
			case symNeg8, symNeg16:
				err = value(-int32(v))
			default:
				err = zeros(int(v))
			}
		default:
			return nil, fmt.Errorf("%w: invalid coefficient symbol %d", ErrFormat, s)
		}
		if err != nil {
			return nil, err
		}
	}
}
