package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestEvalFingerScores runs "huella eval finger --scores" on three fingers
// of FVC2002 DB1 (two impressions each) and checks the score file: each
// comparison once, named by its two images (lower name first), mates as
// genuine, and readable by eval fusion.
func TestEvalFingerScores(t *testing.T) {
	src := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	dir := t.TempDir()
	for _, f := range []string{"101", "102", "103"} {
		for _, i := range []string{"1", "2"} {
			name := f + "_" + i + ".tif"
			if err := os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	csv := filepath.Join(t.TempDir(), "scores.csv")
	var out, errs bytes.Buffer
	if err := runEval(context.Background(), []string{"finger", "--scores", csv, dir}, &out, &errs); err != nil {
		t.Fatalf("eval finger: %v (%s)", err, errs.String())
	}
	data, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "kind,a,b,score" {
		t.Fatalf("header %q", lines[0])
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 4 {
			t.Fatalf("line %q: want 4 fields", l)
		}
		if f[1] >= f[2] {
			t.Errorf("line %q: the lower name is not first", l)
		}
		mates := strings.Split(f[1], "_")[0] == strings.Split(f[2], "_")[0]
		if (f[0] == "genuine") != mates {
			t.Errorf("line %q: kind does not match the names", l)
		}
		if seen[f[1]+","+f[2]] {
			t.Errorf("pair %s, %s twice", f[1], f[2])
		}
		seen[f[1]+","+f[2]] = true
	}
	gen, imp, err := readScoresCSV(csv)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != 3 || len(imp) != 12 {
		t.Errorf("read %d genuine and %d impostor scores, want 3 and 12", len(gen), len(imp))
	}
}
