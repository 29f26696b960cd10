package finger

import (
	"math"
	"math/bits"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// nearReference is hull.near with every distance computed by math.Hypot.
func nearReference(h hull, px, py, margin float64) bool {
	n := len(h.x)
	if n == 0 {
		return false
	}
	if n >= 3 {
		inside := true
		for i := 0; i < n; i++ {
			ax, ay := h.x[i], h.y[i]
			bx, by := h.x[(i+1)%n], h.y[(i+1)%n]
			if c := (bx-ax)*(py-ay) - (by-ay)*(px-ax); c < 0 {
				inside = false
				if -c > margin*h.edge[i]*(1+1e-9) {
					return false
				}
			}
		}
		if inside {
			return true
		}
	}
	for i := 0; i < n; i++ {
		ax, ay := h.x[i], h.y[i]
		bx, by := h.x[(i+1)%n], h.y[(i+1)%n]
		ex, ey := bx-ax, by-ay
		l2 := ex*ex + ey*ey
		t := 0.0
		if l2 > 0 {
			t = min(max(((px-ax)*ex+(py-ay)*ey)/l2, 0), 1)
		}
		if math.Hypot(px-ax-t*ex, py-ay-t*ey) <= margin {
			return true
		}
	}
	return false
}

// cylindersReference computes the valid cells and value bits of every
// cylinder of c as MCC defines them, without Prepare's shortcuts: every
// cell of the circle tested against the hull, every neighbour's directional
// contributions computed, every cell of its square of reach visited.
func cylindersReference(c *Candidate) (values, masks []uint64) {
	n := c.n
	values, masks = make([]uint64, n*valueWords), make([]uint64, n*maskWords)
	h := convexHull(c.x, c.y)
	sigma2 := 2 * cylinderSigmaS * cylinderSigmaS
	gsNorm := 1 / (cylinderSigmaS * math.Sqrt(2*math.Pi))
	reach := 3 * cylinderSigmaS
	cellValue := make([]float64, cylinderCellCount*cylinderSections)
	for i := 0; i < n; i++ {
		cos, sin := math.Cos(c.dir[i]), math.Sin(c.dir[i])
		mask := masks[i*maskWords : (i+1)*maskWords]
		for j := 0; j < cylinderCells; j++ {
			for k := 0; k < cylinderCells; k++ {
				lx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
				ly := (float64(j) - (cylinderCells-1)/2.0) * cellSize
				if cellRadius[j*cylinderCells+k] > cylinderRadius {
					continue
				}
				if !nearReference(h, c.x[i]+cos*lx-sin*ly, c.y[i]+sin*lx+cos*ly, cylinderHullMargin) {
					continue
				}
				cell := j*cylinderCells + k
				mask[cell/64] |= 1 << (cell % 64)
			}
		}
		clear(cellValue)
		for t := 0; t < n; t++ {
			dx, dy := c.x[t]-c.x[i], c.y[t]-c.y[i]
			if t == i || float64(c.dist[i*n+t]) > cylinderRadius+reach+0.01 || math.Hypot(dx, dy) > cylinderRadius+reach {
				continue
			}
			lx := cos*dx + sin*dy
			ly := -sin*dx + cos*dy
			var gd [cylinderSections]float64
			dTheta := angleSigned(c.dir[i] - c.dir[t])
			for s := 0; s < cylinderSections; s++ {
				centre := -math.Pi + (float64(s)+0.5)*sectionSize
				a := angleSigned(centre - dTheta)
				gd[s] = 0.5 * (math.Erf((a+sectionSize/2)/(cylinderSigmaD*math.Sqrt2)) -
					math.Erf((a-sectionSize/2)/(cylinderSigmaD*math.Sqrt2)))
			}
			for j := 0; j < cylinderCells; j++ {
				for k := 0; k < cylinderCells; k++ {
					cx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
					cy := (float64(j) - (cylinderCells-1)/2.0) * cellSize
					if (cx-lx)*(cx-lx)+(cy-ly)*(cy-ly) > reach*reach {
						continue
					}
					gs := gsNorm * math.Exp(-(cy-ly)*(cy-ly)/sigma2) * math.Exp(-(cx-lx)*(cx-lx)/sigma2)
					for s := 0; s < cylinderSections; s++ {
						cellValue[s*cylinderCellCount+j*cylinderCells+k] += gs * gd[s]
					}
				}
			}
		}
		vals := values[i*valueWords : (i+1)*valueWords]
		for s := 0; s < cylinderSections; s++ {
			for cell := 0; cell < cylinderCellCount; cell++ {
				if mask[cell/64]&(1<<(cell%64)) != 0 && cellValue[s*cylinderCellCount+cell] >= cylinderMuPsi {
					bit := s*maskWords*64 + cell
					vals[bit/64] |= 1 << (bit % 64)
				}
			}
		}
	}
	return values, masks
}

// TestAtan2Pair checks atan2Pair against math.Atan2 of the offsets between
// two points both ways, in every quadrant, on the axes and at the origin,
// over a lattice of integer positions.
func TestAtan2Pair(t *testing.T) {
	const x0, y0 = 300.0, 200.0
	for y := -400.0; y <= 800; y++ {
		for x := -399.0; x <= 1000; x += 3 { // x0 among them
			a, b := atan2Pair(y-y0, x-x0)
			if want := float32(math.Atan2(y-y0, x-x0)); a != want {
				t.Fatalf("from (%v, %v) to (%v, %v): %v, want %v", x0, y0, x, y, a, want)
			}
			if want := float32(math.Atan2(y0-y, x0-x)); b != want {
				t.Fatalf("from (%v, %v) to (%v, %v): %v, want %v", x, y, x0, y0, b, want)
			}
		}
	}
}

// TestPrepareReference checks that Prepare's cylinders are the reference
// cylinders bit for bit, on real prints of FVC2002 DB1 and DB4 as extracted
// (directions of any angle) and as stored and decoded (whole 1/256 turns,
// whose directional contributions Prepare looks up), that every pair's
// direction is math.Atan2's, and that hull.near
// decides every point as the distances computed by math.Hypot do.
func TestPrepareReference(t *testing.T) {
	stored := 0
	for _, p := range shortcutNames {
		db, name, _ := strings.Cut(p, "/")
		img := datasets.Gray(t, filepath.Join(datasets.Path(t, "fingerprint/fvc2002/"+db), name+".tif"))
		extracted, err := Extract(img, Options{PPI: 500})
		if err != nil {
			t.Fatal(err)
		}
		b, err := extracted.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var decoded Template
		if err := decoded.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		for _, tmpl := range []*Template{extracted, &decoded} {
			c := Prepare(tmpl)
			hits := 0
			for i := range c.n {
				for j := range c.n {
					if _, ok := lookupContributions(directionalTable(), angleSigned(c.dir[i]-c.dir[j])); ok {
						hits++
					}
				}
			}
			if hits == c.n*c.n {
				stored++
			}
			for i := range c.n {
				for j := range c.n {
					dx, dy := c.x[j]-c.x[i], c.y[j]-c.y[i]
					if got, want := c.angle[i*c.n+j], float32(math.Atan2(dy, dx)); got != want {
						t.Fatalf("%s: angle from %d to %d = %v, want %v", p, i, j, got, want)
					}
				}
			}
			values, masks := cylindersReference(c)
			if !slices.Equal(c.values, values) || !slices.Equal(c.masks, masks) {
				t.Fatalf("%s: cylinders differ from the reference", p)
			}
			for i := range c.n {
				valid, count := 0, 0
				for _, m := range masks[i*maskWords : (i+1)*maskWords] {
					valid += bits.OnesCount64(m)
				}
				for _, v := range values[i*valueWords : (i+1)*valueWords] {
					count += bits.OnesCount64(v)
				}
				if c.validCells[i] != valid || c.count[i] != count || c.full[i] != (valid == circleCells) {
					t.Fatalf("%s: minutia %d: valid %d, count %d, want %d, %d", p, i, c.validCells[i], c.count[i], valid, count)
				}
			}
			// Points on a 1-px lattice around the hull, and the points
			// at exactly the margin from a vertex, as the reference.
			h := convexHull(c.x, c.y)
			for y := -60.0; y < 560; y += 1.25 {
				for x := -60.0; x < 560; x += 1.25 {
					if got, want := h.near(x, y, cylinderHullMargin), nearReference(h, x, y, cylinderHullMargin); got != want {
						t.Fatalf("%s: near(%v, %v) = %v, want %v", p, x, y, got, want)
					}
				}
			}
			for i := range h.x {
				for _, d := range [][2]float64{{0, -1}, {0, 1}, {-1, 0}, {1, 0}, {0.6, 0.8}} {
					x, y := h.x[i]+cylinderHullMargin*d[0], h.y[i]+cylinderHullMargin*d[1]
					if got, want := h.near(x, y, cylinderHullMargin), nearReference(h, x, y, cylinderHullMargin); got != want {
						t.Fatalf("%s: near(%v, %v) = %v, want %v", p, x, y, got, want)
					}
				}
			}
		}
	}
	if stored != len(shortcutNames) {
		t.Errorf("%d templates had every direction difference tabulated, want the %d decoded ones", stored, len(shortcutNames))
	}
}
