package postgres_test

import (
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// TestBackfillNameSearch checks the Go step of migration 6: encounters
// stored before the name index existed are found by name and document
// once it has run.
func TestBackfillNameSearch(t *testing.T) {
	t.Parallel()
	s := MustOpenPlain(t) // a database from before migration 6 is from before encryption at rest
	storetest.MustCreateSite(t, s, "MX-TAP")
	e := storetest.Encounter("MX-TAP", storetest.Date(2026, 1, 10, 10))
	e.Biographics.Names = []huella.Name{{Given: "Óscar", Family: "Núñez"}}
	e.Biographics.Documents = []huella.Document{{Type: "passport", Number: "P-000 123"}}
	storetest.MustCreateEncounter(t, s, e)

	ctx := storetest.Context()
	count := func(f huella.EncounterFilter) int {
		t.Helper()
		list, err := s.ListEncounters(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	byName, byDocument := huella.EncounterFilter{Name: "oscar nunez"}, huella.EncounterFilter{Document: "P000123"}
	// Undo the index, as on a database from before migration 6.
	if err := s.ExecForTest(ctx, `DELETE FROM encounter_name_words; DELETE FROM encounter_documents`); err != nil {
		t.Fatal(err)
	}
	if n, d := count(byName), count(byDocument); n != 0 || d != 0 {
		t.Fatalf("before the backfill: found %d by name, %d by document; want 0, 0", n, d)
	}
	if err := s.BackfillNameSearch(ctx); err != nil {
		t.Fatalf("BackfillNameSearch: %v", err)
	}
	if n, d := count(byName), count(byDocument); n != 1 || d != 1 {
		t.Fatalf("after the backfill: found %d by name, %d by document; want 1, 1", n, d)
	}
}
