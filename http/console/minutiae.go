package console

import (
	"math"

	"github.com/huella-abis/huella/adjudicate"
)

// Drawing of the minutiae over a finger's two images, in image pixels of
// the templates (500 ppi): the SVG's viewBox is in those pixels, so the
// marks stay on their ridges at any displayed size.
const (
	minutiaGap     = 24   // pixels between the probe's image and the candidate's
	minutiaRadius  = 5.0  // half the side of a mark
	minutiaTick    = 14.0 // length of the direction tick
	minutiaLabelDx = 7.0  // offset of a pair's number from its mark
)

// pairColours tell the pairs apart (the comparator pairs at most 12); a
// pair is drawn in the same colour and number on both images. Each holds
// at least 4.8:1 against the drawing's light background, so the numbers
// stay readable (WCAG AA; TestAccessibility checks it).
var pairColours = []string{"#c8102e", "#1e7b34", "#1f4fc4", "#b34700", "#7d1aa0", "#00708a",
	"#b01fa6", "#4f6b00", "#a3325f", "#2f6e68", "#5b3fb8", "#7a4a12"}

// minutiaMark is one minutia as drawn: its centre, the end of its
// direction tick, and its pair's number and colour (0 and "" when unpaired).
type minutiaMark struct {
	X, Y, TipX, TipY float64
	Bifurcation      bool
	Pair             int
	Colour           string
}

// Radius returns the radius of an ending's circle.
func (minutiaMark) Radius() float64 { return minutiaRadius }

// Side returns the side of a bifurcation's square.
func (minutiaMark) Side() float64 { return 2 * minutiaRadius }

// SquareX returns the left edge of a bifurcation's square.
func (m minutiaMark) SquareX() float64 { return m.X - minutiaRadius }

// SquareY returns the top of a bifurcation's square.
func (m minutiaMark) SquareY() float64 { return m.Y - minutiaRadius }

// LabelX returns where the pair's number is written.
func (m minutiaMark) LabelX() float64 { return m.X + minutiaLabelDx }

// LabelY returns the baseline of the pair's number.
func (m minutiaMark) LabelY() float64 { return m.Y - minutiaLabelDx }

// minutiaLink joins a pair's two marks across the images.
type minutiaLink struct {
	Pair                   int
	Colour                 string
	X1, Y1, X2, Y2         float64
	ProbeX, ProbeY         int // template pixels, for the table of pairs
	CandidateX, CandidateY int
	Strength               float64
}

// minutiaeView is a finger's side-by-side drawing: both images one beside
// the other in one SVG, the minutiae of each, and the pairs linked.
type minutiaeView struct {
	*adjudicate.FingerComparison
	Width, Height         int     // the viewBox: both images and the gap
	CandidateX            int     // left edge of the candidate's image
	Radius, Side          float64 // a mark's radius, a bifurcation's side
	ProbeMarks, CandMarks []minutiaMark
	Links                 []minutiaLink
}

// newMinutiaeView lays out a finger comparison for drawing.
func newMinutiaeView(f *adjudicate.FingerComparison) *minutiaeView {
	v := &minutiaeView{FingerComparison: f, CandidateX: f.Probe.Width + minutiaGap,
		Width: f.Probe.Width + minutiaGap + f.Candidate.Width, Height: max(f.Probe.Height, f.Candidate.Height)}
	probePair := make(map[int]int, len(f.Pairs))
	candPair := make(map[int]int, len(f.Pairs))
	for i, p := range f.Pairs {
		probePair[p.Probe], candPair[p.Candidate] = i+1, i+1
	}
	v.ProbeMarks = marks(f.Probe.Minutiae, 0, probePair)
	v.CandMarks = marks(f.Candidate.Minutiae, v.CandidateX, candPair)
	for i, p := range f.Pairs {
		a, b := v.ProbeMarks[p.Probe], v.CandMarks[p.Candidate]
		pm, cm := f.Probe.Minutiae[p.Probe], f.Candidate.Minutiae[p.Candidate]
		v.Links = append(v.Links, minutiaLink{Pair: i + 1, Colour: a.Colour, X1: a.X, Y1: a.Y, X2: b.X, Y2: b.Y,
			ProbeX: pm.X, ProbeY: pm.Y, CandidateX: cm.X, CandidateY: cm.Y, Strength: p.Strength})
	}
	return v
}

// marks draws minutiae shifted right by dx; pairs numbers them from 1.
func marks(ms []adjudicate.Minutia, dx int, pairs map[int]int) []minutiaMark {
	out := make([]minutiaMark, len(ms))
	for i, m := range ms {
		x, y := float64(m.X+dx), float64(m.Y)
		mk := minutiaMark{X: x, Y: y, Bifurcation: m.Type == "bifurcation",
			TipX: round1(x + minutiaTick*math.Cos(m.Direction)), TipY: round1(y + minutiaTick*math.Sin(m.Direction))}
		if n := pairs[i]; n > 0 {
			mk.Pair, mk.Colour = n, pairColours[(n-1)%len(pairColours)]
		}
		out[i] = mk
	}
	return out
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
