package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
)

// mustFVC returns the stored template of one FVC2002 DB1_B image.
func mustFVC(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(datasets.Path(tb, "fingerprint/fvc2002/DB1_B"), name+".tif"))
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := finger.Extract(img, finger.Options{PPI: 500})
	if err != nil {
		tb.Fatalf("extract %s: %v", name, err)
	}
	b, err := t.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestFingerIndexes searches real prints in a gallery larger than the
// two-stage index's descriptor shortlist, so that there the pre-selection
// decides what the exact comparator sees: with either index each probe's
// mate must come first, with the exact comparator's score.
func TestFingerIndexes(t *testing.T) {
	exact := map[int]float64{} // the prepared index's score of each mate
	for _, kind := range []struct {
		name   string
		engine engine.Finger
	}{{"Prepared", engine.Finger{Exhaustive: true}}, {"TwoStage", engine.Finger{}}} {
		t.Run(kind.name, func(t *testing.T) { testFingerIndex(t, kind.engine.NewIndex(), exact) })
	}
}

func testFingerIndex(t *testing.T, idx engine.Index, exact map[int]float64) {
	add := func(name string) int {
		e, err := idx.Add(mustFVC(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Distractors: six impressions of each of five other fingers.
	for f := 106; f <= 110; f++ {
		for i := 3; i <= 8; i++ {
			add(fmt.Sprintf("%d_%d", f, i))
		}
	}
	mates := map[int]int{}
	for f := 101; f <= 105; f++ {
		mates[f] = add(fmt.Sprintf("%d_1", f))
	}
	if idx.Len() <= 2*engine.FingerPreselect {
		t.Fatalf("gallery of %d entries: want more than twice the shortlist of %d", idx.Len(), engine.FingerPreselect)
	}
	for f := 101; f <= 105; f++ {
		probe := mustFVC(t, fmt.Sprintf("%d_2", f))
		got, err := idx.Search(probe, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].Entry != mates[f] {
			t.Errorf("finger %d: Search = %+v, want entry %d first", f, got, mates[f])
			continue
		}
		scores, err := idx.ScoreEntries(probe, []int{mates[f]})
		if err != nil {
			t.Fatal(err)
		}
		if scores[0] != got[0].Score {
			t.Errorf("finger %d: Search score %v, ScoreEntries %v: want the exact comparator's in both", f, got[0].Score, scores[0])
		}
		if want, ok := exact[f]; !ok {
			exact[f] = got[0].Score
		} else if got[0].Score != want {
			t.Errorf("finger %d: mate scored %v, the prepared index %v", f, got[0].Score, want)
		}
	}
}

// TestFingerTwoStageFormats fills one two-stage index with templates that
// carry their descriptor and another with the same templates in the
// minutiae-only format stored before (described on Add): every search of
// real prints must return the same entries and scores from both.
func TestFingerTwoStageFormats(t *testing.T) {
	withDescriptor, minutiaeOnly := engine.Finger{}.NewIndex(), engine.Finger{}.NewIndex()
	for f := 101; f <= 110; f++ {
		for i := 1; i <= 3; i++ {
			b := mustFVC(t, fmt.Sprintf("%d_%d", f, i))
			if _, stored, err := finger.StoredDescriptor(b); err != nil || !stored {
				t.Fatalf("extracted template: stored descriptor %v, %v; want one", stored, err)
			}
			if _, err := withDescriptor.Add(b); err != nil {
				t.Fatal(err)
			}
			if _, err := minutiaeOnly.Add(finger.AppendMinutiae(nil, b)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a, b := withDescriptor.Bytes(), minutiaeOnly.Bytes(); a != b {
		t.Errorf("Bytes = %d with stored descriptors, %d without; want equal", a, b)
	}
	for f := 101; f <= 110; f++ {
		probe := mustFVC(t, fmt.Sprintf("%d_4", f))
		got, err := withDescriptor.Search(probe, 5)
		if err != nil {
			t.Fatal(err)
		}
		want, err := minutiaeOnly.Search(finger.AppendMinutiae(nil, probe), 5)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("finger %d: Search = %v with stored descriptors, %v without", f, got, want)
		}
	}
	if _, err := withDescriptor.Add([]byte("HFM\x02 not a template")); err == nil {
		t.Error("Add of a bad template: no error")
	}
}
