package match_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// TestApplierFollowsStore: two API nodes over one real SQLite store. Node
// A enrolls the demo's first person twice (two subjects, a duplicate hit),
// an examiner merges them, then unmerges, then one subject is purged; node
// B, loaded before any of it, applies the store's gallery events and
// searches as A's store holds at each step: two candidates, one after the
// merge, two after the unmerge, the other one after the purge.
func TestApplierFollowsStore(t *testing.T) {
	ctx := storetest.Context()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cals, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	nodeA := match.NewIdentifier(store, []engine.Engine{engine.Iris{}}, cals)
	nodeB := match.NewIdentifier(store, []engine.Engine{engine.Iris{}}, cals)
	for _, x := range []*match.Identifier{nodeA, nodeB} {
		if _, _, err := x.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	applier := nodeB.Applier(store)
	storetest.MustCreateSite(t, store, "MX-TAP")
	enroll := func(capture string, day int, candidate string) *huella.Encounter {
		t.Helper()
		e := storetest.Encounter("MX-TAP", storetest.Date(2026, 6, day, 9))
		irises := irises(t, nodeA, capture, "smp_")
		e.Samples = slices.DeleteFunc(e.Samples, func(s *huella.Sample) bool { return s.Modality != huella.ModalityIris })
		for i, s := range e.Samples {
			s.Template, s.Quality = irises[i].Template, irises[i].Quality
		}
		e.Identification = &huella.Identification{Decision: huella.DecisionNewSubject}
		if candidate != "" {
			c := &huella.Candidate{SubjectID: candidate, LLR: 20}
			e.Identification = &huella.Identification{Decision: huella.DecisionReview, Candidates: []*huella.Candidate{c},
				Hits: []*huella.Hit{{Kind: huella.HitDuplicate, CandidateSubjectID: candidate, Candidate: c}}}
		}
		storetest.MustCreateEncounter(t, store, e)
		if err := nodeA.Enrolled(e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	probe := match.Probe(irises(t, nodeA, "02", "smp_probe_"))
	candidates := func(step string) []string {
		t.Helper()
		if err := applier.CatchUp(ctx, store); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		cands, err := nodeB.SearchSubjects(ctx, probe, 10, fusion.LLRForFMR(match.DefaultReviewFMR))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cands {
			ids = append(ids, c.SubjectID)
		}
		slices.Sort(ids)
		return ids
	}
	first := enroll("01", 1, "")
	second := enroll("02", 2, first.SubjectID)
	both := []string{first.SubjectID, second.SubjectID}
	slices.Sort(both)
	if got := candidates("enrolled"); !slices.Equal(got, both) {
		t.Fatalf("node B after two enrollments on A finds %v, want %v", got, both)
	}
	hit := second.Identification.Hits[0]
	if _, err := store.DecideHit(ctx, hit.ID, huella.HitConfirmed, "same irises"); err != nil {
		t.Fatal(err)
	}
	merged := candidates("merged")
	if len(merged) != 1 || !slices.Contains(both, merged[0]) {
		t.Fatalf("node B after the merge finds %v, want one of %v", merged, both)
	}
	from := second.SubjectID
	if merged[0] == from {
		from = first.SubjectID
	}
	if err := store.UnmergeSubject(ctx, from); err != nil {
		t.Fatal(err)
	}
	if got := candidates("unmerged"); !slices.Equal(got, both) {
		t.Fatalf("node B after the unmerge finds %v, want %v", got, both)
	}
	if _, err := store.PurgeSubject(ctx, first.SubjectID, huella.PurgeCourtOrder); err != nil {
		t.Fatal(err)
	}
	if got := candidates("purged"); !slices.Equal(got, []string{second.SubjectID}) {
		t.Fatalf("node B after the purge finds %v, want only %s", got, second.SubjectID)
	}
	head, err := store.GalleryEventHead(ctx)
	if err != nil || applier.Applied() != head {
		t.Errorf("node B applied up to %d, the store's head is %d (%v)", applier.Applied(), head, err)
	}
	// An event past a gap is refused and changes nothing.
	if err := applier.Apply(context.Background(), &huella.GalleryEvent{Seq: head + 2, Op: huella.GalleryPurge,
		Subjects: []string{second.SubjectID}}); err == nil || nodeB.Subjects.Len() != 1 {
		t.Errorf("an event after a gap: %v, %d subjects left; want ErrEventGap and 1", err, nodeB.Subjects.Len())
	}
}
