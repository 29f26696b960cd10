package tattoo_test

import (
	"math"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

// cosine is the similarity of two unit global descriptors.
func cosine(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestGlobalDescriptor(t *testing.T) {
	images := bivtatt(t)
	templates := map[string]*tattoo.Template{}
	for _, n := range []string{"11_2", "11_3", "9_3", "9_4", "1_1", "1_1_a1", "13_1", "4_1", "3_1", "6_1"} {
		tp := MustExtract(t, images, n)
		if len(tp.Global) != 128 {
			t.Fatalf("%s: global descriptor of %d values, want 128", n, len(tp.Global))
		}
		if l := cosine(tp.Global, tp.Global); math.Abs(l-1) > 1e-4 {
			t.Fatalf("%s: squared length %v, want 1", n, l)
		}
		templates[n] = tp
	}
	// Mates look alike as a whole; different tattoos less so. Thresholds
	// leave a margin around the measured values (at 192 px mates 0.52-0.77,
	// these impostors -0.10-0.20; at 224 px 0.43-0.77 and -0.07-0.13).
	for _, p := range [][2]string{{"11_2", "11_3"}, {"9_3", "9_4"}, {"1_1", "1_1_a1"}} {
		c := cosine(templates[p[0]].Global, templates[p[1]].Global)
		t.Logf("mates %s, %s: cosine %.2f", p[0], p[1], c)
		if c < 0.4 {
			t.Errorf("mates %s, %s: cosine %.2f, want >= 0.4", p[0], p[1], c)
		}
	}
	for _, p := range [][2]string{{"11_2", "9_3"}, {"13_1", "4_1"}, {"3_1", "6_1"}} {
		c := cosine(templates[p[0]].Global, templates[p[1]].Global)
		t.Logf("impostors %s, %s: cosine %.2f", p[0], p[1], c)
		if c > 0.35 {
			t.Errorf("impostors %s, %s: cosine %.2f, want <= 0.35", p[0], p[1], c)
		}
	}
}

func TestGlobalProjection(t *testing.T) {
	// Three photos spread along two directions of a 4-d feature space.
	features := [][]float32{{1, 0, 0, 0}, {0, 2, 0, 0}, {-1, -2, 0, 0}, {0, 0, 0.1, 0}}
	p, err := tattoo.TrainGlobalProjection(features, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range features {
		g := p.Project(f)
		if len(g) != 2 {
			t.Fatalf("got %d values, want 2", len(g))
		}
		if n := cosine(g, g); math.Abs(n-1) > 1e-4 {
			t.Errorf("squared length %v, want 1", n)
		}
	}
	t.Run("ErrTooFewPhotos", func(t *testing.T) {
		if _, err := tattoo.TrainGlobalProjection(features[:2], 2); err == nil {
			t.Error("got no error for 2 axes from 2 photos")
		}
	})
}
