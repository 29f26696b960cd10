package adjudicate

import (
	"context"
	"runtime"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
)

// Minutia is a minutia as the examiner sees it: its position in pixels of
// the template's image (500 ppi, from the top-left corner), its direction
// in radians from the x axis towards the y axis (image y pointing down, as
// the extractor's trace draws it), and its type.
type Minutia struct {
	X         int     `json:"x"`
	Y         int     `json:"y"`
	Direction float64 `json:"direction"`
	Type      string  `json:"type"` // ending or bifurcation
}

// Minutiae are the minutiae of one sample's finger template and the size
// of the image, resampled to 500 ppi, that they live in.
type Minutiae struct {
	SampleID string    `json:"sample_id"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Minutiae []Minutia `json:"minutiae"`
}

// MinutiaPair links a probe minutia to its mate in the candidate (indices
// into the two Minutiae lists) with the comparator's relaxed similarity of
// the pair, 0 to 1.
type MinutiaPair struct {
	Probe     int     `json:"probe"`
	Candidate int     `json:"candidate"`
	Strength  float64 `json:"strength"`
}

// FingerComparison is one finger of both sides compared minutia by
// minutia: the minutiae of each and the pairs the comparator found, those
// the relaxation took that one alignment of the two prints agrees with.
type FingerComparison struct {
	Position  int           `json:"position"` // finger FGP code
	Score     float64       `json:"score"`    // the comparator's score of the two templates, 0 to 1
	Probe     Minutiae      `json:"probe"`
	Candidate Minutiae      `json:"candidate"`
	Pairs     []MinutiaPair `json:"pairs"`
}

// TemplateFinder reads the templates stored with samples, as
// huella.IdentityStore does.
type TemplateFinder interface {
	FindTemplates(ctx context.Context, sampleIDs []string) ([]*huella.Template, error)
}

// CompareFingers compares, minutia by minutia, each finger position that
// both the probe and the candidate have (slap images aside): the first
// sample of the position on each side, so list the candidate's newest
// first. It reads the templates stored at enrollment; a sample without
// one of the current finger algorithm (stored before its engine ran, or
// by an older version), or every sample when templates is nil, has its
// template extracted again from its image (about 40 ms each). A side that
// yields no template is left out.
func CompareFingers(ctx context.Context, templates TemplateFinder, blobs huella.BlobStore, probe, candidate []*huella.Sample) ([]*FingerComparison, error) {
	first := func(list []*huella.Sample, position int) *huella.Sample {
		for _, s := range list {
			if s.Modality == huella.ModalityFinger && s.Position == position {
				return s
			}
		}
		return nil
	}
	var sides [][2]*huella.Sample
	var ids []string
	done := map[int]bool{}
	for _, s := range probe {
		if s.Modality != huella.ModalityFinger || s.Position > huella.FingerLeftLittle || done[s.Position] {
			continue
		}
		done[s.Position] = true
		if c := first(candidate, s.Position); c != nil {
			sides = append(sides, [2]*huella.Sample{s, c})
			ids = append(ids, s.ID, c.ID)
		}
	}
	if len(sides) == 0 {
		return nil, nil
	}
	data := map[string][]byte{}
	if templates != nil {
		stored, err := templates.FindTemplates(ctx, ids)
		if err != nil {
			return nil, err
		}
		algorithm, version := engine.Finger{}.Algorithm()
		for _, t := range stored {
			if t.Algorithm == algorithm && t.Version == version {
				data[t.SampleID] = t.Data
			}
		}
	}
	prints := make([][2]*finger.Template, len(sides))
	errs := make([]error, 2*len(sides))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range sides {
		for side := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				prints[i][side], errs[2*i+side] = fingerTemplate(ctx, blobs, sides[i][side], data[sides[i][side].ID])
			}()
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var out []*FingerComparison
	for i, t := range prints {
		if t[0] == nil || t[1] == nil {
			continue
		}
		score, pairs := finger.ComparePairs(finger.Prepare(t[0]), finger.Prepare(t[1]))
		fc := &FingerComparison{Position: sides[i][0].Position, Score: score,
			Probe: minutiaeOf(sides[i][0].ID, t[0]), Candidate: minutiaeOf(sides[i][1].ID, t[1]),
			Pairs: make([]MinutiaPair, len(pairs))}
		for k, p := range pairs {
			fc.Pairs[k] = MinutiaPair{Probe: p.Probe, Candidate: p.Candidate, Strength: p.Strength}
		}
		out = append(out, fc)
	}
	return out, nil
}

// fingerTemplate decodes a sample's stored template data or, when there is
// none, extracts the template of its image; nil when the image yields
// none.
func fingerTemplate(ctx context.Context, blobs huella.BlobStore, s *huella.Sample, data []byte) (*finger.Template, error) {
	if data == nil {
		image, err := blobs.Get(ctx, s.ImageRef)
		if err != nil {
			return nil, err
		}
		if data, _, err = (engine.Finger{}).Extract(ctx, s, image); err != nil {
			return nil, nil
		}
	}
	var t finger.Template
	if err := t.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return &t, nil
}

func minutiaeOf(sampleID string, t *finger.Template) Minutiae {
	m := Minutiae{SampleID: sampleID, Width: t.Width, Height: t.Height, Minutiae: make([]Minutia, len(t.Minutiae))}
	for i, x := range t.Minutiae {
		kind := "ending"
		if x.Type == finger.Bifurcation {
			kind = "bifurcation"
		}
		m.Minutiae[i] = Minutia{X: x.X, Y: x.Y, Direction: x.Direction, Type: kind}
	}
	return m
}
