package engine

import (
	"context"
	"math"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iris"
)

// Iris adapts the iris engine. Scores are negated normalised Hamming
// distances, so that higher is more alike.
type Iris struct{}

// Modality returns iris.
func (Iris) Modality() huella.Modality { return huella.ModalityIris }

// Algorithm names the iris code format.
func (Iris) Algorithm() (string, int) { return "huella-iris", 1 }

// Extract segments the eye image and encodes its iris.
func (Iris) Extract(ctx context.Context, s *huella.Sample, image []byte) ([]byte, int, error) {
	g, err := imgproc.DecodeGray(image)
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	t, err := iris.Extract(g, iris.Options{})
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	// Quality: the share of usable code bits, the dominant predictor of a
	// reliable comparison.
	q := int(math.Round(100 * t.Quality.UsableFraction))
	return iris.EncodeTemplate(t), max(0, min(100, q)), nil
}

// NewIndex returns a packed iris gallery.
func (Iris) NewIndex() Index { return &irisIndex{g: &iris.Gallery{}} }

type irisIndex struct {
	mu sync.RWMutex
	g  *iris.Gallery
}

func (x *irisIndex) Add(data []byte) (int, error) {
	t, err := iris.DecodeTemplate(data)
	if err != nil {
		return 0, huella.Errorf(huella.EINVALID, "iris template: %v", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.g.Add(t), nil
}

// irisBatch is an irisIndex's Batch: each entry's code then mask, packed
// as the gallery packs them.
type irisBatch struct {
	words []uint64
}

func (b *irisBatch) Add(data []byte, _ bool) error {
	t, err := iris.DecodeTemplate(data)
	if err != nil {
		return huella.Errorf(huella.EINVALID, "iris template: %v", err)
	}
	b.words = append(append(b.words, t.Code...), t.Mask...)
	return nil
}

func (b *irisBatch) Len() int { return len(b.words) / iris.EntryWords }

var _ Loader = (*irisIndex)(nil)

// NewBatch returns an empty batch with room for entries templates
// (Loader).
func (x *irisIndex) NewBatch(entries, _, _ int) Batch {
	return &irisBatch{words: make([]uint64, 0, entries*iris.EntryWords)}
}

// AddBatch appends a batch's packed entries as a block of the gallery
// (Loader).
func (x *irisIndex) AddBatch(batch Batch) (int, error) {
	b, ok := batch.(*irisBatch)
	if !ok {
		return 0, huella.Errorf(huella.EINVALID, "iris index: a batch of another index")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	first := x.g.AppendBlock(b.words)
	b.words = nil
	return first, nil
}

func (x *irisIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.g.Len()
}

func (x *irisIndex) Search(probe []byte, k int) ([]Match, error) {
	t, err := iris.DecodeTemplate(probe)
	if err != nil {
		return nil, huella.Errorf(huella.EINVALID, "iris template: %v", err)
	}
	p := iris.NewProbe(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Match
	for _, c := range x.g.Search(p, k, 0) {
		out = append(out, Match{Entry: c.Index, Score: -c.Distance})
	}
	return out, nil
}

func (x *irisIndex) ScoreEntries(probe []byte, entries []int) ([]float64, error) {
	t, err := iris.DecodeTemplate(probe)
	if err != nil {
		return nil, huella.Errorf(huella.EINVALID, "iris template: %v", err)
	}
	p := iris.NewProbe(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]float64, len(entries))
	for i, e := range entries {
		if e < 0 || e >= x.g.Len() {
			return nil, errNoEntry
		}
		d, _ := p.DistanceTo(x.g, e)
		out[i] = -d
	}
	return out, nil
}

func (x *irisIndex) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.g.Len() * iris.EntryWords * 8
}
