package fusion_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/huella-abis/huella/fusion"
)

// normals returns n draws of N(mean, 1) from a fixed seed.
func normals(r *rand.Rand, n int, mean float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + r.NormFloat64()
	}
	return out
}

func TestFit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen, imp := normals(r, 20000, 4), normals(r, 200000, 0)
	c, err := fusion.Fit("test", gen, imp, 60)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("MatchesAnalyticLLR", func(t *testing.T) {
		// For N(4,1) against N(0,1) the LLR is 4x - 8.
		for _, x := range []float64{1, 2, 3} {
			if got, want := c.LLR(x), 4*x-8; math.Abs(got-want) > 0.6 {
				t.Errorf("LLR(%v) = %.2f, want %.2f ± 0.6", x, got, want)
			}
		}
	})
	t.Run("Monotone", func(t *testing.T) {
		prev := math.Inf(-1)
		for x := -5.0; x < 10; x += 0.05 {
			v := c.LLR(x)
			if v < prev-1e-12 {
				t.Fatalf("LLR decreases at %v", x)
			}
			prev = v
		}
	})
	t.Run("CappedByData", func(t *testing.T) {
		if got, limit := c.LLR(1e9), math.Log(float64(len(imp))+1); got > limit+1e-9 {
			t.Errorf("LLR far above every impostor = %.2f, want at most ln(n_imp+1) = %.2f", got, limit)
		}
	})
	t.Run("FMRBoundHolds", func(t *testing.T) {
		// Fresh impostors: the fraction at or above ln(1/fmr) stays below fmr.
		test := normals(r, 200000, 0)
		for _, fmr := range []float64{1e-2, 1e-3} {
			th := fusion.LLRForFMR(fmr)
			n := 0
			for _, s := range test {
				if c.LLR(s) >= th {
					n++
				}
			}
			if got := float64(n) / float64(len(test)); got > fmr*1.2 {
				t.Errorf("measured FMR %.2g at the threshold for %.0g", got, fmr)
			}
		}
	})
	t.Run("ErrTooFewScores", func(t *testing.T) {
		if _, err := fusion.Fit("x", gen[:3], imp, 10); err == nil {
			t.Fatal("want error")
		}
	})
}

func TestParseSet(t *testing.T) {
	good := fusion.Set{"finger": {Name: "finger", Scores: []float64{0, 1}, LLRs: []float64{-2, 3}}}
	b, _ := json.Marshal(good)
	s, err := fusion.ParseSet(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := s["finger"].LLR(0.5); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("LLR(0.5) = %v, want 0.5", got)
	}
	for name, bad := range map[string]string{
		"ErrUnsorted": `{"f":{"scores":[1,0],"llrs":[0,1]}}`,
		"ErrLengths":  `{"f":{"scores":[0,1],"llrs":[0]}}`,
		"ErrJSON":     `{"f":`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := fusion.ParseSet([]byte(bad)); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestDefault(t *testing.T) {
	s, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"finger", "iris"} {
		c := s[m]
		if c == nil {
			t.Fatalf("no %s calibration", m)
		}
		lo, hi := c.LLRs[0], c.LLRs[len(c.LLRs)-1]
		if !(lo < 0 && hi > 2) {
			t.Errorf("%s: LLR from %.1f to %.1f: a calibration must favour impostors at its low end and mates at its high end", m, lo, hi)
		}
	}
}
