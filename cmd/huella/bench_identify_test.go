package main

import (
	"encoding/json"
	"strings"
	"testing"

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
