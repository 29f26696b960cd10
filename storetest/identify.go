package storetest

import (
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// IdentityStore is a store that keeps identification records too.
type IdentityStore interface {
	huella.Store
	huella.IdentityStore
}

// NewIdentityStore returns a fresh, empty identity store for one subtest.
type NewIdentityStore func(t *testing.T) IdentityStore

// RunIdentity runs the IdentityStore contract suite, one subtest per
// behaviour, each on a store of its own.
func RunIdentity(t *testing.T, newStore NewIdentityStore) {
	t.Run("EnrollmentRecords", func(t *testing.T) { testEnrollmentRecords(t, newStore(t)) })
	t.Run("Watchlists", func(t *testing.T) { testWatchlists(t, newStore(t)) })
	t.Run("Hits", func(t *testing.T) { testHits(t, newStore(t)) })
	t.Run("TwoPersonRule", func(t *testing.T) { testTwoPersonRule(t, newStore(t)) })
	t.Run("RemoveWatchEntry", func(t *testing.T) { testRemoveWatchEntry(t, newStore(t)) })
}

func testTwoPersonRule(t *testing.T, s IdentityStore) {
	MustCreateSite(t, s, "MX-TAP")
	first := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 1, 9), ""))
	second := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), first.SubjectID))
	hit := second.Identification.Hits[0]
	ana := huella.NewContextWithActor(Context(), &huella.User{ID: "usr_ANA", Role: huella.RoleExaminer, Sites: []string{"MX-TAP"}})
	luis := huella.NewContextWithActor(Context(), &huella.User{ID: "usr_LUIS", Role: huella.RoleExaminer, Sites: []string{"MX-TAP"}})
	t.Run("ErrNoReason", func(t *testing.T) {
		_, err := s.RecordFirstConfirmation(ana, hit.ID, "")
		checkCode(t, err, huella.EINVALID)
	})
	got, err := s.RecordFirstConfirmation(ana, hit.ID, "ten points on the right index")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != huella.HitPending || got.FirstExaminer != "usr_ANA" || got.FirstConfirmedAt.IsZero() {
		t.Fatalf("after the first confirmation: %+v", got)
	}
	stored, err := s.FindHit(Context(), hit.ID)
	if err != nil || stored.FirstExaminer != "usr_ANA" || stored.FirstReason != "ten points on the right index" {
		t.Fatalf("stored hit %+v, %v", stored, err)
	}
	t.Run("ErrSecondFirst", func(t *testing.T) {
		_, err := s.RecordFirstConfirmation(luis, hit.ID, "agree")
		checkCode(t, err, huella.ECONFLICT)
	})
	t.Run("ErrSameExaminerConfirms", func(t *testing.T) {
		_, err := s.DecideHit(ana, hit.ID, huella.HitConfirmed, "still agree")
		checkCode(t, err, huella.EFORBIDDEN)
	})
	decided, err := s.DecideHit(luis, hit.ID, huella.HitConfirmed, "agree: same core and delta")
	if err != nil {
		t.Fatal(err)
	}
	if decided.State != huella.HitConfirmed || decided.Examiner != "usr_LUIS" || decided.FirstExaminer != "usr_ANA" {
		t.Errorf("decided hit = %+v", decided)
	}
}

// Template returns a template of the sample's slot with distinct bytes.
func Template(s *huella.Sample, seed string) *huella.Template {
	return &huella.Template{Modality: s.Modality, Position: s.Position, Eye: s.Eye, Algorithm: "test", Version: 1,
		Quality: 60, Data: []byte("template " + seed)}
}

// identified returns an encounter whose samples have templates and whose
// identification raised a duplicate hit against candidate (if not "").
func identified(site string, at time.Time, candidate string) *huella.Encounter {
	e := Encounter(site, at)
	for i, s := range e.Samples {
		s.Template = Template(s, at.String()+string(rune('a'+i)))
	}
	e.Identification = &huella.Identification{Decision: huella.DecisionNewSubject, Recapture: []string{"samples[12]: no face"}}
	if candidate != "" {
		c := &huella.Candidate{SubjectID: candidate, LLR: 9.5, FMR: 7.5e-5,
			Scores: []huella.ModalityScore{{Modality: huella.ModalityFinger, Position: 2, Score: 0.4, LLR: 9.5}}}
		e.Identification.Decision = huella.DecisionReview
		e.Identification.Candidates = []*huella.Candidate{c}
		e.Identification.Hits = []*huella.Hit{{Kind: huella.HitDuplicate, CandidateSubjectID: candidate, Candidate: c}}
	}
	return e
}

func countTemplates(tb testing.TB, s IdentityStore, kind huella.GalleryKind) map[string]int {
	tb.Helper()
	bySubject := map[string]int{}
	err := s.ForEachTemplate(Context(), kind, func(t *huella.Template) error {
		if t.SubjectID == "" || len(t.Data) == 0 || t.Algorithm != "test" {
			tb.Errorf("template %+v incomplete", t)
		}
		bySubject[t.SubjectID]++
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return bySubject
}

func testEnrollmentRecords(t *testing.T, s IdentityStore) {
	MustCreateSite(t, s, "MX-TAP")
	first := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 1, 9), ""))
	second := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), first.SubjectID))
	t.Run("IdentificationRoundTrip", func(t *testing.T) {
		got, err := s.FindEncounter(Context(), second.ID)
		if err != nil {
			t.Fatal(err)
		}
		id := got.Identification
		if id == nil || id.Decision != huella.DecisionReview || len(id.Candidates) != 1 || len(id.Recapture) != 1 {
			t.Fatalf("identification = %+v", id)
		}
		if len(id.Hits) != 1 {
			t.Fatalf("hits = %d, want 1", len(id.Hits))
		}
		h := id.Hits[0]
		if h.ID == "" || h.EncounterID != second.ID || h.SubjectID != second.SubjectID || h.Site != "MX-TAP" ||
			h.State != huella.HitPending || h.CandidateSubjectID != first.SubjectID || h.Candidate.LLR != 9.5 {
			t.Errorf("hit = %+v", h)
		}
		checkLastEvent(t, s, huella.ActionEncounterCreate, "encounter/"+second.ID, "MX-TAP")
	})
	t.Run("Templates", func(t *testing.T) {
		got := countTemplates(t, s, huella.GallerySubjects)
		if got[first.SubjectID] != 13 || got[second.SubjectID] != 13 || len(got) != 2 {
			t.Errorf("templates by subject = %v, want 13 for each of two subjects", got)
		}
	})
	t.Run("FindTemplates", func(t *testing.T) {
		want := map[string]*huella.Template{}
		var ids []string
		for _, smp := range []*huella.Sample{first.Samples[1], second.Samples[1], second.Samples[11]} {
			want[smp.ID] = smp.Template
			ids = append(ids, smp.ID)
		}
		got, err := s.FindTemplates(Context(), append(ids, "smp_nope"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d templates, want %d", len(got), len(want))
		}
		for _, g := range got {
			w := want[g.SampleID]
			if w == nil || g.Modality != w.Modality || g.Position != w.Position || g.Eye != w.Eye || g.Algorithm != w.Algorithm ||
				g.Version != w.Version || g.Quality != w.Quality || string(g.Data) != string(w.Data) || g.SubjectID != "" {
				t.Errorf("template %+v, want %+v", g, w)
			}
		}
		if got, err := s.FindTemplates(Context(), nil); err != nil || len(got) != 0 {
			t.Errorf("no IDs: %d templates, %v", len(got), err)
		}
		_, err = s.FindTemplates(Context(), make([]string, huella.MaxTemplateIDs+1))
		checkCode(t, err, huella.EINVALID)
	})
}

func testWatchlists(t *testing.T, s IdentityStore) {
	ctx := Context()
	now := time.Now()
	w := &huella.Watchlist{Name: "Wanted", Owner: "US-CBP", Category: huella.CategoryWanted, ValidFrom: now.Add(-time.Hour)}
	if err := s.CreateWatchlist(ctx, w); err != nil {
		t.Fatal(err)
	}
	expired := &huella.Watchlist{Name: "Old", Owner: "PROGRAM", Category: huella.CategoryGang,
		ValidFrom: now.Add(-48 * time.Hour), ValidUntil: now.Add(-24 * time.Hour)}
	if err := s.CreateWatchlist(ctx, expired); err != nil {
		t.Fatal(err)
	}
	checkLastEvent(t, s, huella.ActionWatchlistCreate, "watchlist/"+expired.ID, "")
	t.Run("ErrInvalid", func(t *testing.T) {
		checkCode(t, s.CreateWatchlist(ctx, &huella.Watchlist{Name: "x", Owner: "y", Category: "bad"}), huella.EINVALID)
	})
	t.Run("FindAndList", func(t *testing.T) {
		got, err := s.FindWatchlist(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "watchlist", got, w)
		list, err := s.ListWatchlists(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListWatchlists = %d, %v", len(list), err)
		}
		_, err = s.FindWatchlist(ctx, "wl_nope")
		checkCode(t, err, huella.ENOTFOUND)
	})
	entry := func(list string) *huella.WatchEntry {
		e := Encounter("MX-TAP", now)
		for i, smp := range e.Samples[:2] {
			smp.Template = Template(smp, list+string(rune('a'+i)))
		}
		return &huella.WatchEntry{WatchlistID: list, Reference: "CASE-1", Samples: e.Samples[:2],
			Biographics: huella.Biographics{Names: []huella.Name{{Family: "Doe"}}, Sex: huella.SexUnknown}}
	}
	active, old := entry(w.ID), entry(expired.ID)
	for _, e := range []*huella.WatchEntry{active, old} {
		if err := s.CreateWatchEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("EntryRoundTrip", func(t *testing.T) {
		got, err := s.FindWatchEntry(ctx, active.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Reference != "CASE-1" || len(got.Samples) != 2 || got.Samples[0].ID == "" || got.Biographics.Names[0].Family != "Doe" {
			t.Errorf("entry = %+v", got)
		}
	})
	t.Run("FindTemplatesOfEntries", func(t *testing.T) {
		got, err := s.FindTemplates(ctx, []string{active.Samples[0].ID, old.Samples[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d templates, want 2", len(got))
		}
		for _, g := range got {
			var w *huella.Template
			for _, smp := range append(active.Samples, old.Samples...) {
				if smp.ID == g.SampleID {
					w = smp.Template
				}
			}
			if w == nil || g.Modality != w.Modality || g.Position != w.Position || string(g.Data) != string(w.Data) || g.Algorithm != "test" {
				t.Errorf("template %+v, want %+v", g, w)
			}
		}
	})
	t.Run("OnlyActiveListsInGallery", func(t *testing.T) {
		got := countTemplates(t, s, huella.GalleryWatchlists)
		if got[active.ID] != 2 || len(got) != 1 {
			t.Errorf("watchlist templates = %v, want 2 of %s only", got, active.ID)
		}
	})
	t.Run("ErrNoBiometrics", func(t *testing.T) {
		e := entry(w.ID)
		e.Samples = nil
		checkCode(t, s.CreateWatchEntry(ctx, e), huella.EINVALID)
	})
	t.Run("ErrUnknownList", func(t *testing.T) {
		checkCode(t, s.CreateWatchEntry(ctx, entry("wl_nope")), huella.ENOTFOUND)
	})
}

func testHits(t *testing.T, s IdentityStore) {
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	MustCreateSite(t, s, "MX-CDMX")
	first := MustCreateEncounter(t, s, identified("MX-CDMX", Date(2026, 3, 1, 9), ""))
	second := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), first.SubjectID))
	hit := second.Identification.Hits[0]
	t.Run("List", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    huella.HitFilter
			want int
		}{
			{"Pending", huella.HitFilter{State: huella.HitPending}, 1},
			{"OwnSite", huella.HitFilter{Sites: []string{"MX-TAP"}}, 1},
			{"OtherSite", huella.HitFilter{Sites: []string{"MX-CDMX"}}, 0},
			{"Watchlist", huella.HitFilter{Kind: huella.HitWatchlist}, 0},
			{"ProbeSubject", huella.HitFilter{SubjectID: second.SubjectID}, 1},
			{"CandidateSubject", huella.HitFilter{SubjectID: first.SubjectID}, 1},
			{"SubjectAndState", huella.HitFilter{SubjectID: first.SubjectID, State: huella.HitRejected}, 0},
			{"OtherSubject", huella.HitFilter{SubjectID: "sub_nope"}, 0},
			{"AfterIt", huella.HitFilter{After: &huella.PageKey{At: hit.CreatedAt, ID: hit.ID}}, 0},
			{"AfterEarlier", huella.HitFilter{After: &huella.PageKey{At: hit.CreatedAt.Add(-time.Millisecond), ID: hit.ID}}, 1},
			{"AfterSameTimeSmallerID", huella.HitFilter{After: &huella.PageKey{At: hit.CreatedAt, ID: "hit_"}}, 1},
		} {
			got, err := s.ListHits(ctx, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d hits, %v; want %d", tc.name, len(got), err, tc.want)
			}
		}
	})
	t.Run("ErrNoReason", func(t *testing.T) {
		_, err := s.DecideHit(ctx, hit.ID, huella.HitConfirmed, "")
		checkCode(t, err, huella.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.DecideHit(ctx, "hit_nope", huella.HitConfirmed, "same ridges")
		checkCode(t, err, huella.ENOTFOUND)
	})
	t.Run("ConfirmDuplicateMerges", func(t *testing.T) {
		got, err := s.DecideHit(ctx, hit.ID, huella.HitConfirmed, "same person: 10 fingers agree")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != huella.HitConfirmed || got.Examiner != Admin.ID || got.DecidedAt.IsZero() {
			t.Errorf("decided hit = %+v", got)
		}
		sub, err := s.FindSubject(ctx, first.SubjectID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sub.Encounters) != 2 {
			t.Errorf("merged subject has %d encounters, want 2", len(sub.Encounters))
		}
		merged, _ := s.FindSubject(ctx, second.SubjectID)
		if merged.MergedInto != first.SubjectID {
			t.Errorf("MergedInto = %q, want %q", merged.MergedInto, first.SubjectID)
		}
		if got := countTemplates(t, s, huella.GallerySubjects); got[first.SubjectID] != 26 {
			t.Errorf("templates by subject after merge = %v, want 26 under the survivor", got)
		}
		checkLastEvent(t, s, huella.ActionSubjectMerge, "subject/"+second.SubjectID, "MX-TAP")
	})
	t.Run("ErrAlreadyDecided", func(t *testing.T) {
		_, err := s.DecideHit(ctx, hit.ID, huella.HitRejected, "changed my mind")
		checkCode(t, err, huella.ECONFLICT)
	})
	t.Run("Unmerge", func(t *testing.T) {
		if err := s.UnmergeSubject(ctx, second.SubjectID); err != nil {
			t.Fatal(err)
		}
		if got := countTemplates(t, s, huella.GallerySubjects); got[first.SubjectID] != 13 || got[second.SubjectID] != 13 {
			t.Errorf("templates by subject after unmerge = %v", got)
		}
		checkCode(t, s.UnmergeSubject(ctx, second.SubjectID), huella.ENOTFOUND)
	})
	t.Run("RetroSearchHits", func(t *testing.T) {
		c := &huella.Candidate{WatchEntryID: "wle_x", LLR: 12}
		hits := []*huella.Hit{{Kind: huella.HitWatchlist, EncounterID: first.ID, WatchlistID: "wl_x", WatchEntryID: "wle_x",
			Category: huella.CategoryWanted, Candidate: c}}
		if err := s.CreateHits(ctx, hits); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindHit(ctx, hits[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Site != "MX-CDMX" || got.SubjectID != first.SubjectID || got.State != huella.HitPending {
			t.Errorf("retro hit = %+v", got)
		}
		checkCode(t, s.CreateHits(ctx, []*huella.Hit{{Kind: huella.HitWatchlist, EncounterID: "enc_nope", Candidate: c}}), huella.EINVALID)
	})
	t.Run("ConfirmWatchlistHitForwards", func(t *testing.T) {
		hits, _ := s.ListHits(ctx, huella.HitFilter{Kind: huella.HitWatchlist, State: huella.HitPending})
		if len(hits) != 1 {
			t.Fatalf("%d pending watchlist hits", len(hits))
		}
		if _, err := s.DecideHit(ctx, hits[0].ID, huella.HitConfirmed, "face and fingers agree"); err != nil {
			t.Fatal(err)
		}
		events := auditEvents(t, s)
		if last := events[len(events)-1]; last.Action != huella.ActionConfirmationCreate {
			t.Errorf("last audit event %s, want the confirmation for forwarding", last.Action)
		}
	})
}

func testRemoveWatchEntry(t *testing.T, s IdentityStore) {
	ctx := Context()
	now := time.Now()
	MustCreateSite(t, s, "MX-TAP")
	w := &huella.Watchlist{Name: "Wanted", Owner: "US-CBP", Category: huella.CategoryWanted, ValidFrom: now.Add(-time.Hour)}
	if err := s.CreateWatchlist(ctx, w); err != nil {
		t.Fatal(err)
	}
	t.Run("EmptyList", func(t *testing.T) {
		list, err := s.ListWatchEntries(ctx, w.ID)
		if err != nil || list == nil || len(list) != 0 {
			t.Errorf("ListWatchEntries of an empty watchlist = %v, %v; want an empty list, not nil", list, err)
		}
		_, err = s.ListWatchEntries(ctx, "wl_nope")
		checkCode(t, err, huella.ENOTFOUND)
	})
	entry := func(reference string) *huella.WatchEntry {
		e := Encounter("MX-TAP", now)
		for i, smp := range e.Samples[:2] {
			smp.Template = Template(smp, reference+string(rune('a'+i)))
		}
		e2 := &huella.WatchEntry{WatchlistID: w.ID, Reference: reference, Samples: e.Samples[:2]}
		if err := s.CreateWatchEntry(ctx, e2); err != nil {
			t.Fatal(err)
		}
		return e2
	}
	quashed, kept := entry("CASE-QUASHED"), entry("CASE-KEPT")
	probe := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 1, 9), ""))
	hitOn := func(e *huella.WatchEntry) *huella.Hit {
		t.Helper()
		h := &huella.Hit{Kind: huella.HitWatchlist, EncounterID: probe.ID, WatchlistID: w.ID, WatchEntryID: e.ID,
			Category: huella.CategoryWanted, Candidate: &huella.Candidate{WatchEntryID: e.ID, LLR: 12}}
		if err := s.CreateHits(ctx, []*huella.Hit{h}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	pending, decided, other := hitOn(quashed), hitOn(quashed), hitOn(kept)
	if _, err := s.DecideHit(ctx, decided.ID, huella.HitRejected, "different people"); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrNoReason", func(t *testing.T) {
		before := countRecords(t, s)
		checkCode(t, s.RemoveWatchEntry(ctx, quashed.ID, ""), huella.EINVALID)
		equal(t, "records", countRecords(t, s), before)
		if got, err := s.FindWatchEntry(ctx, quashed.ID); err != nil || got.Removed() {
			t.Errorf("a refused removal removed the entry: %+v, %v", got, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		checkCode(t, s.RemoveWatchEntry(ctx, "wle_nope", "withdrawn"), huella.ENOTFOUND)
	})

	remover := Admin // the actor of Context
	if err := s.RemoveWatchEntry(ctx, quashed.ID, "conviction quashed on appeal"); err != nil {
		t.Fatal(err)
	}
	checkLastEvent(t, s, huella.ActionWatchEntryRemove, "watch_entry/"+quashed.ID, "")

	t.Run("KeptWithWhoWhenWhy", func(t *testing.T) {
		got, err := s.FindWatchEntry(ctx, quashed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Removed() || got.RemovedBy != remover.ID || got.RemovalReason != "conviction quashed on appeal" || len(got.Samples) != 2 {
			t.Errorf("removed entry = %+v", got)
		}
		checkStoredTime(t, "RemovedAt", got.RemovedAt)
		list, err := s.ListWatchEntries(ctx, w.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListWatchEntries = %d entries, %v; want both, the removed one included", len(list), err)
		}
		if list[0].ID != quashed.ID || !list[0].Removed() || list[0].RemovedBy != remover.ID || list[1].ID != kept.ID || list[1].Removed() {
			t.Errorf("entries = %+v, %+v; want the removed one first, marked, then the kept one", list[0], list[1])
		}
		if list[0].Samples != nil {
			t.Errorf("ListWatchEntries returned samples")
		}
	})
	t.Run("PageWatchEntries", func(t *testing.T) {
		all, _ := s.ListWatchEntries(ctx, w.ID)
		first, err := s.PageWatchEntries(ctx, w.ID, nil, 1)
		if err != nil || len(first) != 1 || first[0].ID != all[0].ID {
			t.Fatalf("first page = %d, %v; want the oldest entry", len(first), err)
		}
		next, err := s.PageWatchEntries(ctx, w.ID, &huella.PageKey{At: first[0].CreatedAt, ID: first[0].ID}, 0)
		if err != nil || len(next) != 1 || next[0].ID != all[1].ID {
			t.Errorf("page after the first = %d, %v; want the other entry", len(next), err)
		}
		if last, err := s.PageWatchEntries(ctx, w.ID, &huella.PageKey{At: all[1].CreatedAt, ID: all[1].ID}, 10); err != nil || last == nil || len(last) != 0 {
			t.Errorf("page after the last = %v, %v; want an empty list", last, err)
		}
		_, err = s.PageWatchEntries(ctx, "wl_nope", nil, 10)
		checkCode(t, err, huella.ENOTFOUND)
		_, err = s.PageWatchEntries(ctx, w.ID, nil, -1)
		checkCode(t, err, huella.EINVALID)
	})
	t.Run("LeavesTheGallery", func(t *testing.T) {
		got := countTemplates(t, s, huella.GalleryWatchlists)
		if got[kept.ID] != 2 || len(got) != 1 {
			t.Errorf("watchlist templates = %v, want 2 of %s only", got, kept.ID)
		}
	})
	t.Run("PendingHitsWithdrawn", func(t *testing.T) {
		got, err := s.FindHit(ctx, pending.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != huella.HitWithdrawn || got.Examiner != remover.ID || got.Reason != "conviction quashed on appeal" || got.DecidedAt.IsZero() {
			t.Errorf("pending hit after the removal = %+v, want withdrawn by the remover", got)
		}
		if got, _ := s.FindHit(ctx, decided.ID); got.State != huella.HitRejected || got.Reason != "different people" {
			t.Errorf("a decided hit was changed: %+v", got)
		}
		if got, _ := s.FindHit(ctx, other.ID); got.State != huella.HitPending {
			t.Errorf("another entry's hit was changed: %+v", got)
		}
		queue, err := s.ListHits(ctx, huella.HitFilter{State: huella.HitPending, Kind: huella.HitWatchlist})
		if err != nil || len(queue) != 1 || queue[0].ID != other.ID {
			t.Errorf("pending watchlist queue = %d hits, %v; want only %s", len(queue), err, other.ID)
		}
		_, err = s.DecideHit(ctx, pending.ID, huella.HitConfirmed, "same person")
		checkCode(t, err, huella.ECONFLICT)
		events := auditEvents(t, s)
		var withdrawn bool
		for _, e := range events {
			withdrawn = withdrawn || e.Action == huella.ActionHitDecide && e.Object == "hit/"+pending.ID && e.Site == "MX-TAP"
		}
		if !withdrawn {
			t.Errorf("the withdrawal of %s is not audited", pending.ID)
		}
	})
	t.Run("LaterHitWithdrawn", func(t *testing.T) {
		// A probe searched before the removal and stored after it.
		late := hitOn(quashed)
		if late.State != huella.HitWithdrawn {
			t.Errorf("new hit on a removed entry: state %s, want withdrawn", late.State)
		}
		if got, err := s.FindHit(ctx, late.ID); err != nil || got.State != huella.HitWithdrawn || got.Examiner != remover.ID {
			t.Errorf("stored hit on a removed entry = %+v, %v", got, err)
		}
	})
	t.Run("ErrAlreadyRemoved", func(t *testing.T) {
		before := countRecords(t, s)
		checkCode(t, s.RemoveWatchEntry(ctx, quashed.ID, "again"), huella.ECONFLICT)
		equal(t, "records", countRecords(t, s), before)
		if got, _ := s.FindWatchEntry(ctx, quashed.ID); got.RemovalReason != "conviction quashed on appeal" {
			t.Errorf("a second removal changed the first's reason to %q", got.RemovalReason)
		}
	})
}
