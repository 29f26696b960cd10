package fusion_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/internal/demo"
)

// TestShippedCalibrationsFitTheEngines catches a calibration left behind
// by an engine change: on real pairs, the median LLR of mates must be
// positive and that of non-mates negative. (A stale finger calibration once
// gave impostor scores LLRs of 2 to 5.)
func TestShippedCalibrationsFitTheEngines(t *testing.T) {
	cals, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	face, err := engine.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	fvc := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	casia := datasets.Path(t, "iris/casia-interval")
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fixture := func(name string) []byte {
		b, err := demo.Fixture(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type pair struct {
		a, b []byte
		mate bool
	}
	var fingers, irises []pair
	for f := 101; f <= 106; f++ {
		a := read(filepath.Join(fvc, fmt.Sprintf("%d_1.tif", f)))
		fingers = append(fingers, pair{a, read(filepath.Join(fvc, fmt.Sprintf("%d_2.tif", f))), true},
			pair{a, read(filepath.Join(fvc, fmt.Sprintf("%d_1.tif", f+1))), false})
	}
	eyes, _ := filepath.Glob(filepath.Join(casia, "00[1-6]", "L", "*0[12].jpg"))
	for i := 0; i+3 < len(eyes); i += 2 {
		irises = append(irises, pair{read(eyes[i]), read(eyes[i+1]), true}, pair{read(eyes[i]), read(eyes[i+2]), false})
	}
	faces := []pair{{fixture("face-a1.jpg"), fixture("face-a2.jpg"), true}, {fixture("face-a1.jpg"), fixture("face-b1.jpg"), false}}
	for _, tc := range []struct {
		e     engine.Engine
		s     huella.Sample
		pairs []pair
	}{
		{engine.Finger{}, huella.Sample{Modality: huella.ModalityFinger, PPI: 500}, fingers},
		{engine.Iris{}, huella.Sample{Modality: huella.ModalityIris, Eye: huella.EyeLeft}, irises},
		{face, huella.Sample{Modality: huella.ModalityFace}, faces},
	} {
		m := tc.e.Modality()
		t.Run(string(m), func(t *testing.T) {
			cal := cals[string(m)]
			if cal == nil {
				t.Fatalf("no calibration for %s", m)
			}
			var mates, nonMates []float64
			for _, p := range tc.pairs {
				a, _, err := tc.e.Extract(context.Background(), &tc.s, p.a)
				if err != nil {
					continue // a failure to enroll says nothing of the calibration
				}
				b, _, err := tc.e.Extract(context.Background(), &tc.s, p.b)
				if err != nil {
					continue
				}
				idx := tc.e.NewIndex()
				if _, err := idx.Add(b); err != nil {
					t.Fatal(err)
				}
				scores, err := idx.ScoreEntries(a, []int{0})
				if err != nil {
					t.Fatal(err)
				}
				if llr := cal.LLR(scores[0]); p.mate {
					mates = append(mates, llr)
				} else {
					nonMates = append(nonMates, llr)
				}
			}
			if len(mates) == 0 || len(nonMates) == 0 {
				t.Fatal("no pair extracted")
			}
			slices.Sort(mates)
			slices.Sort(nonMates)
			if mm, nm := mates[len(mates)/2], nonMates[len(nonMates)/2]; !(mm > 0 && nm < 0) {
				t.Errorf("median LLR of mates %.2f, of non-mates %.2f: want mates > 0 > non-mates (regenerate fusion/calibration.json)", mm, nm)
			}
		})
	}
}
