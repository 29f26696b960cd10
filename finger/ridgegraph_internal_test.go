package finger

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// skeletonStages runs the extraction stages up to the skeleton on a dev image.
type skeletonStages struct {
	w, h     int
	skel     []uint8
	periods  *blockField
	clarity  *blockField
	contrast *blockField
	orient   *orientationField
	mask     *blockMask
}

func mustSkeleton(tb testing.TB, set, name string) *skeletonStages {
	tb.Helper()
	dir := datasets.Path(tb, "fingerprint/"+set)
	img := datasets.Gray(tb, filepath.Join(dir, name+".tif"))
	g := resampledImage(img, StandardPPI)
	o := blockOrientations(g)
	c := blockContrasts(g)
	m := segmentationMask(c, o)
	periods, clarity := ridgePeriods(g, o, m)
	m = ridgeMask(m, clarity)
	e := enhancedImage(g, o, periods, m)
	skel := thinnedSkeleton(binarizedImage(e, m), g.w, g.h)
	return &skeletonStages{w: g.w, h: g.h, skel: skel, periods: periods, clarity: clarity, contrast: c, orient: o, mask: m}
}

// TestSkeletonGraphCoversSkeleton checks the graph built from real
// skeletons: its ridges redraw the skeleton, every ending of the skeleton is
// a node with one ridge, and no node is left with two.
func TestSkeletonGraphCoversSkeleton(t *testing.T) {
	for _, c := range [][2]string{{"fvc2002/DB1_B", "101_1"}, {"fvc2002/DB3_B", "104_2"}, {"fvc2004/DB1_B", "102_3"}} {
		s := mustSkeleton(t, c[0], c[1])
		g := skeletonGraph(s.skel, s.w, s.h)
		drawn := g.render()
		var onSkel, covered, extra, endings int
		for i, v := range s.skel {
			if v != 0 {
				onSkel++
				if drawn[i] != 0 {
					covered++
				}
			} else if drawn[i] != 0 {
				extra++
			}
		}
		if extra > 0 {
			t.Errorf("%s: graph draws %d pixels off the skeleton", c[0], extra)
		}
		if share := float64(covered) / float64(onSkel); share < 0.97 {
			t.Errorf("%s: graph redraws %.3f of the skeleton, want >= 0.97 (only dots and closed rings left out)", c[0], share)
		}
		deg := map[int]int{}
		for n := range g.nodes {
			deg[g.degree(n)]++
		}
		for y := 1; y < s.h-1; y++ {
			for x := 1; x < s.w-1; x++ {
				i := y*s.w + x
				if s.skel[i] != 0 && crossings(ringBits(s.skel, s.w, i)) == 1 {
					endings++
				}
			}
		}
		if deg[1] < endings {
			t.Errorf("%s: %d nodes with one ridge, want >= the %d endings of the skeleton", c[0], deg[1], endings)
		}
		if deg[2] > len(g.nodes)/50 {
			t.Errorf("%s: %d of %d nodes have two ridges", c[0], deg[2], len(g.nodes))
		}
	}
}

// TestGraphCleanupOnDevPrints checks what the clean-up leaves on real
// prints of three sensors: no pore loop, tail, fragment or knot shorter than
// its threshold, no pair of facing endings within the gap distance, no node
// with two ridges, and fewer minutiae than before.
func TestGraphCleanupOnDevPrints(t *testing.T) {
	for _, c := range [][2]string{{"fvc2002/DB1_B", "101_1"}, {"fvc2002/DB4_B", "103_2"}, {"fvc2004/DB1_B", "102_3"}, {"fvc2004/DB2_B", "104_3"}} {
		s := mustSkeleton(t, c[0], c[1])
		g := skeletonGraph(s.skel, s.w, s.h)
		before := len(graphMinutiae(g, s.orient, s.mask))
		graphCleanup(g, s.periods, nil)
		after := len(graphMinutiae(g, s.orient, s.mask))
		if after >= before || after < 20 {
			t.Errorf("%s: %d minutiae before clean-up, %d after; want fewer, and >= 20", c[0], before, after)
		}
		period := func(x, y int) float64 {
			return s.periods.v[min(y/blockSize, s.periods.bh-1)*s.periods.bw+min(x/blockSize, s.periods.bw-1)]
		}
		for e := range g.edges {
			ed := &g.edges[e]
			if ed.removed {
				continue
			}
			a, b := &g.nodes[ed.a], &g.nodes[ed.b]
			p := (period(a.x, a.y) + period(b.x, b.y)) / 2
			l := g.length(e) / p
			da, db := g.degree(ed.a), g.degree(ed.b)
			switch {
			case ed.a == ed.b && l < poreLoopPeriods:
				t.Errorf("%s: pore loop of %.1f periods left at (%d,%d)", c[0], l, a.x, a.y)
			case da == 1 && db == 1 && l < fragmentPeriods:
				t.Errorf("%s: fragment of %.1f periods left at (%d,%d)", c[0], l, a.x, a.y)
			case (da == 1) != (db == 1) && l < tailPeriods:
				t.Errorf("%s: tail of %.1f periods left at (%d,%d)", c[0], l, a.x, a.y)
			case da >= 3 && db >= 3 && ed.a != ed.b && l < knotPeriods:
				t.Errorf("%s: knot of %.1f periods left at (%d,%d)", c[0], l, a.x, a.y)
			}
		}
		for n := range g.nodes {
			if !g.nodes[n].removed && g.degree(n) == 2 && len(g.liveEdges(n)) == 2 && g.liveEdges(n)[0] != g.liveEdges(n)[1] {
				t.Errorf("%s: node with two ridges left at (%d,%d)", c[0], g.nodes[n].x, g.nodes[n].y)
			}
		}
	}
}

// drawLine sets the pixels of a straight 8-connected line on a skeleton.
func drawLine(s []uint8, w int, x0, y0, x1, y1 int) {
	n := max(abs(x1-x0), abs(y1-y0))
	for k := 0; k <= n; k++ {
		x := x0 + int(math.Round(float64(k*(x1-x0))/float64(max(n, 1))))
		y := y0 + int(math.Round(float64(k*(y1-y0))/float64(max(n, 1))))
		s[y*w+x] = 1
	}
}

// TestGraphCleanupStages builds skeletons with one known defect each and
// checks that the clean-up removes it and keeps the real minutiae.
func TestGraphCleanupStages(t *testing.T) {
	const w, h = 160, 96
	uniform := func(v float64) *blockField {
		bw, bh := blocksOf(w, h)
		f := newBlockField(bw, bh)
		for i := range f.v {
			f.v[i] = v
		}
		return f
	}
	bw, bh := blocksOf(w, h)
	o := &orientationField{bw: bw, bh: bh, vx: make([]float64, bw*bh), vy: make([]float64, bw*bh),
		angle: make([]float64, bw*bh), coherence: make([]float64, bw*bh)}
	for b := range o.vx {
		o.vx[b], o.coherence[b] = -1, 1 // horizontal ridges
	}
	m := &blockMask{bw: bw, bh: bh, fg: make([]bool, bw*bh)}
	for b := range m.fg {
		m.fg[b] = true
	}
	count := func(c []*candidate) (endings, bifurcations int) {
		for _, m := range c {
			if m.kind == Ending {
				endings++
			} else {
				bifurcations++
			}
		}
		return
	}
	cases := []struct {
		name             string
		draw             func(s []uint8)
		endings, bifurcs int
	}{
		{"Pore", func(s []uint8) {
			// A ridge that parts round a pore 4 px long and joins again.
			drawLine(s, w, 10, 48, 70, 48)
			drawLine(s, w, 74, 48, 150, 48)
			drawLine(s, w, 70, 48, 72, 46)
			drawLine(s, w, 72, 46, 74, 48)
			drawLine(s, w, 70, 48, 72, 50)
			drawLine(s, w, 72, 50, 74, 48)
		}, 2, 0},
		{"Gap", func(s []uint8) {
			// A ridge broken by a gap of 10 px (about one period).
			drawLine(s, w, 10, 48, 70, 48)
			drawLine(s, w, 80, 48, 150, 48)
		}, 2, 0},
		{"Tail", func(s []uint8) {
			// A spur of 5 px off a ridge.
			drawLine(s, w, 10, 48, 150, 48)
			drawLine(s, w, 80, 47, 84, 43)
		}, 2, 0},
		{"Fragment", func(s []uint8) {
			// A lone dash of 8 px between two ridges, and a dot.
			drawLine(s, w, 10, 30, 150, 30)
			drawLine(s, w, 10, 66, 150, 66)
			drawLine(s, w, 76, 48, 84, 48)
			s[40*w+40] = 1
		}, 4, 0},
		{"Knot", func(s []uint8) {
			// Two ridges joined by a bridge of 6 px.
			drawLine(s, w, 10, 44, 150, 44)
			drawLine(s, w, 10, 51, 150, 51)
			drawLine(s, w, 80, 45, 80, 50)
		}, 4, 0},
		{"Bridge", func(s []uint8) {
			// Two ridges two periods apart joined across the flow by a
			// bridge of 17 px, longer than a knot.
			drawLine(s, w, 10, 39, 150, 39)
			drawLine(s, w, 10, 57, 150, 57)
			drawLine(s, w, 80, 40, 80, 56)
		}, 4, 0},
		{"ForksAlongTheFlow", func(s []uint8) {
			// Two forks 18 px apart on one ridge: the ridge between them
			// follows the flow and is no bridge, both forks stay.
			drawLine(s, w, 10, 48, 150, 48)
			drawLine(s, w, 61, 47, 150, 20)
			drawLine(s, w, 79, 49, 150, 76)
		}, 4, 2},
		{"RealBifurcation", func(s []uint8) {
			// A ridge that forks for good: the fork is kept.
			drawLine(s, w, 10, 48, 80, 48)
			drawLine(s, w, 81, 47, 150, 30)
			drawLine(s, w, 81, 49, 150, 66)
		}, 3, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := make([]uint8, w*h)
			tc.draw(s)
			g := skeletonGraph(s, w, h)
			graphCleanup(g, uniform(9), o)
			e, b := count(graphMinutiae(g, o, m))
			if e != tc.endings || b != tc.bifurcs {
				t.Errorf("endings, bifurcations = %d, %d; want %d, %d", e, b, tc.endings, tc.bifurcs)
			}
		})
	}
}

// TestMinutiaReliability checks the reliability maps on dev prints: every
// value lies in [0, 1], and minutiae near the edge of the print rate lower
// than those deep inside it.
func TestMinutiaReliability(t *testing.T) {
	var nearSum, farSum float64
	var near, far int
	for _, c := range [][2]string{{"fvc2002/DB1_B", "101_1"}, {"fvc2002/DB2_B", "105_4"}, {"fvc2004/DB1_B", "102_3"}, {"fvc2004/DB2_B", "104_3"}} {
		s := mustSkeleton(t, c[0], c[1])
		r := minutiaReliabilityMaps(s.contrast, s.orient, s.mask)
		for b := range r.flow {
			for _, v := range []float64{r.contrast[b], r.flow[b], r.straightness[b], r.border[b]} {
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Fatalf("%s: map value %v outside [0, 1]", c[0], v)
				}
			}
		}
		g := skeletonGraph(s.skel, s.w, s.h)
		graphCleanup(g, s.periods, nil)
		for _, m := range graphMinutiae(g, s.orient, s.mask) {
			q := r.at(m.x, m.y, localClarity(s.clarity, m.x, m.y))
			if r.border[(m.y/blockSize)*r.bw+m.x/blockSize] < 0.5 {
				nearSum += q
				near++
			} else {
				farSum += q
				far++
			}
		}
	}
	if near == 0 || far == 0 {
		t.Fatalf("near %d, far %d minutiae: want both", near, far)
	}
	if nearSum/float64(near) >= 0.7*farSum/float64(far) {
		t.Errorf("mean reliability near the border %.2f, inside %.2f; want near < 0.7 × inside", nearSum/float64(near), farSum/float64(far))
	}
}

// FuzzSkeletonGraph feeds arbitrary binary images (thinned or not) to the
// graph stages: they must not panic, every live edge must join live nodes,
// and no minutia may lie outside the image.
func FuzzSkeletonGraph(f *testing.F) {
	f.Add(uint8(16), []byte{0xff, 0x00, 0x0f, 0xf0, 0x3c, 0x18, 0x81, 0x42})
	f.Add(uint8(40), []byte("a ridge, a fork and a pore"))
	f.Fuzz(func(t *testing.T, side uint8, bits []byte) {
		w := int(side%64) + 3
		h := len(bits)*8/w + 3
		if h > 200 {
			h = 200
		}
		s := make([]uint8, w*h)
		for i := range s {
			if k := i / 8; k < len(bits) && bits[k]&(1<<(i%8)) != 0 {
				s[i] = 1
			}
		}
		bw, bh := blocksOf(w, h)
		periods := newBlockField(bw, bh)
		o := &orientationField{bw: bw, bh: bh, vx: make([]float64, bw*bh), vy: make([]float64, bw*bh),
			angle: make([]float64, bw*bh), coherence: make([]float64, bw*bh)}
		m := &blockMask{bw: bw, bh: bh, fg: make([]bool, bw*bh)}
		for b := range periods.v {
			periods.v[b], o.vx[b], m.fg[b] = 9, 1, true
		}
		g := skeletonGraph(s, w, h)
		graphCleanup(g, periods, nil)
		for e, ed := range g.edges {
			if !ed.removed && (g.nodes[ed.a].removed || g.nodes[ed.b].removed) {
				t.Fatalf("edge %d joins a removed node", e)
			}
		}
		for _, c := range graphMinutiae(g, o, m) {
			if c.x < 0 || c.y < 0 || c.x >= w || c.y >= h {
				t.Fatalf("minutia at (%d,%d) outside %dx%d", c.x, c.y, w, h)
			}
		}
		_ = g.render()
	})
}
