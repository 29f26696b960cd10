package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/finger"
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
// synthetic crowd and checks that their other impressions find them, with
// the default index (two-stage, templates fetched from the store) and with
// the exhaustive exact comparator.
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
		"--real-mates", dir, "--real-reference", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r struct {
		RealRank1  *float64           `json:"real_rank1"`
		RealRank10 *float64           `json:"real_rank10"`
		RealProbes int                `json:"real_probes"`
		Preselect  int                `json:"preselect"`
		Index      string             `json:"finger_index"`
		Templates  string             `json:"templates"`
		Fetches    int                `json:"fetches"`
		Exact1     *float64           `json:"real_exhaustive_rank1"`
		Exact10    *float64           `json:"real_exhaustive_rank10"`
		Kernel     map[string]string  `json:"kernel"`
		FetchedIDs map[string]float64 `json:"fetched_ids"`
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
	if r.Index != "two-stage" || r.Templates != "store" || r.Fetches == 0 {
		t.Errorf("finger_index %q, templates %q, %d fetches: want the two-stage index fetching from the store", r.Index, r.Templates, r.Fetches)
	}
	if got, want := r.Kernel["finger"], finger.SimilarityKernel(); got != want {
		t.Errorf("kernel[finger] = %q, want %q", got, want)
	}
	if n := r.FetchedIDs["tenprint"]; n <= 0 || n > 10*32 {
		t.Errorf("fetched_ids %v: want some templates and at most 10 per subject per ten-print", r.FetchedIDs)
	}
	if r.Exact1 == nil || r.Exact10 == nil || *r.Exact1 < 0.75 || *r.Exact10 < *r.Exact1 {
		t.Errorf("real_exhaustive_rank1 %v, real_exhaustive_rank10 %v among 32 subjects", r.Exact1, r.Exact10)
	}
	t.Run("ErrNoFinger", func(t *testing.T) {
		var stdout, stderr strings.Builder
		err := Run(context.Background(), []string{"bench", "identify", "--subjects", "10", "--modalities", "iris", "--real-mates", dir}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "finger") {
			t.Errorf("err = %v, want one about the finger modality", err)
		}
	})
}

// TestFileTemplateStore writes templates to the bench's template store and
// reads them back by sample ID, in any order, long ones included; unknown
// IDs are left out and IDs out of order are refused.
func TestFileTemplateStore(t *testing.T) {
	s, err := newFileTemplateStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string][]byte{}
	for i := range 300 {
		data := bytes.Repeat([]byte{byte(i)}, 1+i*i%5000) // up to 5 KB: beyond one read
		tm := &huella.Template{SampleID: fmt.Sprintf("smp_%04d", i), SubjectID: fmt.Sprintf("sub_%d", i/3), Modality: huella.ModalityFinger, Position: 1 + i%10, Data: data}
		if err := s.Write(tm); err != nil {
			t.Fatal(err)
		}
		want[tm.SampleID] = data
	}
	if err := s.Write(&huella.Template{SampleID: "smp_0001", Data: []byte{1}}); err == nil {
		t.Error("Write of an ID out of order: no error")
	}
	if err := s.Seal(); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindTemplates(context.Background(), []string{"smp_0299", "smp_nope", "smp_0000", "smp_0150", "smp_0071"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("FindTemplates = %d templates, want 4", len(got))
	}
	for _, tm := range got {
		if !bytes.Equal(tm.Data, want[tm.SampleID]) || tm.SubjectID != "" {
			t.Errorf("%s: %d bytes, subject %q; want %d bytes and no subject", tm.SampleID, len(tm.Data), tm.SubjectID, len(want[tm.SampleID]))
		}
	}
	n := 0
	err = s.forEach(func(tm *huella.Template) error {
		if w := fmt.Sprintf("sub_%d", n/3); tm.SubjectID != w || tm.Position != 1+n%10 || !bytes.Equal(tm.Data, want[fmt.Sprintf("smp_%04d", n)]) {
			t.Errorf("template %d: subject %q position %d, %d bytes", n, tm.SubjectID, tm.Position, len(tm.Data))
		}
		n++
		return nil
	})
	if err != nil || n != 300 {
		t.Errorf("forEach = %d templates, %v; want 300", n, err)
	}
	if _, err := s.FindTemplates(context.Background(), make([]string, huella.MaxTemplateIDs+1)); err == nil {
		t.Error("FindTemplates of too many IDs: no error")
	}
}
