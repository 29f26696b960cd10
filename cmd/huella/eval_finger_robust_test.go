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
	"github.com/huella-abis/huella/internal/perturb"
)

// TestEvalFingerRobust runs "huella eval finger-robust" on three fingers of
// FVC2002 DB1 (three impressions each, with their SecuGen templates) and
// checks its JSON line: every key of the contract, in range, and figures
// that only a correct transform mapping and ISO frame give.
func TestEvalFingerRobust(t *testing.T) {
	src := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, secugenFolder), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"101", "102", "103"} {
		for _, i := range []string{"1", "2", "3"} {
			for _, name := range []string{f + "_" + i + ".tif", filepath.Join(secugenFolder, f+"_"+i+".iso")} {
				if err := os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var out, errs bytes.Buffer
	if err := runEval(context.Background(), []string{"finger-robust", "--json", dir}, &out, &errs); err != nil {
		t.Fatalf("eval finger-robust: %v (%s)", err, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	keys := []string{"fnmr_at_fmr_1e-3", "secugen_recall", "secugen_precision", "secugen_recall_chance"}
	for _, p := range perturb.Fingerprint() {
		keys = append(keys, "fnmr_"+p.Name, "repeat_"+p.Name)
	}
	for _, k := range keys {
		v, ok := got[k]
		if !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v (present %v), want a rate in [0, 1]", k, v, ok)
		}
	}
	if got["genuine"] != 9 {
		t.Errorf("genuine = %v, want 9", got["genuine"])
	}
	// A wrong transform or frame drops these to a few percent.
	for _, k := range []string{"repeat_rot+15", "repeat_rot-15", "repeat_scale0.9", "repeat_canvas", "repeat_crop", "repeat_gamma1.6"} {
		if got[k] < 0.6 {
			t.Errorf("%s = %.2f, want >= 0.6", k, got[k])
		}
	}
	for _, k := range []string{"secugen_recall", "secugen_precision"} {
		if got[k] < 0.35 {
			t.Errorf("%s = %.2f, want >= 0.35", k, got[k])
		}
	}
	if got["secugen_recall_chance"] > got["secugen_recall"]/2 {
		t.Errorf("secugen_recall_chance = %.2f, want well under recall %.2f", got["secugen_recall_chance"], got["secugen_recall"])
	}
	if err := runEval(context.Background(), []string{"finger-robust"}, &out, &errs); err == nil {
		t.Error("finger-robust without DIR: no error")
	}
}
