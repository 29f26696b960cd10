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

// CompareFingers compares, minutia by minutia, each finger position that
// both the probe and the candidate have (slap images aside): the first
// sample of the position on each side, so list the candidate's newest
// first. The templates are extracted again from the stored images, as the
// finger engine did at enrollment, which gives the stored templates back;
// a side whose image yields none is left out.
func CompareFingers(ctx context.Context, blobs huella.BlobStore, probe, candidate []*huella.Sample) ([]*FingerComparison, error) {
	first := func(list []*huella.Sample, position int) *huella.Sample {
		for _, s := range list {
			if s.Modality == huella.ModalityFinger && s.Position == position {
				return s
			}
		}
		return nil
	}
	var sides [][2]*huella.Sample
	done := map[int]bool{}
	for _, s := range probe {
		if s.Modality != huella.ModalityFinger || s.Position > huella.FingerLeftLittle || done[s.Position] {
			continue
		}
		done[s.Position] = true
		if c := first(candidate, s.Position); c != nil {
			sides = append(sides, [2]*huella.Sample{s, c})
		}
	}
	if len(sides) == 0 {
		return nil, nil
	}
	templates := make([][2]*finger.Template, len(sides))
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
				templates[i][side], errs[2*i+side] = fingerTemplate(ctx, blobs, sides[i][side])
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
	for i, t := range templates {
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

// fingerTemplate extracts the template of a stored finger image, or nil
// when the image yields none (it then has no stored template either).
func fingerTemplate(ctx context.Context, blobs huella.BlobStore, s *huella.Sample) (*finger.Template, error) {
	image, err := blobs.Get(ctx, s.ImageRef)
	if err != nil {
		return nil, err
	}
	data, _, err := engine.Finger{}.Extract(ctx, s, image)
	if err != nil {
		return nil, nil
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
