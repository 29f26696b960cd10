package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/fusion"
)

// TestEvalFusionKeepsOtherCalibrations refits the finger calibration into a
// copy of the shipped file: the finger entry changes, and the iris and face
// entries, given no scores, stay as they were.
func TestEvalFusionKeepsOtherCalibrations(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join("..", "..", "fusion", "calibration.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cal := filepath.Join(dir, "calibration.json")
	if err := os.WriteFile(cal, shipped, 0o644); err != nil {
		t.Fatal(err)
	}
	// Scores unlike any engine's: mates near 0.8, non-mates near 0.2.
	var csv strings.Builder
	csv.WriteString("kind,a,b,score\n")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		fmt.Fprintf(&csv, "genuine,%d,%d,%.4f\n", i, i, 0.8+0.05*r.NormFloat64())
		fmt.Fprintf(&csv, "impostor,%d,%d,%.4f\n", i, i+1, 0.2+0.05*r.NormFloat64())
	}
	scores := filepath.Join(dir, "finger.csv")
	if err := os.WriteFile(scores, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--finger", scores, "--write-calibration", cal, "--impostors", "1000"}
	if err := runEvalFusion(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	before, err := fusion.ParseSet(shipped)
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(cal)
	if err != nil {
		t.Fatal(err)
	}
	after, err := fusion.ParseSet(written)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iris", "face"} {
		if before[name] == nil {
			t.Fatalf("the shipped file has no %s calibration", name)
		}
		if after[name] == nil {
			t.Errorf("%s calibration dropped although no %s scores were given", name, name)
		} else if fmt.Sprint(*after[name]) != fmt.Sprint(*before[name]) {
			t.Errorf("%s calibration changed although no %s scores were given", name, name)
		}
	}
	if llr := after["finger"].LLR(0.8); llr <= 0 {
		t.Errorf("refitted finger LLR at a mate score 0.8 = %.2f, want > 0", llr)
	}
	if fmt.Sprint(*after["finger"]) == fmt.Sprint(*before["finger"]) {
		t.Error("finger calibration not refitted")
	}
}
