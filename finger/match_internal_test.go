package finger

import (
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
)

// localSimilarityMasked is localSimilarity without its shortcuts: every
// cylinder masked by the common valid cells, as MCC defines it.
func localSimilarityMasked(p *Candidate, a int, c *Candidate, b int) float64 {
	if !p.usable[a] || !c.usable[b] || angleDiff(p.dir[a], c.dir[b]) > cylinderMaxRotation {
		return 0
	}
	var mask [maskWords]uint64
	common := 0
	for w := range mask {
		mask[w] = p.masks[a*maskWords+w] & c.masks[b*maskWords+w]
		common += bits.OnesCount64(mask[w])
	}
	if float64(common) < cylinderMinMatchable*float64(circleCells) {
		return 0
	}
	na, nb, nx := 0, 0, 0
	for w := 0; w < valueWords; w++ {
		m := mask[w%maskWords]
		x, y := p.values[a*valueWords+w]&m, c.values[b*valueWords+w]&m
		na += bits.OnesCount64(x)
		nb += bits.OnesCount64(y)
		nx += bits.OnesCount64(x ^ y)
	}
	if na+nb == 0 {
		return 0
	}
	return 1 - math.Sqrt(float64(nx))/(math.Sqrt(float64(na))+math.Sqrt(float64(nb)))
}

// TestLocalSimilarityShortcuts checks that the full-cylinder shortcuts of
// localSimilarity give exactly the masked formula on every cylinder pair
// of real prints (FVC2002 DB1 and DB4), and that the bucketed search of
// the minutiae by x finds the same position as a linear scan.
func TestLocalSimilarityShortcuts(t *testing.T) {
	var cands []*Candidate
	for _, db := range []string{"DB1_B", "DB4_B"} {
		dir := datasets.Path(t, "fingerprint/fvc2002/"+db)
		for _, name := range []string{"101_1", "101_2", "102_1", "103_5"} {
			data, err := os.ReadFile(filepath.Join(dir, name+".tif"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := imgproc.DecodeGray(data)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := Extract(img, Options{PPI: 500})
			if err != nil {
				t.Fatal(err)
			}
			cands = append(cands, Prepare(tmpl))
		}
	}
	var kinds [3]int
	for _, p := range cands {
		for _, c := range cands {
			for a := 0; a < p.n; a++ {
				for b := 0; b < c.n; b++ {
					got, want := localSimilarity(p, a, c, b), localSimilarityMasked(p, a, c, b)
					if got != want {
						t.Fatalf("cylinders %d, %d: got %v, want %v", a, b, got, want)
					}
					if want > 0 {
						kinds[btoi(p.full[a])+btoi(c.full[b])]++
					}
				}
			}
		}
		for v := -20.0; v < 600; v += 0.75 {
			want := 0
			for want < p.n && p.sortedX[want] < v {
				want++
			}
			if got := p.firstAtLeast(v); got != want {
				t.Fatalf("firstAtLeast(%v) = %d, want %d", v, got, want)
			}
		}
	}
	// Every case of the shortcut must have been exercised.
	for k, n := range kinds {
		if n == 0 {
			t.Errorf("no compared pair with %d full cylinders", k)
		}
	}
	t.Logf("compared pairs with 0, 1, 2 full cylinders: %v", kinds)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
