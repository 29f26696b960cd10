package huella_test

import (
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

func pendingHit(kind huella.HitKind) *huella.Hit {
	h := &huella.Hit{ID: "hit_1", Kind: kind, EncounterID: "enc_probe", SubjectID: "sub_probe", Site: "MX-TAP",
		State: huella.HitPending, Candidate: &huella.Candidate{LLR: 9.2}}
	if kind == huella.HitDuplicate {
		h.CandidateSubjectID = "sub_candidate"
	} else {
		h.WatchlistID, h.WatchEntryID, h.Category = "wl_1", "we_1", huella.CategoryWanted
	}
	return h
}

func TestHitDecide(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	t.Run("ConfirmDuplicate", func(t *testing.T) {
		h := pendingHit(huella.HitDuplicate)
		c, err := h.Decide("usr_a", huella.HitConfirmed, "mismo iris", now)
		if err != nil {
			t.Fatal(err)
		}
		// The new encounter goes to the partners that received the candidate.
		if c == nil || c.Kind != huella.TriggerDuplicate || c.SubjectID != "sub_candidate" || c.EncounterID != "enc_probe" || c.HitID != "hit_1" {
			t.Errorf("confirmation %+v", c)
		}
		if h.State != huella.HitConfirmed || h.Examiner != "usr_a" || h.Reason != "mismo iris" || !h.DecidedAt.Equal(now) {
			t.Errorf("hit after the decision: %+v", h)
		}
		if got := h.DecisionDetail(); got != "kind=duplicate state=confirmed" {
			t.Errorf("audit detail %q", got)
		}
	})
	t.Run("ConfirmWatchlist", func(t *testing.T) {
		h := pendingHit(huella.HitWatchlist)
		c, err := h.Decide("usr_a", huella.HitConfirmed, "coincide", now)
		if err != nil {
			t.Fatal(err)
		}
		if c == nil || c.Kind != huella.TriggerHit || c.Category != string(huella.CategoryWanted) || c.SubjectID != "sub_probe" {
			t.Errorf("confirmation %+v", c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("the confirmation a decision returns is invalid: %v", err)
		}
	})
	t.Run("RejectForwardsNothing", func(t *testing.T) {
		h := pendingHit(huella.HitWatchlist)
		c, err := h.Decide("usr_a", huella.HitRejected, "otra persona", now)
		if err != nil || c != nil || h.State != huella.HitRejected {
			t.Errorf("reject: %+v, %v; hit %s", c, err, h.State)
		}
	})
	t.Run("ErrDecided", func(t *testing.T) {
		h := pendingHit(huella.HitDuplicate)
		h.State = huella.HitRejected
		if _, err := h.Decide("usr_a", huella.HitConfirmed, "x", now); huella.ErrorCode(err) != huella.ECONFLICT {
			t.Errorf("deciding a decided hit: %v, want ECONFLICT", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct {
			state  huella.HitState
			reason string
		}{{huella.HitConfirmed, ""}, {huella.HitWithdrawn, "x"}, {huella.HitPending, "x"}} {
			h := pendingHit(huella.HitDuplicate)
			if _, err := h.Decide("usr_a", tc.state, tc.reason, now); huella.ErrorCode(err) != huella.EINVALID || h.State != huella.HitPending {
				t.Errorf("decide %q %q: %v, hit %s; want EINVALID and the hit unchanged", tc.state, tc.reason, err, h.State)
			}
		}
	})
}

func TestHitTwoPersonRule(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	h := pendingHit(huella.HitDuplicate)
	if err := h.ConfirmFirst("usr_a", "mismo iris", now); err != nil {
		t.Fatal(err)
	}
	if h.State != huella.HitPending || h.FirstExaminer != "usr_a" || h.DecisionDetail() != "kind=duplicate state=first-confirmation" {
		t.Fatalf("after the first confirmation: %+v (%s)", h, h.DecisionDetail())
	}
	if err := h.ConfirmFirst("usr_b", "x", now); huella.ErrorCode(err) != huella.ECONFLICT {
		t.Errorf("a second first confirmation: %v, want ECONFLICT", err)
	}
	if _, err := h.Decide("usr_a", huella.HitConfirmed, "otra vez", now); huella.ErrorCode(err) != huella.EFORBIDDEN {
		t.Errorf("the first examiner confirms again: %v, want EFORBIDDEN", err)
	}
	if c, err := h.Decide("usr_b", huella.HitConfirmed, "confirmo", now); err != nil || c == nil || h.Examiner != "usr_b" {
		t.Errorf("the second examiner confirms: %+v, %v", c, err)
	}
	// The first examiner may still reject on another look.
	h = pendingHit(huella.HitDuplicate)
	h.ConfirmFirst("usr_a", "mismo iris", now)
	if _, err := h.Decide("usr_a", huella.HitRejected, "me equivoqué", now); err != nil {
		t.Errorf("the first examiner rejects: %v", err)
	}
}

func TestMergeTarget(t *testing.T) {
	for _, tc := range []struct {
		from, candidate, survivor, into string
		merge                           bool
	}{
		{"sub_a", "sub_b", "", "sub_b", true},
		{"sub_a", "sub_b", "sub_c", "sub_c", true}, // the candidate was merged: join its survivor
		{"sub_a", "sub_b", "sub_a", "sub_a", false},
		{"sub_a", "sub_a", "", "sub_a", false},
	} {
		into, merge := huella.MergeTarget(tc.from, tc.candidate, tc.survivor)
		if into != tc.into || merge != tc.merge {
			t.Errorf("MergeTarget(%s, %s, %q) = %s, %t; want %s, %t", tc.from, tc.candidate, tc.survivor, into, merge, tc.into, tc.merge)
		}
	}
}

func TestConvictionTrigger(t *testing.T) {
	e := &huella.Encounter{SiteCode: "MX-TAP"}
	if ev := e.ConvictionTrigger("sub_1", "enc_1"); ev != nil {
		t.Errorf("an encounter without a conviction triggers %+v", ev)
	}
	e.CriminalHistory.Status = huella.HistoryConviction
	ev := e.ConvictionTrigger("sub_1", "enc_1")
	if ev == nil || ev.Kind != huella.TriggerConviction || ev.SubjectID != "sub_1" || ev.EncounterID != "enc_1" || ev.Site != "MX-TAP" {
		t.Errorf("conviction trigger %+v", ev)
	}
}

func TestUserTakeAccess(t *testing.T) {
	u := &huella.User{ID: "usr_1", Name: "ana.ruiz", Role: huella.RoleOfficer, Sites: []string{"MX-TAP"}, Identity: "idp|ana",
		TokenHash: huella.HashToken("a token as stored"), TokenIssuedAt: time.Now(), TokenExpiresAt: time.Now().Add(90 * 24 * time.Hour)}
	if changed, err := u.TakeAccess(&huella.User{Role: huella.RoleOfficer, Sites: []string{"MX-TAP"}}); changed || err != nil {
		t.Errorf("the same access: changed %t, %v", changed, err)
	}
	claims := &huella.User{Role: huella.RoleExaminer, Sites: []string{"MX-TAP", "MX-CDMX"}}
	changed, err := u.TakeAccess(claims)
	if !changed || err != nil || u.Role != huella.RoleExaminer || len(u.Sites) != 2 {
		t.Fatalf("new role and sites: changed %t, %v; user %+v", changed, err, u)
	}
	claims.Sites[0] = "XX" // the user keeps its own copy
	if u.Sites[0] != "MX-TAP" || u.AccessDetail() != "role=examiner sites=MX-TAP,MX-CDMX" {
		t.Errorf("user after the claims changed: %+v (%s)", u, u.AccessDetail())
	}
	before := *u
	if _, err := u.TakeAccess(&huella.User{Role: huella.RoleOfficer}); huella.ErrorCode(err) != huella.EINVALID || u.Role != before.Role {
		t.Errorf("an officer without a site: %v, user %+v; want EINVALID and the user unchanged", err, u)
	}
}
