package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestEvalFingerIndex runs "huella eval finger-index" on four fingers of
// FVC2002 DB1 (two impressions each) and checks its JSON line.
func TestEvalFingerIndex(t *testing.T) {
	src := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	dir := t.TempDir()
	for _, f := range []string{"101", "102", "103", "104"} {
		for _, i := range []string{"1", "2"} {
			name := f + "_" + i + ".tif"
			if err := os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out, errs bytes.Buffer
	if err := runEval(context.Background(), []string{"finger-index", "--subjects", "20", "--impostors", "50", "--exact", "--json", dir}, &out, &errs); err != nil {
		t.Fatalf("eval finger-index: %v (%s)", err, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got struct {
		Sets []struct {
			Similarity string    `json:"similarity"`
			Pairs      int       `json:"pairs"`
			Subjects   int       `json:"subjects"`
			Finger     []float64 `json:"missed_finger"`
			Subject    []float64 `json:"missed_subject"`
			AnyFinger  []float64 `json:"missed_any_finger"`
		} `json:"sets"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if len(got.Sets) != 2 || got.Sets[0].Similarity != "descriptor" || got.Sets[1].Similarity != "exact" {
		t.Fatalf("sets = %+v, want descriptor and exact", got.Sets)
	}
	for _, s := range got.Sets {
		// 4 fingers × 2 ordered impression pairs; 4 fingers make 4-finger people.
		if s.Pairs != 8 || s.Subjects != 20 || len(s.Finger) != len(fingerIndexRates) || len(s.Subject) != len(fingerIndexRates) || len(s.AnyFinger) != len(fingerIndexRates) {
			t.Errorf("%s: %+v", s.Similarity, s)
		}
	}
	// Progress goes to stderr (N of M lines: not a terminal), never to stdout.
	for _, want := range []string{"eval finger-index: extract: 8 of 8 (100%)\n", "eval finger-index: compare: 8 of 8 (100%)\n"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("stderr %q lacks %q", errs.String(), want)
		}
	}
	if strings.Contains(out.String(), " of 8 ") {
		t.Errorf("progress on stdout: %q", out.String())
	}
	if err := runEval(context.Background(), []string{"finger-index"}, &out, &errs); err == nil {
		t.Error("finger-index without DIR: no error")
	}
}
