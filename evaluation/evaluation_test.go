package evaluation_test

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/huella-abis/huella/evaluation"
)

func TestEER(t *testing.T) {
	t.Run("Separated", func(t *testing.T) {
		s := evaluation.Scores{Genuine: []float64{5, 6, 7}, Impostor: []float64{1, 2, 3}}
		if got := s.EER(); got != 0 {
			t.Fatalf("EER = %v, want 0", got)
		}
	})
	t.Run("Overlap", func(t *testing.T) {
		// One genuine (2) below one impostor (3) of four each.
		s := evaluation.Scores{Genuine: []float64{2, 5, 6, 7}, Impostor: []float64{0, 1, 1.5, 3}}
		if got := s.EER(); math.Abs(got-0.25) > 1e-9 {
			t.Fatalf("EER = %v, want 0.25", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if got := (evaluation.Scores{}).EER(); !math.IsNaN(got) {
			t.Fatalf("EER = %v, want NaN", got)
		}
	})
}

func TestFNMRAtFMR(t *testing.T) {
	gen := []float64{0.1, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	imp := make([]float64, 1000)
	for i := range imp {
		imp[i] = float64(i) / 1000 // all below 1
	}
	imp[999] = 5.5 // one impostor above the genuine 5
	s := evaluation.Scores{Genuine: gen, Impostor: imp}
	if got := s.FNMRAtFMR(1e-2); math.Abs(got-0.1) > 1e-9 {
		t.Errorf("FNMR@1e-2 = %v, want 0.1", got)
	}
	if got := s.FNMRAtFMR(1e-4); math.Abs(got-0.2) > 1e-9 {
		t.Errorf("FNMR@1e-4 = %v, want 0.2", got)
	}
	if got, want := s.ThresholdAtFMR(1e-4), 6.0; got != want {
		t.Errorf("threshold@1e-4 = %v, want %v", got, want)
	}
}

func TestWriteDETPNG(t *testing.T) {
	var buf bytes.Buffer
	s := evaluation.Scores{Genuine: []float64{2, 5, 6, 7}, Impostor: []float64{0, 1, 1.5, 3}}
	if err := evaluation.WriteDETPNG(&buf, "test", evaluation.Curve{Name: "a", Scores: s}); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatalf("decode DET plot: %v", err)
	}
}
