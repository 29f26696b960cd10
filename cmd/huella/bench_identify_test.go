package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
)

// TestBenchIdentifyKernel runs a tiny iris-only bench and checks that its
// JSON names the iris kernel that ran.
func TestBenchIdentifyKernel(t *testing.T) {
	out := MustRun(t, "bench", "identify", "--subjects", "300", "--modalities", "iris", "--probes", "5", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r struct {
		Kernel       map[string]string  `json:"kernel"`
		HitRateRank1 map[string]float64 `json:"hit_rate_rank1"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if got, want := r.Kernel["iris"], iris.Kernel(); got != want {
		t.Errorf("kernel[iris] = %q, want %q", got, want)
	}
	if _, ok := r.Kernel["face"]; ok {
		t.Errorf("kernel %v names face, which was not benchmarked", r.Kernel)
	}
	if r.HitRateRank1["two_iris_face"] < 0.8 {
		t.Errorf("iris rank-1 %v on 300 synthetic subjects", r.HitRateRank1)
	}
}

// TestBenchIdentifyRealMates hides two real fingers of FVC2002 DB1_B (three
// impressions each, copied to a temporary FVC-named folder) in a small
// synthetic crowd and checks that their other impressions find them.
func TestBenchIdentifyRealMates(t *testing.T) {
	src := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	dir := t.TempDir()
	for _, name := range []string{"101_1", "101_2", "101_3", "102_1", "102_2", "102_3"} {
		data, err := os.ReadFile(filepath.Join(src, name+".tif"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".tif"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := MustRun(t, "bench", "identify", "--subjects", "30", "--modalities", "finger", "--probes", "1",
		"--finger-index", "two-stage", "--real-mates", dir, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r struct {
		RealRank1  *float64 `json:"real_rank1"`
		RealRank10 *float64 `json:"real_rank10"`
		RealProbes int      `json:"real_probes"`
		Preselect  int      `json:"preselect"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if r.RealProbes != 4 || r.RealRank1 == nil || r.RealRank10 == nil {
		t.Fatalf("real_probes %d, real_rank1 %v, real_rank10 %v: want 4 probes and both ranks", r.RealProbes, r.RealRank1, r.RealRank10)
	}
	if r.Preselect != gallery.DefaultPreselect {
		t.Errorf("preselect %d, want the gallery's default %d", r.Preselect, gallery.DefaultPreselect)
	}
	if *r.RealRank1 < 0.75 || *r.RealRank10 < *r.RealRank1 {
		t.Errorf("real_rank1 %.2f, real_rank10 %.2f among 32 subjects", *r.RealRank1, *r.RealRank10)
	}
	t.Run("ErrNoFinger", func(t *testing.T) {
		var stdout, stderr strings.Builder
		err := Run(context.Background(), []string{"bench", "identify", "--subjects", "10", "--modalities", "iris", "--real-mates", dir}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "finger") {
			t.Errorf("err = %v, want one about the finger modality", err)
		}
	})
}
