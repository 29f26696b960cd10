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
	huella.IdentityStore
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
	t.Run("UpdateCentral", func(t *testing.T) {
		// At a site: the center's later word on an encounter replaces the
		// first, audited once per change.
		s := newStore(t)
		s.KeepSiteOutbox()
		MustCreateSite(t, s, "MX-TIJ")
		e := Encounter("MX-TIJ", at)
		if err := s.CreateEncounter(ctx, e); err != nil {
			t.Fatal(err)
		}
		review := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionReview,
			SubjectID: "sub_a", EncounterID: "enc_center", Hits: 1}
		if err := s.SetCentral(ctx, e.ID, review); err != nil {
			t.Fatal(err)
		}
		linked := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionLinked,
			SubjectID: "sub_b", EncounterID: "enc_center"}
		if err := s.UpdateCentral(ctx, e.ID, linked); err != nil {
			t.Fatal(err)
		}
		checkLastEvent(t, s, huella.ActionEncounterCentral, "encounter/"+e.ID, "MX-TIJ")
		before := len(auditEvents(t, s))
		if err := s.UpdateCentral(ctx, e.ID, linked); err != nil {
			t.Fatal(err)
		}
		if after := len(auditEvents(t, s)); after != before {
			t.Errorf("the same identification again wrote %d audit events, want none", after-before)
		}
		got, err := s.FindEncounter(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c := got.Central; c == nil || c.Decision != huella.DecisionLinked || c.SubjectID != "sub_b" || c.Hits != 0 {
			t.Errorf("updated: central %+v, want linked to sub_b, no hits", c)
		}
		checkCode(t, s.UpdateCentral(ctx, "enc_nowhere", linked), huella.ENOTFOUND)
		checkCode(t, s.UpdateCentral(ctx, e.ID, &huella.CentralIdentification{State: huella.CentralPending}), huella.EINVALID)
	})
	t.Run("CentralDownstream", func(t *testing.T) {
		// At the center: a hit raised later on a site's encounter, an
		// examiner's decision on it and the merge it makes each tell the
		// site to read the center's identification again; the same done
		// to an encounter of the center's own officer tells no site.
		s := newStore(t)
		MustCreateSite(t, s, "MX-TIJ")
		siteUser := User("site-mx-tij", huella.RoleOfficer, "t1", "MX-TIJ")
		if err := s.CreateUser(ctx, siteUser); err != nil {
			t.Fatal(err)
		}
		fromSite := Encounter("MX-TIJ", at)
		fromSite.Officer = siteUser.ID
		fromSite.Idempotency = &huella.Idempotency{Key: "site:enc_at_site", Digest: "d"}
		here := Encounter("MX-TIJ", at.Add(time.Minute))
		for _, e := range []*huella.Encounter{fromSite, here} {
			if err := s.CreateEncounter(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		hit := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: fromSite.ID, CandidateSubjectID: here.SubjectID,
			Candidate: &huella.Candidate{SubjectID: here.SubjectID, LLR: 10}}
		other := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: here.ID, CandidateSubjectID: fromSite.SubjectID,
			Candidate: &huella.Candidate{SubjectID: fromSite.SubjectID, LLR: 10}}
		if err := s.CreateHits(ctx, []*huella.Hit{hit, other}); err != nil {
			t.Fatal(err)
		}
		items, err := s.SiteDownstream(ctx, "MX-TIJ", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Kind != huella.DownstreamCentral || items[0].EncounterID != "enc_at_site" {
			t.Fatalf("after the hits: %+v, want one central item for enc_at_site", items)
		}
		if _, err := s.DecideHit(ctx, hit.ID, huella.HitConfirmed, "same person"); err != nil {
			t.Fatal(err)
		}
		items, err = s.SiteDownstream(ctx, "MX-TIJ", items[0].Seq, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			t.Fatal("the decision and its merge told the site nothing")
		}
		for _, it := range items {
			if it.Kind != huella.DownstreamCentral || it.EncounterID != "enc_at_site" {
				t.Errorf("after the decision: %+v, want central items for enc_at_site only", it)
			}
		}
		if err := s.UnmergeSubject(ctx, fromSite.SubjectID); err != nil {
			t.Fatal(err)
		}
		if after, _ := s.SiteDownstream(ctx, "MX-TIJ", items[len(items)-1].Seq, 10); len(after) != 1 || after[0].EncounterID != "enc_at_site" {
			t.Errorf("after the unmerge: %+v, want one central item for enc_at_site", after)
		}
	})
	t.Run("WatchReplication", func(t *testing.T) {
		// The center's watchlist changes, in order, carry an entry's
		// reference and templates but no name and no image; a site stores
		// them under the center's IDs, once, searchable.
		center := newStore(t)
		MustCreateSite(t, center, "MX-TIJ")
		list := &huella.Watchlist{Name: "Wanted", Owner: "PROGRAM", Category: huella.CategoryWanted, ValidFrom: at}
		if err := center.CreateWatchlist(ctx, list); err != nil {
			t.Fatal(err)
		}
		entry := func(ref string) *huella.WatchEntry {
			e := Encounter("MX-TIJ", at)
			for i, smp := range e.Samples[:2] {
				smp.Template = Template(smp, ref+string(rune('a'+i)))
			}
			return &huella.WatchEntry{WatchlistID: list.ID, Reference: ref, Samples: e.Samples[:2],
				Biographics: huella.Biographics{Names: []huella.Name{{Family: "Doe"}}, Sex: huella.SexUnknown}}
		}
		kept, gone, later := entry("CASE-1"), entry("CASE-2"), entry("CASE-3")
		for _, e := range []*huella.WatchEntry{kept, gone, later} {
			if err := center.CreateWatchEntry(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := center.RemoveWatchEntry(ctx, gone.ID, "withdrawn"); err != nil {
			t.Fatal(err)
		}
		changes, err := center.WatchChanges(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 3 || changes[0].EntryID != kept.ID || changes[1].EntryID != later.ID || changes[2].EntryID != gone.ID ||
			changes[2].Op != huella.GalleryWatchRemove || changes[0].Seq >= changes[1].Seq || changes[1].Seq >= changes[2].Seq {
			t.Fatalf("changes: %+v; want the two kept entries added and the removal, in order", changes)
		}
		add := changes[0]
		if add.Op != huella.GalleryWatchAdd || add.Watchlist == nil || add.Watchlist.ID != list.ID || add.Entry == nil ||
			add.Entry.Reference != "CASE-1" || len(add.Entry.Biographics.Names) != 0 || len(add.Entry.Samples) != 2 {
			t.Fatalf("addition: %+v", add)
		}
		for i, smp := range add.Entry.Samples {
			if smp.ImageRef != "" || smp.Template == nil || string(smp.Template.Data) != string(kept.Samples[i].Template.Data) {
				t.Errorf("samples[%d]: image %q, template %+v; want no image, the template", i, smp.ImageRef, smp.Template)
			}
		}
		if rest, _ := center.WatchChanges(ctx, changes[2].Seq, 10); len(rest) != 0 {
			t.Errorf("after the last: %+v", rest)
		}
		_, err = center.WatchChanges(ctx, 0, 0)
		checkCode(t, err, huella.EINVALID)

		site := newStore(t)
		for range 2 { // again: nothing more
			if err := site.ReplicateWatchEntry(ctx, add.Watchlist, add.Entry); err != nil {
				t.Fatal(err)
			}
		}
		got, err := site.FindWatchEntry(ctx, kept.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Reference != "CASE-1" || got.WatchlistID != list.ID || len(got.Samples) != 2 || got.Samples[0].ID != kept.Samples[0].ID {
			t.Errorf("the site's copy: %+v", got)
		}
		if n := countTemplates(t, site, huella.GalleryWatchlists); n[kept.ID] != 2 || len(n) != 1 {
			t.Errorf("the site's watchlist gallery: %v, want 2 templates of %s", n, kept.ID)
		}
		bad := *add.Entry
		bad.ID = "wle_other"
		bad.Samples = []*huella.Sample{{ID: "wsm_x", Modality: huella.ModalityIris}}
		checkCode(t, site.ReplicateWatchEntry(ctx, add.Watchlist, &bad), huella.EINVALID)
		if seq, err := site.WatchCursor(ctx); err != nil || seq != 0 {
			t.Errorf("cursor %d (%v), want 0", seq, err)
		}
		if err := site.SetWatchCursor(ctx, add.Seq); err != nil {
			t.Fatal(err)
		}
		if seq, _ := site.WatchCursor(ctx); seq != add.Seq {
			t.Errorf("cursor %d, want %d", seq, add.Seq)
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
