package match_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
)

// fakeShards is a match.ShardedSearch over one gallery, that can be told
// to answer partially (a shard down).
type fakeShards struct {
	g       *gallery.Gallery
	partial bool // Search misses a shard
	down    bool // Verify's shard does not answer
	added   int
	removed []string
}

func (f *fakeShards) Search(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, bool, error) {
	if f.partial {
		return nil, false, nil // the down shard held the mate
	}
	c, err := f.g.Identify(ctx, probe, k, minLLR)
	return c, true, err
}

func (f *fakeShards) Verify(ctx context.Context, probe []*huella.Template, id string) (*huella.Candidate, error) {
	if f.down {
		return nil, huella.Errorf(huella.EUNAVAILABLE, "shard down")
	}
	return f.g.Verify(ctx, probe, id)
}

func (f *fakeShards) Add(ctx context.Context, ts []*huella.Template) error {
	f.added += len(ts)
	for _, t := range ts {
		if err := f.g.Add(t); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeShards) Remove(ctx context.Context, ids []string) error {
	f.removed = append(f.removed, ids...)
	return nil
}

// TestShardedPartial: an identifier on shards links a mate when they all
// answer; when one does not, the decision is a partial review (never
// new-subject, never linked, a claim not linked either), and the callers
// that cannot mark a result partial get EUNAVAILABLE.
func TestShardedPartial(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cals, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	engines := []engine.Engine{engine.Iris{}}
	x := match.NewIdentifier(store, engines, cals)
	shards := &fakeShards{g: gallery.New(engines, cals)}
	x.Sharded = shards
	partials := 0
	x.OnPartial = func() { partials++ }
	if _, _, err := x.Load(ctx); err != nil {
		t.Fatal(err)
	}
	enrolled := &huella.Encounter{ID: "enc_first", SubjectID: "sub_first", Samples: irises(t, x, "01", "smp_first_")}
	if err := x.Enrolled(enrolled); err != nil {
		t.Fatal(err)
	}
	if shards.added != 2 || x.Subjects.Len() != 0 {
		t.Errorf("Enrolled: %d templates to the shards, %d subjects in the process; want 2 and 0", shards.added, x.Subjects.Len())
	}
	probe := match.Probe(irises(t, x, "02", "smp_probe_"))
	id, err := x.Identify(ctx, probe)
	if err != nil || id.Decision != huella.DecisionLinked || id.Partial {
		t.Fatalf("every shard up: %+v, %v; want linked", id, err)
	}

	shards.partial = true
	id, err = x.Identify(ctx, probe)
	if err != nil {
		t.Fatal(err)
	}
	if id.Decision != huella.DecisionReview || !id.Partial {
		t.Errorf("a shard down: decision %s partial %v; want partial review", id.Decision, id.Partial)
	}
	if partials != 1 {
		t.Errorf("OnPartial told %d times, want 1", partials)
	}
	if _, err := x.SearchSubjects(ctx, probe, 5, 0); huella.ErrorCode(err) != huella.EUNAVAILABLE {
		t.Errorf("SearchSubjects with a shard down: %v, want EUNAVAILABLE", err)
	}
	if id, err := x.Claim(ctx, probe, "sub_first"); err != nil || id.Decision != huella.DecisionReview || !id.Partial {
		t.Errorf("a claim that holds, searched partially: %v, %v; want partial review", id, err)
	}
	shards.down = true
	if _, err := x.Claim(ctx, probe, "sub_first"); err == nil {
		t.Error("a claim verified on a shard that is down: want an error")
	}
	x.Purged([]string{"sub_first"})
	if len(shards.removed) != 1 {
		t.Errorf("Purged told the shards of %v", shards.removed)
	}
}
