package engine_test

import (
	"context"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/internal/demo"
)

func mustFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := demo.Fixture(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// extract runs the engine on a fixture and checks the template's quality.
func extract(tb testing.TB, e engine.Engine, s *huella.Sample, fixture string) []byte {
	tb.Helper()
	data, q, err := e.Extract(context.Background(), s, mustFixture(tb, fixture))
	if err != nil {
		tb.Fatalf("extract %s: %v", fixture, err)
	}
	if q < 0 || q > 100 || len(data) == 0 {
		tb.Fatalf("extract %s: quality %d, %d bytes", fixture, q, len(data))
	}
	return data
}

// checkIndex enrolls the mate and a non-mate and checks that the probe's
// mate ranks first with a higher score, by Search and by ScoreEntries.
func checkIndex(t *testing.T, e engine.Engine, probe, mate, other []byte) {
	t.Helper()
	idx := e.NewIndex()
	for _, d := range [][]byte{other, mate} {
		if _, err := idx.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := idx.Search(probe, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Entry != 1 || got[0].Score <= got[1].Score {
		t.Fatalf("Search = %+v, want the mate (entry 1) first", got)
	}
	scores, err := idx.ScoreEntries(probe, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if scores[1] != got[0].Score || scores[0] != got[1].Score {
		t.Errorf("ScoreEntries = %v, Search = %+v: must agree", scores, got)
	}
	if _, err := idx.Add([]byte("garbage")); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("Add(garbage): %v, want EINVALID", err)
	}
}

func TestFinger(t *testing.T) {
	var e engine.Finger
	s := &huella.Sample{Modality: huella.ModalityFinger, PPI: 500}
	checkIndex(t, e, extract(t, e, s, "finger-101_1.png"), extract(t, e, s, "finger-101_2.png"), extract(t, e, s, "finger-102_1.png"))
}

func TestIris(t *testing.T) {
	var e engine.Iris
	s := &huella.Sample{Modality: huella.ModalityIris, Eye: huella.EyeLeft}
	checkIndex(t, e, extract(t, e, s, "iris-001L01.jpg"), extract(t, e, s, "iris-001L02.jpg"), extract(t, e, s, "iris-002L01.jpg"))
}

func TestFace(t *testing.T) {
	e, err := engine.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	s := &huella.Sample{Modality: huella.ModalityFace}
	checkIndex(t, e, extract(t, e, s, "face-a1.jpg"), extract(t, e, s, "face-a2.jpg"), extract(t, e, s, "face-b1.jpg"))
}

func TestUnprocessable(t *testing.T) {
	face, err := engine.NewFace()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []engine.Engine{engine.Finger{}, engine.Iris{}, face} {
		t.Run(string(e.Modality()), func(t *testing.T) {
			s := &huella.Sample{Modality: e.Modality()}
			// A tattoo photo is no fingerprint, iris or face.
			_, _, err := e.Extract(context.Background(), s, mustFixture(t, "tattoo-57_1.jpg"))
			if huella.ErrorCode(err) != huella.EUNPROCESSABLE {
				t.Fatalf("err = %v, want EUNPROCESSABLE", err)
			}
		})
	}
}
