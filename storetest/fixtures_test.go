package storetest_test

import (
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// The suite's fixtures must be valid records, or every store would fail it
// for the wrong reason.
func TestFixtures(t *testing.T) {
	now := time.Now()
	at := storetest.Date(2026, 1, 10, 10)
	t.Run("Site", func(t *testing.T) {
		if err := storetest.Site("MX-TAP").Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("User", func(t *testing.T) {
		// The stores issue the fixture's token at CreateUser.
		u := storetest.User("maria.lopez", huella.RoleOfficer, "token", "MX-TAP")
		u.IssueToken(u.TokenHash, now, huella.DefaultTokenLifetime)
		if err := u.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("Encounter", func(t *testing.T) {
		e := storetest.Encounter("MX-TAP", at)
		if err := e.Validate(now); err != nil {
			t.Errorf("Validate: %v", err)
		}
		if got, want := len(e.Samples), 13; got != want {
			t.Errorf("got %d samples, want %d", got, want)
		}
	})
	t.Run("RichEncounter", func(t *testing.T) {
		e := storetest.RichEncounter("MX-TAP", at)
		if err := e.Validate(now); err != nil {
			t.Errorf("Validate: %v", err)
		}
		if e.CapturedAt.Location() == time.UTC || e.CapturedAt.Nanosecond()%1000 == 0 {
			t.Errorf("CapturedAt = %v, want nanoseconds outside UTC to test normalisation", e.CapturedAt)
		}
	})
	t.Run("EncounterWithout", func(t *testing.T) {
		e := storetest.EncounterWithout("MX-TAP", at, huella.FingerAbsence{Position: 4, Reason: huella.AbsenceAmputated})
		if err := e.Validate(now); err != nil {
			t.Errorf("Validate: %v", err)
		}
		if got, want := len(e.Samples), 12; got != want {
			t.Errorf("got %d samples, want %d", got, want)
		}
	})
	t.Run("ImageRefsDiffer", func(t *testing.T) {
		a, b := storetest.Encounter("MX-TAP", at), storetest.Encounter("MX-TAP", at.Add(time.Minute))
		if a.Samples[0].ImageRef == b.Samples[0].ImageRef {
			t.Errorf("two encounters share image reference %s", a.Samples[0].ImageRef)
		}
	})
}
