package iriseval_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris/iriseval"
)

func TestRun(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	t.Run("OK", func(t *testing.T) {
		res, err := iriseval.Run(context.Background(), iriseval.Config{Dir: dir, MaxEyes: 4, SpeedProbes: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Eyes != 4 || res.Images < 8 {
			t.Fatalf("got %d images of %d eyes, want 4 eyes", res.Images, res.Eyes)
		}
		n := res.Images
		if got, want := len(res.Scores.Genuine)+len(res.Scores.Impostor), n*(n-1)/2; got != want {
			t.Errorf("scored %d pairs, want every pair (%d)", got, want)
		}
		// Subjects 001–002 include S1002R03, one of the hardest images of
		// the set; the bound only catches a broken pipeline.
		if eer := res.Scores.EER(); eer > 0.10 {
			t.Errorf("EER %.3f on 4 eyes, want <= 0.10", eer)
		}
		if res.ComparePerSecondCore <= 0 || res.ExtractMS <= 0 {
			t.Errorf("speeds %v comparisons/s, %v ms: want positive", res.ComparePerSecondCore, res.ExtractMS)
		}
	})
	t.Run("EyeFromName", func(t *testing.T) {
		list, err := iriseval.ListImages(iriseval.Config{Dir: dir, EyeFromName: regexp.MustCompile(`S1\d{3}([LR])`), MaxEyes: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 || list[0].Eye != "001/L/L" {
			t.Fatalf("first image %+v, want eye 001/L/L", list[:min(1, len(list))])
		}
	})
	t.Run("ErrNoImages", func(t *testing.T) {
		if _, err := iriseval.Run(context.Background(), iriseval.Config{Dir: t.TempDir()}); err == nil {
			t.Fatal("got nil error for an empty directory")
		}
	})
}
