package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/imgproc"
	_ "github.com/huella-abis/huella/wsq" // WSQ fingerprints decode like any image
)

// MinFingerQuality is the finger quality (0–100) below which a sample is
// not used for search and the officer is asked to recapture it.
const MinFingerQuality = 20

// Finger adapts the fingerprint engine.
type Finger struct{}

// Modality returns finger.
func (Finger) Modality() huella.Modality { return huella.ModalityFinger }

// Algorithm names the minutiae template format.
func (Finger) Algorithm() (string, int) { return "huella-finger", 1 }

// Extract decodes the image and extracts its minutiae at the sample's ppi.
func (Finger) Extract(ctx context.Context, s *huella.Sample, image []byte) ([]byte, int, error) {
	g, err := imgproc.DecodeGray(image)
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	t, err := finger.Extract(g, finger.Options{PPI: s.PPI})
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	if t.Quality < MinFingerQuality {
		// Photos of other things yield a few stray "minutiae" at a quality
		// of 2–9; real prints of the dev sets rate 30 and more.
		return nil, t.Quality, unprocessable(s, fmt.Errorf("quality %d is below %d: recapture the finger", t.Quality, MinFingerQuality))
	}
	data, err := t.MarshalBinary()
	return data, t.Quality, err
}

// NewIndex returns an index of prepared fingerprint templates.
func (Finger) NewIndex() Index { return &fingerIndex{} }

type fingerIndex struct {
	mu    sync.RWMutex
	cands []*finger.Candidate
	bytes int
}

func decodeFinger(data []byte) (*finger.Template, error) {
	var t finger.Template
	if err := t.UnmarshalBinary(data); err != nil {
		return nil, huella.Errorf(huella.EINVALID, "finger template: %v", err)
	}
	return &t, nil
}

func (x *fingerIndex) Add(data []byte) (int, error) {
	t, err := decodeFinger(data)
	if err != nil {
		return 0, err
	}
	c := finger.Prepare(t)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cands = append(x.cands, c)
	x.bytes += len(data)
	return len(x.cands) - 1, nil
}

func (x *fingerIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.cands)
}

func (x *fingerIndex) Search(probe []byte, k int) ([]Match, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	scores := finger.Search(p, x.cands)
	x.mu.RUnlock()
	return topK(scores, k), nil
}

func (x *fingerIndex) ScoreEntries(probe []byte, entries []int) ([]float64, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]float64, len(entries))
	for i, e := range entries {
		if e < 0 || e >= len(x.cands) {
			return nil, errNoEntry
		}
		out[i] = finger.Compare(p, x.cands[e])
	}
	return out, nil
}

// Bytes counts the stored templates; the prepared search form is larger
// (see BENCHMARKS.md).
func (x *fingerIndex) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bytes
}
