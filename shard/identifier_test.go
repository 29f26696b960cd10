package shard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/shard"
)

// hitStore is the identity store of the tests: it records the hits
// created, and has nothing else (a call to anything else panics).
type hitStore struct {
	huella.IdentityStore
	mu   sync.Mutex
	hits []*huella.Hit
}

func (s *hitStore) CreateHits(ctx context.Context, hits []*huella.Hit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits = append(s.hits, hits...)
	return nil
}

// TestNeverASilentMiss: with both replicas of a shard stopped, the
// identifier's decisions on probes of that shard's subjects (and of the
// other's, above the auto-link threshold) are partial review, never
// new-subject nor linked; once a replica is back, the queued re-searches
// complete and raise the duplicate hits the partial searches missed.
func TestNeverASilentMiss(t *testing.T) {
	p := makePopulation(60, 10)
	url := MustNATS(t)
	prefix := uniquePrefix(t)
	p.startReplica(t, url, shard.Spec{0, 2}, prefix)
	down := []*replica{p.startReplica(t, url, shard.Spec{1, 2}, prefix), p.startReplica(t, url, shard.Spec{1, 2}, prefix)}
	c := newClient(t, url, 2, prefix)
	c.Deadline = time.Minute
	cals, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	store := &hitStore{}
	x := match.NewIdentifier(store, []engine.Engine{engine.Finger{}, engine.Iris{}}, cals)
	x.Sharded = c
	partials := 0
	x.OnPartial = func() { partials++ }
	ctx := context.Background()
	// Complete: the mates are linked.
	for i, probe := range p.mates {
		id, err := x.Identify(ctx, probe)
		if err != nil {
			t.Fatal(err)
		}
		if id.Partial || id.Decision != huella.DecisionLinked || id.Candidates[0].SubjectID != p.mateOf[i] {
			t.Fatalf("probe %d with every shard up: %s partial %v; want linked to its mate", i, id.Decision, id.Partial)
		}
	}
	for _, r := range down {
		r.kill()
	}
	c.Deadline = 300 * time.Millisecond
	researcher := &match.Researcher{Identifier: x}
	partialHits := map[string]bool{} // encounter and candidate of each hit the partial searches raised
	for i, probe := range p.mates {
		id, err := x.Identify(ctx, probe)
		if err != nil {
			t.Fatal(err)
		}
		if !id.Partial || id.Decision != huella.DecisionReview {
			t.Errorf("probe %d with shard 1/2 down: %s partial %v; want partial review", i, id.Decision, id.Partial)
		}
		e := &huella.Encounter{ID: "enc_" + p.mateOf[i], SubjectID: "sub_probe_" + p.mateOf[i], Identification: id}
		for _, h := range id.Hits {
			partialHits[e.ID+" "+h.CandidateSubjectID] = true
		}
		for _, tpl := range probe {
			e.Samples = append(e.Samples, &huella.Sample{Template: tpl})
		}
		researcher.Add(e)
	}
	if partials != len(p.mates) {
		t.Errorf("OnPartial told of %d searches, want %d", partials, len(p.mates))
	}
	if n, err := researcher.Run(ctx); err != nil || n != 0 || researcher.Pending() != len(p.mates) {
		t.Fatalf("re-search with the shard still down: %d done, %d pending, %v; want none done", n, researcher.Pending(), err)
	}
	p.startReplica(t, url, shard.Spec{1, 2}, prefix)
	c.Deadline = time.Minute
	if n, err := researcher.Run(ctx); err != nil || n != len(p.mates) || researcher.Pending() != 0 {
		t.Fatalf("re-search with the shard back: %d done, %d pending, %v", n, researcher.Pending(), err)
	}
	// Every mate has its duplicate hit: from the partial search (a mate
	// on shard 0, when shard 0 answered in time) or else from the
	// re-search, never from both.
	raised := map[string]bool{}
	for _, h := range store.hits {
		key := h.EncounterID + " " + h.CandidateSubjectID
		if partialHits[key] {
			t.Errorf("the re-search raised again the hit %s the partial search had", key)
		}
		raised[key] = true
	}
	onShard1 := 0
	for _, id := range p.mateOf {
		key := "enc_" + id + " " + id
		if !raised[key] && !partialHits[key] {
			t.Errorf("no hit on %s", id)
		}
		if shard.Of(id, 2) == 1 {
			onShard1++
			if partialHits[key] {
				t.Errorf("the partial search raised a hit on %s, whose shard was down", id)
			}
		}
	}
	if onShard1 == 0 {
		t.Error("no mate on the shard that was down: the test tests nothing")
	}
}
