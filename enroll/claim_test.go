package enroll_test

import (
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/storetest"
)

// TestClaim enrolls encounters that name the subject they belong to: the
// claim links only when the biometrics verify it.
func TestClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	s, store := mustService(t)
	storetest.MustCreateSite(t, store, "MX-TAP")
	ctx := officerContext()
	claimed, err := s.Enroll(ctx, irisRequest(irises(t, "01")))
	if err != nil {
		t.Fatal(err)
	}
	claim := func(samples []*huella.Sample, images [][]byte) *enroll.Request {
		req := irisRequest(samples, images)
		req.Encounter.SubjectID = claimed.SubjectID
		return req
	}
	t.Run("Verified", func(t *testing.T) {
		e, err := s.Enroll(ctx, claim(irises(t, "02")))
		if err != nil {
			t.Fatal(err)
		}
		id := e.Identification
		if e.SubjectID != claimed.SubjectID || id.Decision != huella.DecisionLinked || len(id.Candidates) == 0 {
			t.Fatalf("the same irises: subject %s, %+v; want linked to %s", e.SubjectID, id, claimed.SubjectID)
		}
		if c := id.Candidates[0]; c.SubjectID != claimed.SubjectID || c.FMR > 1e-6 || len(c.Scores) != 2 {
			t.Errorf("link evidence %+v: want the claimed subject at FMR <= 1e-6 from both irises", c)
		}
	})
	t.Run("OtherPerson", func(t *testing.T) {
		e, err := s.Enroll(ctx, claim(otherPersonIrises(t)))
		if err != nil {
			t.Fatal(err)
		}
		id := e.Identification
		if e.SubjectID == claimed.SubjectID || id.Decision != huella.DecisionReview || len(id.Hits) != 1 {
			t.Fatalf("another person's irises: subject %s, %+v; want a new subject and one hit", e.SubjectID, id)
		}
		h := id.Hits[0]
		if h.Kind != huella.HitDuplicate || h.State != huella.HitPending || h.CandidateSubjectID != claimed.SubjectID ||
			h.Candidate == nil || len(h.Candidate.Scores) != 2 {
			t.Errorf("hit %+v: want a pending duplicate on the claimed subject with both irises compared (the officer may read it)", h)
		}
		sub, err := store.FindSubject(ctx, claimed.SubjectID)
		if err != nil || len(sub.Encounters) != 2 {
			t.Errorf("the claimed subject has %d encounters (%v), want its own and the verified one", len(sub.Encounters), err)
		}
	})
	t.Run("ErrWithoutSearch", func(t *testing.T) {
		plain := *s
		plain.Identifier = nil
		before, err := store.EncounterStats(ctx, huella.EncounterFilter{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = plain.Enroll(ctx, claim(irises(t, "02")))
		if huella.ErrorCode(err) != huella.EUNSUPPORTED {
			t.Fatalf("claim without biometric search: %v, want EUNSUPPORTED", err)
		}
		if after, _ := store.EncounterStats(ctx, huella.EncounterFilter{}); after.Total != before.Total {
			t.Errorf("encounters: %d -> %d, want none stored", before.Total, after.Total)
		}
	})
}
