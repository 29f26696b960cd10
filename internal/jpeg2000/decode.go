// Package jpeg2000 decodes JPEG 2000 (ITU-T T.800) images as ANSI/NIST-ITL
// records carry them (JP2 and JP2L compression): a JP2 file or a raw
// codestream, grey or three-component (RCT or ICT), with the reversible 5/3
// or the irreversible 9/7 wavelet, any number of tiles, layers and
// resolution levels and all five progression orders, with
// precinct partitions, SOP and EPH markers, and the code-block styles
// other than selective arithmetic-coding bypass and termination on each
// pass. Anything else is reported as ErrUnsupported.
package jpeg2000

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
)

// ErrFormat reports data that breaks the codestream syntax.
var ErrFormat = errors.New("jpeg2000: invalid data")

// ErrUnsupported reports a valid codestream using a feature outside the
// supported subset (precinct partitions, code-block styles, POC, …).
var ErrUnsupported = errors.New("jpeg2000: unsupported feature")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

type component struct {
	depth  int // bits
	signed bool
	dx, dy int // sub-sampling
}

// codingStyle is a COD (or COC) marker's content.
type codingStyle struct {
	sop, eph    bool  // packets start with SOP / headers end with EPH
	ppx, ppy    []int // precinct size exponents per resolution
	progression int
	layers      int
	mct         bool
	levels      int
	cbw, cbh    int // code-block size exponents
	cbStyle     int
	reversible  bool
}

// quantization is a QCD (or QCC) marker's content.
type quantization struct {
	style     int // 0 none, 1 scalar derived, 2 scalar expounded
	guardBits int
	exponents []int
	mantissas []int
}

type header struct {
	width, height, x0, y0        int
	tileW, tileH, tileX0, tileY0 int
	comps                        []component
	cod                          codingStyle
	qcd                          quantization
}

// codestream returns the contiguous codestream of a JP2 file or the data
// itself when it is a raw codestream.
func codestream(data []byte) ([]byte, error) {
	if len(data) >= 4 && data[0] == 0xFF && data[1] == 0x4F {
		return data, nil
	}
	for len(data) >= 8 {
		length := int(binary.BigEndian.Uint32(data))
		kind := string(data[4:8])
		hdr := 8
		switch length {
		case 0:
			length = len(data)
		case 1:
			if len(data) < 16 {
				return nil, errorf("truncated box")
			}
			l := binary.BigEndian.Uint64(data[8:])
			if l > uint64(len(data)) {
				return nil, errorf("box length")
			}
			length, hdr = int(l), 16
		}
		if length < hdr || length > len(data) {
			return nil, errorf("box length %d", length)
		}
		if kind == "jp2c" {
			return data[hdr:length], nil
		}
		data = data[length:]
	}
	return nil, errorf("no codestream")
}

// Decode decodes a JPEG 2000 image whose size is at most maxPixels:
// *image.Gray or *image.Gray16 for one component, *image.RGBA for three.
func Decode(data []byte, maxPixels int) (image.Image, error) {
	cs, err := codestream(data)
	if err != nil {
		return nil, err
	}
	h, pos, err := readMainHeader(cs, maxPixels)
	if err != nil {
		return nil, err
	}
	tiles, err := readTiles(cs, pos, h)
	if err != nil {
		return nil, err
	}
	planes := make([][]int32, len(h.comps))
	for c := range planes {
		cw, ch := compSize(h, c)
		planes[c] = make([]int32, cw*ch)
	}
	numX := ceilDiv(h.width-h.tileX0, h.tileW)
	for t, body := range tiles {
		if body == nil {
			continue
		}
		if err := decodeTile(h, t%numX, t/numX, body, planes); err != nil {
			return nil, fmt.Errorf("tile %d: %w", t, err)
		}
	}
	return toImage(h, planes), nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// compSize returns the size of component c on the reference grid.
func compSize(h *header, c int) (int, int) {
	cp := h.comps[c]
	return ceilDiv(h.width, cp.dx) - ceilDiv(h.x0, cp.dx), ceilDiv(h.height, cp.dy) - ceilDiv(h.y0, cp.dy)
}

func readMainHeader(cs []byte, maxPixels int) (*header, int, error) {
	if len(cs) < 4 || cs[0] != 0xFF || cs[1] != 0x4F {
		return nil, 0, errorf("no SOC marker")
	}
	h := &header{}
	pos := 2
	gotSIZ, gotCOD, gotQCD := false, false, false
	for {
		if pos+4 > len(cs) {
			return nil, 0, errorf("truncated main header")
		}
		m := binary.BigEndian.Uint16(cs[pos:])
		if m == 0xFF90 { // SOT
			break
		}
		length := int(binary.BigEndian.Uint16(cs[pos+2:]))
		if length < 2 || pos+2+length > len(cs) {
			return nil, 0, errorf("marker %04x length", m)
		}
		seg := cs[pos+4 : pos+2+length]
		pos += 2 + length
		var err error
		switch m {
		case 0xFF51:
			err = h.readSIZ(seg, maxPixels)
			gotSIZ = true
		case 0xFF52:
			h.cod, err = readCOD(seg)
			gotCOD = true
		case 0xFF5C:
			h.qcd, err = readQCD(seg)
			gotQCD = true
		case 0xFF53, 0xFF5D, 0xFF5E, 0xFF5F, 0xFF60:
			return nil, 0, unsupported("COC, QCC, RGN, POC and PPM markers are not supported")
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if !gotSIZ || !gotCOD || !gotQCD {
		return nil, 0, errorf("main header lacks SIZ, COD or QCD")
	}
	return h, pos, nil
}

func (h *header) readSIZ(seg []byte, maxPixels int) error {
	if len(seg) < 36 {
		return errorf("SIZ truncated")
	}
	u := func(i int) int { return int(binary.BigEndian.Uint32(seg[i:])) }
	h.width, h.height, h.x0, h.y0 = u(2), u(6), u(10), u(14)
	h.tileW, h.tileH, h.tileX0, h.tileY0 = u(18), u(22), u(26), u(30)
	n := int(binary.BigEndian.Uint16(seg[34:]))
	if n != 1 && n != 3 || len(seg) < 36+3*n {
		return errorf("%d components", n)
	}
	w, hh := h.width-h.x0, h.height-h.y0
	if w <= 0 || hh <= 0 || w > 1<<16 || hh > 1<<16 || w*hh > maxPixels || h.tileW <= 0 || h.tileH <= 0 ||
		h.tileX0 > h.x0 || h.tileY0 > h.y0 || h.tileX0+h.tileW <= h.x0 || h.tileY0+h.tileH <= h.y0 {
		return errorf("image %dx%d or tiling out of range", w, hh)
	}
	if ceilDiv(h.width-h.tileX0, h.tileW)*ceilDiv(h.height-h.tileY0, h.tileH) > 1<<16 {
		return errorf("too many tiles")
	}
	for i := range n {
		b := seg[36+3*i:]
		c := component{depth: int(b[0]&0x7F) + 1, signed: b[0]&0x80 != 0, dx: int(b[1]), dy: int(b[2])}
		if c.depth > 16 || c.dx != 1 || c.dy != 1 {
			return unsupported("component %d: %d bits, sub-sampling %dx%d", i, c.depth, c.dx, c.dy)
		}
		h.comps = append(h.comps, c)
	}
	return nil
}

func readCOD(seg []byte) (codingStyle, error) {
	if len(seg) < 10 {
		return codingStyle{}, errorf("COD truncated")
	}
	c := codingStyle{
		sop:         seg[0]&2 != 0,
		eph:         seg[0]&4 != 0,
		progression: int(seg[1]),
		layers:      int(binary.BigEndian.Uint16(seg[2:])),
		mct:         seg[4] != 0,
		levels:      int(seg[5]),
		cbw:         int(seg[6]) + 2,
		cbh:         int(seg[7]) + 2,
		cbStyle:     int(seg[8]),
		reversible:  seg[9] == 1,
	}
	c.ppx = make([]int, c.levels+1)
	c.ppy = make([]int, c.levels+1)
	for r := range c.ppx {
		c.ppx[r], c.ppy[r] = 15, 15 // no partition: one precinct per resolution
		if seg[0]&1 != 0 {
			if len(seg) < 10+c.levels+1 {
				return c, errorf("COD precinct sizes truncated")
			}
			c.ppx[r], c.ppy[r] = int(seg[10+r]&15), int(seg[10+r]>>4)
			if r > 0 && (c.ppx[r] == 0 || c.ppy[r] == 0) {
				return c, errorf("precinct size 1 at resolution %d", r)
			}
		}
	}
	switch {
	case c.cbStyle&^(styleReset|styleVCausal|styleERTerm|styleSegMark) != 0:
		return c, unsupported("code-block style %#x (selective bypass or termination on each pass)", c.cbStyle)
	case c.levels > 32 || c.cbw > 10 || c.cbh > 10 || c.cbw+c.cbh > 12 || c.layers == 0 || c.progression > 4:
		return c, errorf("coding style out of range")
	}
	return c, nil
}

func readQCD(seg []byte) (quantization, error) {
	if len(seg) < 1 {
		return quantization{}, errorf("QCD truncated")
	}
	q := quantization{style: int(seg[0] & 0x1F), guardBits: int(seg[0] >> 5)}
	rest := seg[1:]
	switch q.style {
	case 0:
		for _, b := range rest {
			q.exponents = append(q.exponents, int(b>>3))
			q.mantissas = append(q.mantissas, 0)
		}
	case 1, 2:
		for i := 0; i+1 < len(rest); i += 2 {
			v := int(binary.BigEndian.Uint16(rest[i:]))
			q.exponents = append(q.exponents, v>>11)
			q.mantissas = append(q.mantissas, v&0x7FF)
		}
	default:
		return q, errorf("quantization style %d", q.style)
	}
	if len(q.exponents) == 0 {
		return q, errorf("QCD without subbands")
	}
	return q, nil
}

// readTiles collects the tile-part bodies of every tile, in order.
func readTiles(cs []byte, pos int, h *header) ([][]byte, error) {
	numTiles := ceilDiv(h.width-h.tileX0, h.tileW) * ceilDiv(h.height-h.tileY0, h.tileH)
	tiles := make([][]byte, numTiles)
	for pos+2 <= len(cs) {
		m := binary.BigEndian.Uint16(cs[pos:])
		if m == 0xFFD9 {
			break
		}
		if m != 0xFF90 || pos+12 > len(cs) {
			return nil, errorf("expected SOT at byte %d", pos)
		}
		index := int(binary.BigEndian.Uint16(cs[pos+4:]))
		length := int(binary.BigEndian.Uint32(cs[pos+6:]))
		end := pos + length
		if length == 0 {
			end = len(cs) - 2
		}
		if index >= numTiles || length != 0 && length < 14 || end > len(cs) {
			return nil, errorf("tile-part %d of %d bytes", index, length)
		}
		p := pos + 12
		for {
			if p+4 > end {
				return nil, errorf("tile-part header truncated")
			}
			mm := binary.BigEndian.Uint16(cs[p:])
			if mm == 0xFF93 { // SOD
				p += 2
				break
			}
			l := int(binary.BigEndian.Uint16(cs[p+2:]))
			if mm == 0xFF52 || mm == 0xFF5C || mm == 0xFF53 || mm == 0xFF5D || mm == 0xFF5F || mm == 0xFF61 {
				return nil, unsupported("tile-part header marker %04x", mm)
			}
			p += 2 + l
		}
		tiles[index] = append(tiles[index], cs[p:end]...)
		pos = end
	}
	return tiles, nil
}
