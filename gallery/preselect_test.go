package gallery_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
)

// preselectEngine is numberEngine whose index has a first stage: the
// similarity of two one-byte templates is 255 minus their difference.
type preselectEngine struct{ numberEngine }

func (preselectEngine) NewIndex() engine.Index { return &preselectIndex{} }

type preselectIndex struct{ numberIndex }

func (x *preselectIndex) Similarities(p []byte, out []int32) ([]int32, error) {
	out = out[:0]
	for _, v := range x.values {
		out = append(out, 255-int32(max(p[0], v)-min(p[0], v)))
	}
	return out, nil
}

func (x *preselectIndex) Search([]byte, int) ([]engine.Match, error) {
	panic("a slot with a first stage is not searched slot by slot")
}

func preselectGallery() *gallery.Gallery {
	return gallery.New([]engine.Engine{preselectEngine{numberEngine{huella.ModalityFinger}}}, fusion.Set{"finger": linear})
}

func identified(t *testing.T, g *gallery.Gallery, probe []*huella.Template) []string {
	t.Helper()
	got, err := g.Identify(context.Background(), probe, 10, -1e9)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.SubjectID)
	}
	slices.Sort(ids)
	return ids
}

// TestPreselectSubjects checks the subject-level first stage: the subjects
// of highest summed similarity are the candidates, a subject close on one
// finger but far on the others is not, and every candidate is scored by the
// exact comparator on every finger.
func TestPreselectSubjects(t *testing.T) {
	g := preselectGallery()
	g.Preselect = 4 // two subjects of a two-finger probe
	mustAdd(t, g,
		// A: close on both fingers. B: a bit further on both. C: exact on
		// finger 2, far on finger 3 (per-slot shortlists of one would take
		// it). D: no finger 3.
		tmpl("A", huella.ModalityFinger, 2, 10), tmpl("A", huella.ModalityFinger, 3, 50),
		tmpl("B", huella.ModalityFinger, 2, 14), tmpl("B", huella.ModalityFinger, 3, 54),
		tmpl("C", huella.ModalityFinger, 2, 11), tmpl("C", huella.ModalityFinger, 3, 200),
		tmpl("D", huella.ModalityFinger, 2, 30))
	probe := []*huella.Template{tmpl("", huella.ModalityFinger, 2, 11), tmpl("", huella.ModalityFinger, 3, 50)}
	if got, want := identified(t, g, probe), []string{"A", "B"}; !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	got, err := g.Identify(context.Background(), probe, 1, -1e9)
	if err != nil {
		t.Fatal(err)
	}
	// A: finger 2 at distance 1 (9), finger 3 at 0 (10).
	if len(got) != 1 || got[0].SubjectID != "A" || got[0].LLR != 19 || len(got[0].Scores) != 2 {
		t.Fatalf("got %+v, want A with LLR 19 from 2 scores", got)
	}
	t.Run("Merge", func(t *testing.T) {
		// B merged into D: D counts B's fingers, each slot its best entry
		// (finger 2: B's 14, not D's 30 on top), and takes B's place.
		if err := g.Merge("B", "D"); err != nil {
			t.Fatal(err)
		}
		defer g.Unmerge("B")
		if got, want := identified(t, g, probe), []string{"A", "D"}; !slices.Equal(got, want) {
			t.Fatalf("after merge candidates %v, want %v", got, want)
		}
		g.Preselect = 2
		defer func() { g.Preselect = 4 }()
		if got, want := identified(t, g, probe), []string{"A"}; !slices.Equal(got, want) {
			t.Fatalf("after merge, one candidate: %v, want %v (D's two finger 2 entries counted once)", got, want)
		}
	})
	t.Run("OneFingerKeepsMore", func(t *testing.T) {
		// The same four comparisons for one finger: four subjects.
		if got, want := identified(t, g, probe[:1]), []string{"A", "B", "C", "D"}; !slices.Equal(got, want) {
			t.Fatalf("one-finger candidates %v, want %v", got, want)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		g.Remove("A")
		if got, want := identified(t, g, probe), []string{"B", "C"}; !slices.Equal(got, want) {
			t.Fatalf("after removal candidates %v, want %v", got, want)
		}
	})
}

// onDemandEngine is preselectEngine whose index keeps only the first
// stage of templates added with AddFirstStage and scores fetched bytes.
type onDemandEngine struct{ preselectEngine }

func (onDemandEngine) NewIndex() engine.Index { return &onDemandIndex{} }

type onDemandIndex struct{ preselectIndex }

func (x *onDemandIndex) AddFirstStage(d []byte) (int, error) { return x.Add(d) }

func (x *onDemandIndex) ScoreEntries([]byte, []int) ([]float64, error) {
	panic("every template is fetched from the store")
}

func (x *onDemandIndex) ScoreTemplates(p []byte, templates [][]byte) ([]float64, error) {
	numberScored.Add(int64(len(templates)))
	out := make([]float64, len(templates))
	for i, t := range templates {
		out[i] = -math.Abs(float64(p[0]) - float64(t[0]))
	}
	return out, nil
}

// TestIdentifyPruned checks that dropping, slot by slot, the candidates
// that can no longer be returned changes no result: random ten-finger and
// face galleries, with templates held or fetched from a store, searched
// with and without it at several k and minLLR give the same candidates,
// LLRs and scores, and it does compare less.
func TestIdentifyPruned(t *testing.T) {
	for _, onDemand := range []bool{false, true} {
		t.Run(map[bool]string{false: "Held", true: "OnDemand"}[onDemand], func(t *testing.T) {
			testIdentifyPruned(t, onDemand)
		})
	}
}

func testIdentifyPruned(t *testing.T, onDemand bool) {
	ctx := context.Background()
	// LLRs bounded as real calibrations are: -5 to 6 per slot.
	bounded := &fusion.Calibration{Scores: []float64{-60, -10, 0}, LLRs: []float64{-5, -1, 6}}
	var fingers engine.Engine = preselectEngine{numberEngine{huella.ModalityFinger}}
	if onDemand {
		fingers = onDemandEngine{preselectEngine{numberEngine{huella.ModalityFinger}}}
	}
	g := gallery.New([]engine.Engine{fingers, numberEngine{huella.ModalityFace}},
		fusion.Set{"finger": bounded, "face": bounded})
	store := &mapStore{templates: map[string][]byte{}}
	if onDemand {
		g.Templates = store
	}
	g.Preselect = 600 // 60 subjects of a ten-print
	g.Shortlist = 5
	rng := rand.New(rand.NewPCG(1, 2))
	var people [][]byte
	for i := range 300 {
		v := make([]byte, 11)
		for j := range v {
			v[j] = byte(rng.IntN(256))
		}
		people = append(people, v)
		id := fmt.Sprintf("S%03d", i)
		for f := 1; f <= 10; f++ {
			if i%17 == 0 && f == 4 {
				continue // some subjects lack a finger
			}
			ft := tmpl(id, huella.ModalityFinger, f, v[f])
			ft.SampleID = fmt.Sprintf("%s-%d", id, f)
			if i%29 != 0 { // and some templates are gone from the store
				store.templates[ft.SampleID] = ft.Data
			}
			mustAdd(t, g, ft)
		}
		if i%3 == 0 {
			mustAdd(t, g, tmpl(id, huella.ModalityFace, 0, v[0]))
		}
	}
	if err := g.Merge("S005", "S010"); err != nil {
		t.Fatal(err)
	}
	g.Remove("S020")
	var pruned, full int64
	for trial := range 20 {
		mate := people[rng.IntN(len(people))]
		var probe []*huella.Template
		for f := 1; f <= 10; f++ {
			probe = append(probe, tmpl("", huella.ModalityFinger, f, mate[f]+byte(rng.IntN(9))-4))
		}
		if trial%2 == 0 {
			probe = append(probe, tmpl("", huella.ModalityFace, 0, mate[0]+byte(rng.IntN(9))-4))
		}
		for _, k := range []int{1, 3, 10} {
			for _, minLLR := range []float64{math.Inf(-1), -30, 0, 15, 40} {
				numberScored.Store(0)
				got, err := g.Identify(ctx, probe, k, minLLR)
				if err != nil {
					t.Fatal(err)
				}
				pruned += numberScored.Swap(0)
				restore := gallery.SetPruning(false)
				want, err := g.Identify(ctx, probe, k, minLLR)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				full += numberScored.Load()
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("trial %d, k %d, minLLR %v: pruned %s, want %s", trial, k, minLLR, describe(got), describe(want))
				}
			}
		}
	}
	if pruned >= full {
		t.Errorf("pruned searches compared %d templates, unpruned %d: want fewer", pruned, full)
	}
	if onDemand && (store.calls == 0 || store.largest > huella.MaxTemplateIDs) {
		t.Errorf("store: %d calls, largest %d IDs; want some, at most %d", store.calls, store.largest, huella.MaxTemplateIDs)
	}
	t.Logf("templates compared: %d pruned, %d not; store calls %d", pruned, full, store.calls)
}

func describe(cs []*huella.Candidate) string {
	var s []string
	for _, c := range cs {
		s = append(s, fmt.Sprintf("%s:%.3f/%d", c.SubjectID, c.LLR, len(c.Scores)))
	}
	return strings.Join(s, " ")
}
