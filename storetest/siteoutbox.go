package storetest

import (
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// SiteOutboxingStore is a store that keeps a site node's outbox.
type SiteOutboxingStore interface {
	huella.Store
	huella.PurgeStore
	huella.SiteOutboxStore
}

// RunSiteOutbox runs the SiteOutboxStore contract: encounters created on a
// site node enter the outbox in their transaction and show pending; the
// center's answer is recorded once, audited, and leaves the outbox; a
// purge takes the encounter's outbox row with it; a store that is not a
// site's queues nothing.
func RunSiteOutbox(t *testing.T, newStore func(t *testing.T) SiteOutboxingStore) {
	ctx := Context()
	at := time.Now().Add(-time.Hour).UTC()
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		s.KeepSiteOutbox()
		MustCreateSite(t, s, "MX-TIJ")
		var ids []string
		for i := range 3 {
			e := Encounter("MX-TIJ", at.Add(time.Duration(i)*time.Minute))
			if err := s.CreateEncounter(ctx, e); err != nil {
				t.Fatal(err)
			}
			if e.Central == nil || e.Central.State != huella.CentralPending {
				t.Fatalf("created: central %+v, want pending", e.Central)
			}
			ids = append(ids, e.ID)
		}
		items, err := s.PendingUpstream(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 3 || items[0].EncounterID != ids[0] || items[2].EncounterID != ids[2] || items[0].Seq >= items[1].Seq {
			t.Fatalf("pending: got %+v, want the 3 encounters in order", items)
		}
		if after, _ := s.PendingUpstream(ctx, items[0].Seq, 10); len(after) != 2 {
			t.Errorf("pending after the first: %d, want 2", len(after))
		}
		if n, oldest, err := s.UpstreamBacklog(ctx); err != nil || n != 3 || oldest.IsZero() {
			t.Errorf("backlog: %d, %v, %v; want 3 and a time", n, oldest, err)
		}
		if err := s.FailedUpstream(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		c := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionLinked,
			SubjectID: "sub_center", EncounterID: "enc_center", Hits: 1}
		if err := s.SetCentral(ctx, ids[0], c); err != nil {
			t.Fatal(err)
		}
		checkLastEvent(t, s, huella.ActionEncounterCentral, "encounter/"+ids[0], "MX-TIJ")
		// Again: nothing changes, nothing is audited twice.
		if err := s.SetCentral(ctx, ids[0], &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionReview}); err != nil {
			t.Fatal(err)
		}
		e, err := s.FindEncounter(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Central; got == nil || got.State != huella.CentralIdentified || got.Decision != huella.DecisionLinked ||
			got.SubjectID != "sub_center" || got.EncounterID != "enc_center" || got.Hits != 1 || got.IdentifiedAt.IsZero() {
			t.Errorf("identified: central %+v", got)
		}
		if n, _, _ := s.UpstreamBacklog(ctx); n != 2 {
			t.Errorf("backlog after one answer: %d, want 2", n)
		}
		if err := s.SetCentral(ctx, "enc_nowhere", c); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("SetCentral of an unknown encounter: %v, want ENOTFOUND", err)
		}
		e, _ = s.FindEncounter(ctx, ids[1])
		if _, err := s.PurgeSubject(ctx, e.SubjectID, huella.PurgeEnrollmentError); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.UpstreamBacklog(ctx); n != 1 {
			t.Errorf("backlog after a purge: %d, want 1", n)
		}
	})
	t.Run("Downstream", func(t *testing.T) {
		// At the center: a purge of what a site's user enrolled under
		// "site:<ID>" asks that site to purge its copy; the same key used
		// by anyone else asks nothing.
		s := newStore(t)
		MustCreateSite(t, s, "MX-TIJ")
		siteUser := User("site-mx-tij", huella.RoleOfficer, "t1", "MX-TIJ")
		other := User("ana.officer", huella.RoleOfficer, "t2", "MX-TIJ")
		for _, u := range []*huella.User{siteUser, other} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		var subjects []string
		for i, u := range []*huella.User{siteUser, other} {
			e := Encounter("MX-TIJ", at.Add(time.Duration(i)*time.Minute))
			e.Officer = u.ID
			e.Idempotency = &huella.Idempotency{Key: "site:enc_at_site_" + u.Name, Digest: "d"}
			if err := s.CreateEncounter(ctx, e); err != nil {
				t.Fatal(err)
			}
			subjects = append(subjects, e.SubjectID)
		}
		for _, id := range subjects {
			if _, err := s.PurgeSubject(ctx, id, huella.PurgeCourtOrder); err != nil {
				t.Fatal(err)
			}
		}
		items, err := s.SiteDownstream(ctx, "MX-TIJ", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].EncounterID != "enc_at_site_site-mx-tij" || items[0].Kind != huella.DownstreamPurge ||
			items[0].Reason != huella.PurgeCourtOrder || items[0].Seq <= 0 {
			t.Fatalf("downstream: got %+v, want one purge of the site user's encounter", items)
		}
		if after, _ := s.SiteDownstream(ctx, "MX-TIJ", items[0].Seq, 10); len(after) != 0 {
			t.Errorf("after the last: %+v", after)
		}
		if other, _ := s.SiteDownstream(ctx, "MX-MXL", 0, 10); len(other) != 0 {
			t.Errorf("another site's: %+v", other)
		}
		if seq, err := s.DownstreamCursor(ctx); err != nil || seq != 0 {
			t.Errorf("cursor %d (%v), want 0", seq, err)
		}
		for _, seq := range []int64{5, 9} {
			if err := s.SetDownstreamCursor(ctx, seq); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.DownstreamCursor(ctx); got != seq {
				t.Errorf("cursor %d, want %d", got, seq)
			}
		}
	})
	t.Run("NotASite", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TIJ")
		e := Encounter("MX-TIJ", at)
		if err := s.CreateEncounter(ctx, e); err != nil {
			t.Fatal(err)
		}
		if n, _, err := s.UpstreamBacklog(ctx); err != nil || n != 0 || e.Central != nil {
			t.Errorf("a center's encounter: backlog %d (%v), central %+v; want none", n, err, e.Central)
		}
	})
}
