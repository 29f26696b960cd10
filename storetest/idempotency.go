package storetest

import (
	"testing"

	"github.com/huella-abis/huella"
)

// testIdempotency holds stores to the idempotency keys of encounters: kept
// in the encounter's transaction, unique per officer, found again by
// officer and key.
func testIdempotency(t *testing.T, newStore NewStore) {
	key := func(k, digest string) *huella.Idempotency { return &huella.Idempotency{Key: k, Digest: digest} }
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		in := Encounter("MX-TAP", Date(2026, 5, 1, 8))
		in.Idempotency = key("retry-1", ImageRef("request 1"))
		MustCreateEncounter(t, s, in)
		got, err := s.FindEncounterByIdempotencyKey(ctx, in.Officer, "retry-1")
		if err != nil {
			t.Fatalf("FindEncounterByIdempotencyKey: %v", err)
		}
		equal(t, "FindEncounterByIdempotencyKey", got, in)
		plain, err := s.FindEncounter(ctx, in.ID)
		if err != nil {
			t.Fatalf("FindEncounter: %v", err)
		}
		if plain.Idempotency != nil {
			t.Errorf("FindEncounter: Idempotency = %+v, want nil", plain.Idempotency)
		}
	})
	t.Run("PerOfficer", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		first := Encounter("MX-TAP", Date(2026, 5, 1, 8))
		first.Idempotency = key("same-key", ImageRef("a"))
		MustCreateEncounter(t, s, first)
		other := Encounter("MX-TAP", Date(2026, 5, 1, 9))
		other.Officer = "usr_00000000000000000000000OF2"
		if _, err := s.FindEncounterByIdempotencyKey(ctx, other.Officer, "same-key"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("another officer's key: %v, want ENOTFOUND", err)
		}
		other.Idempotency = key("same-key", ImageRef("b"))
		MustCreateEncounter(t, s, other)
		got, err := s.FindEncounterByIdempotencyKey(ctx, other.Officer, "same-key")
		if err != nil || got.ID != other.ID || got.Idempotency.Digest != ImageRef("b") {
			t.Fatalf("FindEncounterByIdempotencyKey: %+v, %v; want %s", got, err, other.ID)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		first := Encounter("MX-TAP", Date(2026, 5, 1, 8))
		first.Idempotency = key("retry-1", ImageRef("a"))
		MustCreateEncounter(t, s, first)
		before := countRecords(t, s)
		again := Encounter("MX-TAP", Date(2026, 5, 1, 8))
		again.Idempotency = key("retry-1", ImageRef("a"))
		checkCode(t, s.CreateEncounter(ctx, again), huella.ECONFLICT)
		equal(t, "records", countRecords(t, s), before)
		if again.ID != "" {
			t.Errorf("a refused encounter got ID %s", again.ID)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 1, 8))) // without a key
		_, err := s.FindEncounterByIdempotencyKey(Context(), "usr_00000000000000000000000OFF", "")
		checkCode(t, err, huella.ENOTFOUND)
		_, err = s.FindEncounterByIdempotencyKey(Context(), "usr_00000000000000000000000OFF", "never-used")
		checkCode(t, err, huella.ENOTFOUND)
	})
}
