package gallery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
)

// mapStore is a template store of templates by sample ID, counting the
// calls; err, when set, fails every call.
type mapStore struct {
	templates map[string][]byte
	calls     int
	largest   int
	err       error
}

func (s *mapStore) FindTemplates(_ context.Context, ids []string) ([]*huella.Template, error) {
	s.calls++
	s.largest = max(s.largest, len(ids))
	if s.err != nil {
		return nil, s.err
	}
	if len(ids) > huella.MaxTemplateIDs {
		return nil, huella.Errorf(huella.EINVALID, "too many IDs")
	}
	var out []*huella.Template
	for _, id := range ids {
		if data, ok := s.templates[id]; ok {
			out = append(out, &huella.Template{SampleID: id, Modality: huella.ModalityFinger, Data: data})
		}
	}
	return out, nil
}

// mustExtractFVC returns the stored template of one FVC2002 DB1_B image.
func mustExtractFVC(tb testing.TB, f, imp int) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(datasets.Path(tb, "fingerprint/fvc2002/DB1_B"), fmt.Sprintf("%d_%d.tif", f, imp)))
	if err != nil {
		tb.Fatal(err)
	}
	g, err := imgproc.DecodeGray(data)
	if err != nil {
		tb.Fatal(err)
	}
	tm, err := finger.Extract(g, finger.Options{})
	if err != nil {
		tb.Fatalf("%d_%d: %v", f, imp, err)
	}
	b, err := tm.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestOnDemandFingerprints loads real FVC2002 DB1 templates from a
// snapshot into a gallery whose finger slots fetch their templates from a
// store, and checks that it holds only the descriptors yet identifies and
// verifies every probe exactly as a gallery holding the templates; a
// template gone from the store only loses its score, and a failing store
// fails the search.
func TestOnDemandFingerprints(t *testing.T) {
	ctx := context.Background()
	cals := fusion.Set{"finger": &fusion.Calibration{Scores: []float64{0, 1}, LLRs: []float64{-10, 10}}}
	engines := []engine.Engine{engine.Finger{}}
	held := gallery.New(engines, cals)
	store := &mapStore{templates: map[string][]byte{}}
	var buf bytes.Buffer
	w, err := gallery.NewSnapshotWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// Subject f holds impression 1 of finger f at position 2 and impression
	// 3 of finger f+1 (wrapping) at position 3; subject 110's second
	// template has no sample ID, so the index holds its bytes.
	for f := 101; f <= 110; f++ {
		for _, tm := range []*huella.Template{
			{SampleID: fmt.Sprintf("smp_%d_2", f), SubjectID: fmt.Sprint(f), Modality: huella.ModalityFinger, Position: 2, Quality: 90, Data: mustExtractFVC(t, f, 1)},
			{SampleID: fmt.Sprintf("smp_%d_3", f), SubjectID: fmt.Sprint(f), Modality: huella.ModalityFinger, Position: 3, Quality: 90, Data: mustExtractFVC(t, 101+(f-100)%10, 3)},
		} {
			if f == 110 && tm.Position == 3 {
				tm.SampleID = ""
			}
			mustAdd(t, held, tm)
			if tm.SampleID != "" {
				store.templates[tm.SampleID] = tm.Data
			}
			if err := w.Write(tm); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lean := gallery.New(engines, cals)
	lean.Templates = store
	if n, err := lean.LoadSnapshot(bytes.NewReader(buf.Bytes())); err != nil || n != 20 {
		t.Fatalf("LoadSnapshot = %d, %v; want 20", n, err)
	}
	if a, b := lean.Bytes(), held.Bytes(); a+19*100 > b {
		t.Errorf("Bytes = %d on demand, %d holding the templates: want at least 100 bytes less per fetched template", a, b)
	}
	probe := func(f int) []*huella.Template {
		return []*huella.Template{
			{Modality: huella.ModalityFinger, Position: 2, Quality: 90, Data: mustExtractFVC(t, f, 2)},
			{Modality: huella.ModalityFinger, Position: 3, Quality: 90, Data: mustExtractFVC(t, 101+(f-100)%10, 4)},
		}
	}
	probes := map[int][]*huella.Template{}
	for f := 101; f <= 110; f++ {
		probes[f] = probe(f)
		want, err := held.Identify(ctx, probes[f], 3, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		got, err := lean.Identify(ctx, probes[f], 3, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		if candidates(got) != candidates(want) {
			t.Errorf("subject %d: on demand =\n%s, holding the templates\n%s", f, candidates(got), candidates(want))
		}
		wantV, err := held.Verify(ctx, probes[f], fmt.Sprint(f))
		if err != nil {
			t.Fatal(err)
		}
		gotV, err := lean.Verify(ctx, probes[f], fmt.Sprint(f))
		if err != nil {
			t.Fatal(err)
		}
		if candidates([]*huella.Candidate{gotV}) != candidates([]*huella.Candidate{wantV}) {
			t.Errorf("subject %d: Verify on demand %+v, holding the templates %+v", f, *gotV, *wantV)
		}
	}
	if store.calls == 0 || store.largest > huella.MaxTemplateIDs {
		t.Errorf("store: %d calls, largest %d IDs; want some, at most %d", store.calls, store.largest, huella.MaxTemplateIDs)
	}

	t.Run("GoneFromStore", func(t *testing.T) {
		kept := store.templates["smp_105_2"]
		delete(store.templates, "smp_105_2")
		defer func() { store.templates["smp_105_2"] = kept }()
		got, err := lean.Identify(ctx, probes[105], 10, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if c.SubjectID == "105" && len(c.Scores) != 1 {
				t.Errorf("subject 105 without its position-2 template: %d scores, want 1", len(c.Scores))
			}
		}
		c, err := lean.Verify(ctx, probes[105], "105")
		if err != nil || len(c.Scores) != 1 || c.Scores[0].Position != 3 {
			t.Errorf("Verify = %+v, %v; want the position-3 score alone", c, err)
		}
	})
	t.Run("ErrStore", func(t *testing.T) {
		failing := errors.New("store down")
		store.err = failing
		defer func() { store.err = nil }()
		if _, err := lean.Identify(ctx, probes[101], 3, math.Inf(-1)); !errors.Is(err, failing) {
			t.Errorf("Identify with a failing store: %v, want %v", err, failing)
		}
		if _, err := lean.Verify(ctx, probes[101], "101"); !errors.Is(err, failing) {
			t.Errorf("Verify with a failing store: %v, want %v", err, failing)
		}
	})
}
