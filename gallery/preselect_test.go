package gallery_test

import (
	"context"
	"slices"
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
