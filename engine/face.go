package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/face"
)

// Face adapts the face engine. Templates are the 128-d L2-normalised
// descriptor as little-endian float32; scores are cosine similarities.
type Face struct {
	Extractor *face.Extractor
}

// NewFace loads the embedded networks once.
func NewFace() (*Face, error) {
	m, err := face.LoadModels()
	if err != nil {
		return nil, err
	}
	return &Face{Extractor: &face.Extractor{Models: m}}, nil
}

// Modality returns face.
func (*Face) Modality() huella.Modality { return huella.ModalityFace }

// Algorithm names the descriptor format.
func (*Face) Algorithm() (string, int) { return "huella-face-frnet128", 1 }

// Extract detects, aligns and embeds the face. A photo that fails the
// enrolment checks is unprocessable, with the reasons.
func (f *Face) Extract(ctx context.Context, s *huella.Sample, image []byte) ([]byte, int, error) {
	img, err := face.DecodeRGB(bytes.NewReader(image))
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	fc, err := f.Extractor.Extract(img)
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	if !fc.Quality.Acceptable() {
		return nil, 0, unprocessable(s, errors.New(strings.Join(fc.Quality.Reasons, "; ")))
	}
	return EncodeDescriptor(fc.Descriptor), int(math.Round(100 * fc.Quality.Score)), nil
}

// EncodeDescriptor returns the template bytes of a face descriptor.
func EncodeDescriptor(d []float32) []byte {
	b := make([]byte, 4*len(d))
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func decodeDescriptor(b []byte) ([]float32, error) {
	if len(b) != 4*face.DescriptorSize {
		return nil, huella.Errorf(huella.EINVALID, "face template: %d bytes, want %d", len(b), 4*face.DescriptorSize)
	}
	d := make([]float32, face.DescriptorSize)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d, nil
}

// NewIndex returns an int8-quantised descriptor gallery.
func (*Face) NewIndex() Index { return &faceIndex{g: &face.Gallery{}} }

type faceIndex struct {
	mu sync.RWMutex
	g  *face.Gallery
}

func (x *faceIndex) Add(data []byte) (int, error) {
	d, err := decodeDescriptor(data)
	if err != nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.g.Add(d)
}

// faceBatch is a faceIndex's Batch: the descriptors quantised as the
// gallery holds them, on the batch's goroutine.
type faceBatch struct {
	block face.Block
}

func (b *faceBatch) Add(data []byte, _ bool) error {
	if len(data) != 4*face.DescriptorSize {
		return huella.Errorf(huella.EINVALID, "face template: %d bytes, want %d", len(data), 4*face.DescriptorSize)
	}
	var d [face.DescriptorSize]float32
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return b.block.Add(d[:])
}

func (b *faceBatch) Len() int { return b.block.Len() }

var _ Loader = (*faceIndex)(nil)

// NewBatch returns an empty batch with room for entries templates
// (Loader).
func (x *faceIndex) NewBatch(entries, _, _ int) Batch {
	return &faceBatch{block: face.NewBlock(entries)}
}

// AddBatch appends a batch's quantised descriptors as a block of the
// gallery (Loader).
func (x *faceIndex) AddBatch(batch Batch) (int, error) {
	b, ok := batch.(*faceBatch)
	if !ok {
		return 0, huella.Errorf(huella.EINVALID, "face index: a batch of another index")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	first := x.g.AppendBlock(b.block)
	b.block = face.Block{}
	return first, nil
}

func (x *faceIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.g.Len()
}

func (x *faceIndex) Search(probe []byte, k int) ([]Match, error) {
	p, err := x.probe(probe)
	if err != nil {
		return nil, err
	}
	x.mu.RLock()
	all := make([]float32, x.g.Len())
	x.g.Scores(p, all, 0)
	x.mu.RUnlock()
	return topK(all, k), nil
}

// probe prepares a template for scoring.
func (x *faceIndex) probe(data []byte) (*face.Probe, error) {
	d, err := decodeDescriptor(data)
	if err != nil {
		return nil, err
	}
	p, err := face.NewProbe(d)
	if err != nil {
		return nil, huella.Errorf(huella.EINVALID, "face template: %v", err)
	}
	return p, nil
}

// ScoreEntries scores only the entries asked for.
func (x *faceIndex) ScoreEntries(probe []byte, entries []int) ([]float64, error) {
	p, err := x.probe(probe)
	if err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]float64, len(entries))
	for i, e := range entries {
		if e < 0 || e >= x.g.Len() {
			return nil, errNoEntry
		}
		out[i] = float64(x.g.Score(p, e))
	}
	return out, nil
}

func (x *faceIndex) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.g.Len() * (face.DescriptorSize + 4)
}
