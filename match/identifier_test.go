package match_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
)

// irises returns the demo's first person's two irises at one capture,
// with their templates extracted by x.
func irises(tb testing.TB, x *match.Identifier, capture string, idPrefix string) []*huella.Sample {
	tb.Helper()
	samples, images, err := demo.Irises(capture)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range samples {
		s.ID = idPrefix + string(s.Eye)
	}
	if recapture := x.Extract(context.Background(), samples, images); len(recapture) > 0 {
		tb.Fatalf("the demo's irises ask for a recapture: %v", recapture)
	}
	return samples
}

// TestIdentifier: an enrolled person is found again from another capture
// of both irises and linked above the auto-link threshold; once purged,
// the same search finds no one and decides a new subject.
func TestIdentifier(t *testing.T) {
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
	x := match.NewIdentifier(store, []engine.Engine{engine.Iris{}}, cals)
	if _, _, err := x.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Ready(); err != nil {
		t.Fatalf("loaded identifier not ready: %v", err)
	}

	enrolled := &huella.Encounter{ID: "enc_first", SubjectID: "sub_first", Samples: irises(t, x, "01", "smp_first_")}
	if err := x.Enrolled(enrolled); err != nil {
		t.Fatal(err)
	}
	probe := match.Probe(irises(t, x, "02", "smp_probe_"))
	if len(probe) != 2 {
		t.Fatalf("probe of %d templates, want the two irises", len(probe))
	}
	id, err := x.Identify(ctx, probe)
	if err != nil {
		t.Fatal(err)
	}
	if id.Decision != huella.DecisionLinked || len(id.Candidates) == 0 || id.Candidates[0].SubjectID != "sub_first" {
		t.Fatalf("identification of the same person's second capture: %s, %+v; want linked to sub_first", id.Decision, id.Candidates)
	}
	if id.Candidates[0].LLR < fusion.LLRForFMR(match.DefaultAutoLinkFMR) {
		t.Errorf("linked below the auto-link threshold: LLR %.1f", id.Candidates[0].LLR)
	}

	x.Purged([]string{"sub_first"})
	id, err = x.Identify(ctx, probe)
	if err != nil {
		t.Fatal(err)
	}
	if id.Decision != huella.DecisionNewSubject || len(id.Candidates) != 0 {
		t.Fatalf("after the purge: %s, %+v; want a new subject and no candidate", id.Decision, id.Candidates)
	}
}
