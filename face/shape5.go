package face

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// ShapePredictor is dlib's shape_predictor (Kazemi and Sullivan's ensemble
// of regression trees): a cascade of forests, each tree choosing a leaf by
// comparing the grey levels of pairs of pixels placed relative to the
// current shape estimate and adding that leaf's shape increment.
type ShapePredictor struct {
	// initial is the mean shape, x, y per part, in box-normalised units
	// ((0,0) top-left corner of the box, (1,1) bottom-right).
	initial  []float32
	cascades []spCascade
}

// spCascade is one level of the cascade: the feature pixels, each an offset
// from one part of the initial shape, and the trees that read them.
type spCascade struct {
	anchors []int32
	deltas  []float32 // x, y per feature pixel
	trees   []spTree
}

// spTree is a complete binary tree: node i's children are 2i+1 and 2i+2;
// past the splits come the leaves, each a shape increment.
type spTree struct {
	splits []spSplit
	leaves []float32 // (len(splits)+1) × len(initial)
}

// spSplit goes left when pixel a is brighter than pixel b by more than
// thresh grey levels.
type spSplit struct {
	a, b   int32
	thresh float32
}

// Limits on a decoded shape predictor (dlib's shipped models are far inside
// them); they bound what a malformed file can make the decoder allocate.
const (
	spMaxParts    = 194
	spMaxCascades = 64
	spMaxTrees    = 4096
	spMaxSplits   = 1023
	spMaxFeatures = 4096
)

// NumParts is the number of landmarks the predictor places.
func (s *ShapePredictor) NumParts() int { return len(s.initial) / 2 }

// DecodeDlibShapePredictor reads a shape predictor in dlib's serialisation
// (shape_predictor_5_face_landmarks.dat and the like). It returns an error
// wrapping ErrModel when the data is not a well-formed predictor.
func DecodeDlibShapePredictor(r io.Reader) (*ShapePredictor, error) {
	s := &ShapePredictor{}
	err := readDlib(r, func(d *dlibReader) {
		if v := d.int(4); d.err == nil && v != 1 {
			d.fail("shape predictor version %d", v)
		}
		s.initial = d.column(2 * spMaxParts)
		if d.err == nil && (len(s.initial) == 0 || len(s.initial)%2 != 0) {
			d.fail("initial shape of %d values", len(s.initial))
		}
		n := d.count(spMaxCascades, "cascade")
		for c := 0; c < n && d.err == nil; c++ {
			var cas spCascade
			trees := d.count(spMaxTrees, "tree")
			for t := 0; t < trees && d.err == nil; t++ {
				var tr spTree
				splits := d.count(spMaxSplits, "split")
				for i := 0; i < splits && d.err == nil; i++ {
					a, b := d.int(8), d.int(8)
					thresh := d.float()
					if a < 0 || b < 0 || a >= spMaxFeatures || b >= spMaxFeatures {
						d.fail("split pixel index out of range")
					}
					tr.splits = append(tr.splits, spSplit{a: int32(a), b: int32(b), thresh: thresh})
				}
				if d.count(spMaxSplits+1, "leaf") != splits+1 && d.err == nil {
					d.fail("tree with %d splits needs %d leaves", splits, splits+1)
				}
				for i := 0; i <= splits && d.err == nil; i++ {
					leaf := d.column(len(s.initial))
					if d.err == nil && len(leaf) != len(s.initial) {
						d.fail("leaf of %d values, shape has %d", len(leaf), len(s.initial))
					}
					tr.leaves = append(tr.leaves, leaf...)
				}
				cas.trees = append(cas.trees, tr)
			}
			s.cascades = append(s.cascades, cas)
		}
		if d.count(spMaxCascades, "anchor list") != n && d.err == nil {
			d.fail("anchor lists do not match the cascades")
		}
		for c := 0; c < n && d.err == nil; c++ {
			k := d.count(spMaxFeatures, "anchor")
			for i := 0; i < k && d.err == nil; i++ {
				a := d.int(8)
				if a < 0 || a >= int64(s.NumParts()) {
					d.fail("anchor %d out of range", a)
				}
				s.cascades[c].anchors = append(s.cascades[c].anchors, int32(a))
			}
		}
		if d.count(spMaxCascades, "delta list") != n && d.err == nil {
			d.fail("delta lists do not match the cascades")
		}
		for c := 0; c < n && d.err == nil; c++ {
			k := d.count(spMaxFeatures, "delta")
			if d.err == nil && k != len(s.cascades[c].anchors) {
				d.fail("cascade %d: %d deltas for %d anchors", c, k, len(s.cascades[c].anchors))
			}
			for i := 0; i < k && d.err == nil; i++ {
				x, y := d.float(), d.float()
				s.cascades[c].deltas = append(s.cascades[c].deltas, x, y)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// validate checks that every split reads an existing feature pixel and that
// every tree is complete.
func (s *ShapePredictor) validate() error {
	if len(s.cascades) == 0 {
		return fmt.Errorf("%w: shape predictor without cascades", ErrModel)
	}
	for c, cas := range s.cascades {
		for t, tr := range cas.trees {
			n := len(tr.splits)
			if (n+1)&n != 0 {
				return fmt.Errorf("%w: cascade %d tree %d: %d splits is not a complete tree", ErrModel, c, t, n)
			}
			if len(tr.leaves) != (n+1)*len(s.initial) {
				return fmt.Errorf("%w: cascade %d tree %d: leaf size", ErrModel, c, t)
			}
			for _, sp := range tr.splits {
				if int(sp.a) >= len(cas.anchors) || int(sp.b) >= len(cas.anchors) {
					return fmt.Errorf("%w: cascade %d tree %d: split reads pixel outside %d", ErrModel, c, t, len(cas.anchors))
				}
			}
		}
	}
	return nil
}

// Rect is a box in dlib's convention: integer or not, Right and Bottom are
// the last column and row inside it (so the width is Right − Left + 1 for
// integer boxes).
type Rect struct {
	Left, Top, Right, Bottom float64
}

// Predict places the predictor's parts on the face inside rect and returns
// them in image pixels, unrounded (dlib rounds them to integers).
func (s *ShapePredictor) Predict(img *RGB, rect Rect) []Point {
	shape := append([]float32(nil), s.initial...)
	var feats []float32
	sx, sy := rect.Right-rect.Left, rect.Bottom-rect.Top
	for _, cas := range s.cascades {
		feats = s.featurePixels(img, rect, shape, cas, feats)
		for _, tr := range cas.trees {
			i := 0
			for i < len(tr.splits) {
				sp := tr.splits[i]
				if feats[sp.a]-feats[sp.b] > sp.thresh {
					i = 2*i + 1
				} else {
					i = 2*i + 2
				}
			}
			leaf := tr.leaves[(i-len(tr.splits))*len(shape):]
			for j := range shape {
				shape[j] += leaf[j]
			}
		}
	}
	pts := make([]Point, len(shape)/2)
	for i := range pts {
		pts[i] = Point{X: rect.Left + float64(shape[2*i])*sx, Y: rect.Top + float64(shape[2*i+1])*sy}
	}
	return pts
}

// featurePixels reads the grey level ((r+g+b)/3, integer as dlib) of each
// feature pixel of cas, its offset turned and scaled as the current shape
// is relative to the initial one; outside the image reads 0.
func (s *ShapePredictor) featurePixels(img *RGB, rect Rect, shape []float32, cas spCascade, out []float32) []float32 {
	a, b := similarityMatrix(s.initial, shape)
	sx, sy := rect.Right-rect.Left, rect.Bottom-rect.Top
	out = out[:0]
	for i, anchor := range cas.anchors {
		dx, dy := cas.deltas[2*i], cas.deltas[2*i+1]
		u := a*dx - b*dy + shape[2*anchor]
		v := b*dx + a*dy + shape[2*anchor+1]
		px := int(math.Floor(rect.Left + float64(u)*sx + 0.5))
		py := int(math.Floor(rect.Top + float64(v)*sy + 0.5))
		var g float32
		if px >= 0 && py >= 0 && px < img.Width && py < img.Height {
			o := 3 * (py*img.Width + px)
			g = float32((int(img.Pix[o]) + int(img.Pix[o+1]) + int(img.Pix[o+2])) / 3)
		}
		out = append(out, g)
	}
	return out
}

// similarityMatrix is the rotation-and-scale part [a −b; b a] of the least
// squares similarity transform taking shape from onto shape to (dlib's
// find_tform_between_shapes; the identity for a one-part shape).
func similarityMatrix(from, to []float32) (float32, float32) {
	n := len(from) / 2
	if n < 2 {
		return 1, 0
	}
	var fx, fy, tx, ty float64
	for i := 0; i < n; i++ {
		fx += float64(from[2*i])
		fy += float64(from[2*i+1])
		tx += float64(to[2*i])
		ty += float64(to[2*i+1])
	}
	fx, fy, tx, ty = fx/float64(n), fy/float64(n), tx/float64(n), ty/float64(n)
	var num1, num2, den float64
	for i := 0; i < n; i++ {
		x, y := float64(from[2*i])-fx, float64(from[2*i+1])-fy
		u, v := float64(to[2*i])-tx, float64(to[2*i+1])-ty
		num1 += x*u + y*v
		num2 += x*v - y*u
		den += x*x + y*y
	}
	if den == 0 {
		return 1, 0
	}
	return float32(num1 / den), float32(num2 / den)
}

// The compact shape predictor format (".hsp", written by MarshalCompact):
// dlib's .dat spends 9.2 MB on the 5-point model, mostly on its
// variable-length floats. Here every split threshold is an int16 (dlib's
// pixel features are integer grey levels, so "difference > t" equals
// "difference > floor(t)" exactly) and every tree's leaves are float32 or
// integers of 8, 16 or 24 bits times a float32 scale. Little-endian:
//
//	"HSP1", uint16 parts, uint16 cascades, uint8 leaf bits
//	float32 × 2·parts                       initial shape
//	per cascade: uint16 features, uint16 trees, uint8 depth,
//	  uint8 × features                      anchors
//	  float32 × 2·features                  deltas
//	  per tree: (uint16 a, uint16 b, int16 threshold) × (2^depth − 1),
//	            [float32 scale,] 2^depth · 2·parts leaf values
const compactMagic = "HSP1"

// MarshalCompact encodes the predictor in the compact format with leafBits
// (8, 16, 24 or 32) bits per leaf value. Only 32 keeps every prediction
// identical: the cascade is chaotic, a leaf rounded by a part in 10^7 can
// move a feature pixel across a pixel border and send later trees down
// other branches (measured in BENCHMARKS.md).
func (s *ShapePredictor) MarshalCompact(leafBits int) ([]byte, error) {
	if s.NumParts() > 255 || len(s.cascades) > math.MaxUint16 {
		return nil, fmt.Errorf("%w: too large for the compact format", ErrModel)
	}
	if leafBits != 8 && leafBits != 16 && leafBits != 24 && leafBits != 32 {
		return nil, fmt.Errorf("face: compact shape predictor: %d-bit leaves", leafBits)
	}
	out := []byte(compactMagic)
	out = binary.LittleEndian.AppendUint16(out, uint16(s.NumParts()))
	out = binary.LittleEndian.AppendUint16(out, uint16(len(s.cascades)))
	out = append(out, byte(leafBits))
	for _, v := range s.initial {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	for _, cas := range s.cascades {
		depth := bits.Len(uint(len(cas.trees[0].splits)))
		out = binary.LittleEndian.AppendUint16(out, uint16(len(cas.anchors)))
		out = binary.LittleEndian.AppendUint16(out, uint16(len(cas.trees)))
		out = append(out, byte(depth))
		for _, a := range cas.anchors {
			out = append(out, byte(a))
		}
		for _, v := range cas.deltas {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
		for _, tr := range cas.trees {
			if bits.Len(uint(len(tr.splits))) != depth {
				return nil, fmt.Errorf("%w: trees of one cascade differ in depth", ErrModel)
			}
			for _, sp := range tr.splits {
				t := math.Floor(float64(sp.thresh))
				t = math.Max(math.MinInt16, math.Min(math.MaxInt16, t))
				out = binary.LittleEndian.AppendUint16(out, uint16(sp.a))
				out = binary.LittleEndian.AppendUint16(out, uint16(sp.b))
				out = binary.LittleEndian.AppendUint16(out, uint16(int16(t)))
			}
			out = appendLeaves(out, tr.leaves, leafBits)
		}
	}
	return out, nil
}

// DecodeCompactShapePredictor reads the compact format of MarshalCompact.
// It returns an error wrapping ErrModel when b is not a well-formed
// predictor.
func DecodeCompactShapePredictor(b []byte) (*ShapePredictor, error) {
	bad := func(what string) error { return fmt.Errorf("%w: compact shape predictor: %s", ErrModel, what) }
	if len(b) < 9 || string(b[:4]) != compactMagic {
		return nil, bad("no HSP1 header")
	}
	parts, ncas := int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
	if parts == 0 || parts > spMaxParts || ncas == 0 || ncas > spMaxCascades {
		return nil, bad("size out of range")
	}
	leafBits := int(b[8])
	if leafBits != 8 && leafBits != 16 && leafBits != 24 && leafBits != 32 {
		return nil, bad("leaf width")
	}
	b = b[9:]
	take := func(n int) []byte {
		if n < 0 || n > len(b) {
			return nil
		}
		out := b[:n]
		b = b[n:]
		return out
	}
	floats := func(n int) []float32 {
		raw := take(4 * n)
		if raw == nil {
			return nil
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			if f := float64(out[i]); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil
			}
		}
		return out
	}
	s := &ShapePredictor{initial: floats(2 * parts)}
	if s.initial == nil {
		return nil, bad("truncated")
	}
	for c := 0; c < ncas; c++ {
		head := take(5)
		if head == nil {
			return nil, bad("truncated")
		}
		nfeat, ntrees, depth := int(binary.LittleEndian.Uint16(head)), int(binary.LittleEndian.Uint16(head[2:])), int(head[4])
		if nfeat == 0 || nfeat > spMaxFeatures || ntrees > spMaxTrees || depth > 10 {
			return nil, bad("cascade size out of range")
		}
		cas := spCascade{anchors: make([]int32, nfeat)}
		raw := take(nfeat)
		if raw == nil {
			return nil, bad("truncated")
		}
		for i, a := range raw {
			if int(a) >= parts {
				return nil, bad("anchor out of range")
			}
			cas.anchors[i] = int32(a)
		}
		if cas.deltas = floats(2 * nfeat); cas.deltas == nil {
			return nil, bad("truncated deltas")
		}
		nsplit, nleaf := 1<<depth-1, (1<<depth)*2*parts
		treeBytes := 6*nsplit + leafBytes(nleaf, leafBits)
		if len(b) < ntrees*treeBytes {
			return nil, bad("truncated trees")
		}
		cas.trees = make([]spTree, ntrees)
		for t := range cas.trees {
			tr := spTree{splits: make([]spSplit, nsplit)}
			raw := take(6 * nsplit)
			for i := range tr.splits {
				tr.splits[i] = spSplit{
					a:      int32(binary.LittleEndian.Uint16(raw[6*i:])),
					b:      int32(binary.LittleEndian.Uint16(raw[6*i+2:])),
					thresh: float32(int16(binary.LittleEndian.Uint16(raw[6*i+4:]))),
				}
			}
			if tr.leaves = decodeLeaves(take(leafBytes(nleaf, leafBits)), nleaf, leafBits); tr.leaves == nil {
				return nil, bad("bad leaves")
			}
			cas.trees[t] = tr
		}
		s.cascades = append(s.cascades, cas)
	}
	if len(b) != 0 {
		return nil, bad("trailing bytes")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// leafBytes is the encoded size of n leaf values of the given width
// (integer leaves carry a float32 scale).
func leafBytes(n, bits int) int {
	if bits == 32 {
		return 4 * n
	}
	return 4 + n*bits/8
}

// leafScale is the step that maps the largest leaf magnitude to top.
func leafScale(leaves []float32, top float64) float32 {
	var peak float64
	for _, v := range leaves {
		peak = math.Max(peak, math.Abs(float64(v)))
	}
	return float32(peak / top)
}

// quantizeLeaf rounds v to a multiple of scale.
func quantizeLeaf(v, scale float32) float64 {
	if scale == 0 {
		return 0
	}
	return math.Round(float64(v) / float64(scale))
}

// appendLeaves encodes leaf values as float32, float16 or int8 times a
// float32 scale.
func appendLeaves(out []byte, leaves []float32, bits int) []byte {
	switch bits {
	case 32:
		for _, v := range leaves {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	case 16:
		scale := leafScale(leaves, math.MaxInt16)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(scale))
		for _, v := range leaves {
			out = binary.LittleEndian.AppendUint16(out, uint16(int16(quantizeLeaf(v, scale))))
		}
	case 24:
		scale := leafScale(leaves, 1<<23-1)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(scale))
		for _, v := range leaves {
			q := uint32(int32(quantizeLeaf(v, scale)))
			out = append(out, byte(q), byte(q>>8), byte(q>>16))
		}
	default:
		scale := leafScale(leaves, math.MaxInt8)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(scale))
		for _, v := range leaves {
			out = append(out, byte(int8(quantizeLeaf(v, scale))))
		}
	}
	return out
}

// decodeLeaves is the inverse of appendLeaves; nil when raw is short or
// holds a non-finite value.
func decodeLeaves(raw []byte, n, bits int) []float32 {
	if len(raw) != leafBytes(n, bits) {
		return nil
	}
	out := make([]float32, n)
	switch bits {
	case 32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case 16:
		scale := math.Float32frombits(binary.LittleEndian.Uint32(raw))
		for i := range out {
			out[i] = float32(int16(binary.LittleEndian.Uint16(raw[4+2*i:]))) * scale
		}
	case 24:
		scale := math.Float32frombits(binary.LittleEndian.Uint32(raw))
		for i := range out {
			q := raw[4+3*i:]
			v := int32(uint32(q[0])<<8|uint32(q[1])<<16|uint32(q[2])<<24) >> 8
			out[i] = float32(v) * scale
		}
	default:
		scale := math.Float32frombits(binary.LittleEndian.Uint32(raw))
		for i := range out {
			out[i] = float32(int8(raw[4+i])) * scale
		}
	}
	for _, v := range out {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
	}
	return out
}
