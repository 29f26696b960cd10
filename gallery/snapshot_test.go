package gallery_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
)

// TestSnapshotFingerprints round-trips real FVC2002 DB1 templates through
// a snapshot into the two-stage finger index: the snapshot carries each
// template's descriptor, and the gallery loaded from it identifies every
// probe exactly as the gallery the templates were added to.
func TestSnapshotFingerprints(t *testing.T) {
	ctx := context.Background()
	extract := func(f, imp int) []byte { return mustExtractFVC(t, f, imp) }
	// Monotone, not fitted: only the equality of the two galleries is tested.
	cals := fusion.Set{"finger": &fusion.Calibration{Scores: []float64{0, 1}, LLRs: []float64{-10, 10}}}
	engines := []engine.Engine{engine.Finger{}}
	added := gallery.New(engines, cals)
	var buf bytes.Buffer
	w, err := gallery.NewSnapshotWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var written [][]byte
	// Subject f holds impression 1 of finger f at position 2 and impression
	// 3 of finger f+1 (wrapping) at position 3.
	for f := 101; f <= 110; f++ {
		for _, tm := range []*huella.Template{
			{SubjectID: fmt.Sprint(f), Modality: huella.ModalityFinger, Position: 2, Quality: 90, Data: extract(f, 1)},
			{SubjectID: fmt.Sprint(f), Modality: huella.ModalityFinger, Position: 3, Quality: 90, Data: extract(101+(f-100)%10, 3)},
		} {
			mustAdd(t, added, tm)
			if err := w.Write(tm); err != nil {
				t.Fatal(err)
			}
			if _, stored, err := finger.StoredDescriptor(tm.Data); err != nil || !stored {
				t.Fatalf("subject %d position %d: template without descriptor (%v)", f, tm.Position, err)
			}
			written = append(written, tm.Data)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for i, data := range written {
		if !bytes.Contains(buf.Bytes(), data) {
			t.Fatalf("template %d: the snapshot does not carry it whole, descriptor included", i)
		}
	}
	loaded := gallery.New(engines, cals)
	if n, err := loaded.LoadSnapshot(bytes.NewReader(buf.Bytes())); err != nil || n != 20 {
		t.Fatalf("LoadSnapshot = %d, %v; want 20", n, err)
	}
	if a, b := added.Bytes(), loaded.Bytes(); a != b {
		t.Errorf("Bytes = %d added, %d loaded; want equal", a, b)
	}
	hits := 0
	for f := 101; f <= 110; f++ {
		probe := []*huella.Template{
			{Modality: huella.ModalityFinger, Position: 2, Quality: 90, Data: extract(f, 2)},
			{Modality: huella.ModalityFinger, Position: 3, Quality: 90, Data: extract(101+(f-100)%10, 4)},
		}
		want, err := added.Identify(ctx, probe, 3, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		got, err := loaded.Identify(ctx, probe, 3, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		if candidates(got) != candidates(want) {
			t.Errorf("subject %d: loaded gallery =\n%s, added gallery\n%s", f, candidates(got), candidates(want))
		}
		if len(got) > 0 && got[0].SubjectID == fmt.Sprint(f) {
			hits++
		}
	}
	if hits < 9 {
		t.Errorf("rank-1 hits %d of 10 from the snapshot, want at least 9", hits)
	}
}

// candidates formats a result list by value, for comparison.
func candidates(cs []*huella.Candidate) string {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "%+v\n", *c)
	}
	return b.String()
}
