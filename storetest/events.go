package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// EventStore is a store that keeps the outbox of gallery events and the
// queue of partial searches beside its records.
type EventStore interface {
	PurgingStore
	huella.GalleryEventStore
	huella.ResearchQueue
}

// NewEventStore returns a fresh, empty store for one subtest.
type NewEventStore func(t *testing.T) EventStore

// RunGalleryEvents runs the GalleryEventStore and ResearchQueue contract
// suite, one subtest per behaviour, each on a store of its own.
func RunGalleryEvents(t *testing.T, newStore NewEventStore) {
	t.Run("EveryChangeInOrder", func(t *testing.T) { testGalleryEvents(t, newStore(t)) })
	t.Run("ConcurrentWritersNoGap", func(t *testing.T) { testGalleryEventsConcurrent(t, newStore(t)) })
	t.Run("ResearchQueue", func(t *testing.T) { testResearchQueue(t, newStore(t)) })
}

// sampleIDs returns the IDs of the samples with a template.
func sampleIDs(e *huella.Encounter) []string {
	var ids []string
	for _, s := range e.Samples {
		if s.Template != nil {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// subjectsOf returns the distinct SubjectIDs of the templates, sorted, and
// how many templates there are.
func subjectsOf(ts []*huella.Template) ([]string, int) {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.SubjectID) {
			out = append(out, t.SubjectID)
		}
	}
	slices.Sort(out)
	return out, len(ts)
}

func testGalleryEvents(t *testing.T, s EventStore) {
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	if head, err := s.GalleryEventHead(ctx); err != nil || head != 0 {
		t.Fatalf("head of an empty store = %d, %v; want 0", head, err)
	}
	plain := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 3, 1, 8))) // no templates: no event
	a := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 1, 9), ""))
	b := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), a.SubjectID))
	// A failed write takes no seq.
	bad := identified("MX-NOPE", Date(2026, 3, 2, 10), "")
	if err := s.CreateEncounter(ctx, bad); huella.ErrorCode(err) != huella.EINVALID {
		t.Fatalf("encounter at an unknown site: %v", err)
	}
	if _, err := s.DecideHit(ctx, b.Identification.Hits[0].ID, huella.HitConfirmed, "same person"); err != nil {
		t.Fatal(err)
	}
	c := identified("MX-TAP", Date(2026, 3, 3, 9), "")
	c.SubjectID = b.SubjectID // merged into a: the event names a
	MustCreateEncounter(t, s, c)
	merged, err := s.SubjectTemplates(ctx, []string{b.SubjectID})
	if err != nil {
		t.Fatal(err)
	}
	if subjects, n := subjectsOf(merged); !slices.Equal(subjects, []string{a.SubjectID}) || n != 3*len(sampleIDs(a)) {
		t.Errorf("templates of a merged subject: %d under %v; want %d under %s", n, subjects, 3*len(sampleIDs(a)), a.SubjectID)
	}
	if err := s.UnmergeSubject(ctx, b.SubjectID); err != nil {
		t.Fatal(err)
	}
	apart, err := s.SubjectTemplates(ctx, []string{b.SubjectID})
	if err != nil {
		t.Fatal(err)
	}
	if subjects, n := subjectsOf(apart); !slices.Equal(subjects, []string{b.SubjectID}) || n != 2*len(sampleIDs(a)) {
		t.Errorf("templates of an unmerged subject: %d under %v; want %d under %s", n, subjects, 2*len(sampleIDs(a)), b.SubjectID)
	}
	w := &huella.Watchlist{Name: "Wanted", Owner: "US-CBP", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := s.CreateWatchlist(ctx, w); err != nil {
		t.Fatal(err)
	}
	smp := Encounter("MX-TAP", time.Now()).Samples[:2]
	for i, x := range smp {
		x.Template = Template(x, "watch"+string(rune('a'+i)))
	}
	entry := &huella.WatchEntry{WatchlistID: w.ID, Reference: "CASE-1", Samples: smp, Biographics: a.Biographics}
	if err := s.CreateWatchEntry(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveWatchEntry(ctx, entry.ID, "warrant withdrawn"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeSubject(ctx, a.SubjectID, huella.PurgeCourtOrder); err != nil {
		t.Fatal(err)
	}
	_ = plain

	list, err := s.GalleryEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []huella.GalleryEvent{
		{Op: huella.GalleryEnroll, Subject: a.SubjectID, EncounterID: a.ID, SampleIDs: sampleIDs(a)},
		{Op: huella.GalleryEnroll, Subject: b.SubjectID, EncounterID: b.ID, SampleIDs: sampleIDs(b)},
		{Op: huella.GalleryMerge, Subject: b.SubjectID, Other: a.SubjectID},
		{Op: huella.GalleryEnroll, Subject: a.SubjectID, EncounterID: c.ID, SampleIDs: sampleIDs(c)},
		{Op: huella.GalleryUnmerge, Subject: b.SubjectID, Other: a.SubjectID},
		{Op: huella.GalleryWatchAdd, WatchEntryID: entry.ID, SampleIDs: []string{smp[0].ID, smp[1].ID}},
		{Op: huella.GalleryWatchRemove, WatchEntryID: entry.ID},
		{Op: huella.GalleryPurge, Subject: a.SubjectID, Subjects: []string{a.SubjectID}},
	}
	slices.Sort(want[5].SampleIDs)
	if len(list) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(list), len(want), list)
	}
	for i, ev := range list {
		slices.Sort(ev.SampleIDs)
		w := want[i]
		if ev.Seq != int64(i+1) || ev.Op != w.Op || ev.Subject != w.Subject || ev.Other != w.Other || ev.EncounterID != w.EncounterID ||
			ev.WatchEntryID != w.WatchEntryID || !slices.Equal(ev.SampleIDs, w.SampleIDs) || !slices.Equal(ev.Subjects, w.Subjects) {
			t.Errorf("event %d = %+v\nwant %+v", i+1, ev, w)
		}
		checkStoredTime(t, "event at", ev.At)
		js, _ := json.Marshal(ev)
		if name := a.Biographics.Names[0].Family; strings.Contains(string(js), name) {
			t.Errorf("event %d carries biographic data: %s", i+1, js)
		}
	}
	if head, err := s.GalleryEventHead(ctx); err != nil || head != int64(len(want)) {
		t.Errorf("head = %d, %v; want %d", head, err, len(want))
	}
	if later, err := s.GalleryEvents(ctx, 6, 1); err != nil || len(later) != 1 || later[0].Seq != 7 {
		t.Errorf("GalleryEvents(6, 1) = %v, %v; want event 7", later, err)
	}
	for _, limit := range []int{0, -1, huella.MaxGalleryEvents + 1} {
		if _, err := s.GalleryEvents(ctx, 0, limit); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("GalleryEvents limit %d: %v, want EINVALID", limit, err)
		}
	}
	t.Run("Sent", func(t *testing.T) {
		if sent, err := s.GalleryEventsSent(ctx); err != nil || sent != 0 {
			t.Fatalf("sent = %d, %v; want 0", sent, err)
		}
		for _, mark := range []int64{3, 2} {
			if err := s.MarkGalleryEventsSent(ctx, mark); err != nil {
				t.Fatal(err)
			}
		}
		if sent, err := s.GalleryEventsSent(ctx); err != nil || sent != 3 {
			t.Errorf("sent after marking 3 then 2 = %d, %v; want 3", sent, err)
		}
	})
	t.Run("Prune", func(t *testing.T) {
		// Only events up to the bound and older than the time go; the
		// head stays, and the events after the bound are still read.
		if n, err := s.PruneGalleryEvents(ctx, time.Now().Add(-time.Hour), 3); err != nil || n != 0 {
			t.Fatalf("pruning events older than an hour: %d, %v; want none", n, err)
		}
		if n, err := s.PruneGalleryEvents(ctx, time.Now().Add(time.Hour), 3); err != nil || n != 3 {
			t.Fatalf("pruning up to 3: %d, %v; want 3", n, err)
		}
		list, err := s.GalleryEvents(ctx, 0, 100)
		if err != nil || len(list) != len(want)-3 || list[0].Seq != 4 {
			t.Fatalf("after pruning up to 3: %d events, %v; want %d from 4", len(list), err, len(want)-3)
		}
		if n, err := s.PruneGalleryEvents(ctx, time.Now().Add(time.Hour), 1000); err != nil || n != int64(len(want)-3) {
			t.Fatalf("pruning the rest: %d, %v; want %d", n, err, len(want)-3)
		}
		if head, err := s.GalleryEventHead(ctx); err != nil || head != int64(len(want)) {
			t.Errorf("head after pruning every event = %d, %v; want %d", head, err, len(want))
		}
	})
	t.Run("PurgedHasNoTemplates", func(t *testing.T) {
		ts, err := s.SubjectTemplates(ctx, []string{a.SubjectID})
		if err != nil || len(ts) != 0 {
			t.Errorf("templates of a purged subject: %d, %v", len(ts), err)
		}
	})
}

func testGalleryEventsConcurrent(t *testing.T, s EventStore) {
	MustCreateSite(t, s, "MX-TAP")
	const writers, each = 6, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := identified("MX-TAP", Date(2026, 4, 1+w, 8+i), "")
				if err := s.CreateEncounter(Context(), e); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	list, err := s.GalleryEvents(Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, ev := range list {
		if ev.Seq != int64(i+1) || seen[ev.EncounterID] {
			t.Errorf("event %d: seq %d, encounter %s (seen before: %v)", i, ev.Seq, ev.EncounterID, seen[ev.EncounterID])
		}
		seen[ev.EncounterID] = true
	}
	if len(list) != writers*each {
		t.Errorf("%d events, want %d", len(list), writers*each)
	}
}

func testResearchQueue(t *testing.T, s EventStore) {
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	a := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 1, 9), ""))
	complete := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), a.SubjectID))
	partial := identified("MX-TAP", Date(2026, 3, 3, 9), a.SubjectID)
	partial.Identification.Partial = true
	MustCreateEncounter(t, s, partial)
	other := identified("MX-TAP", Date(2026, 3, 4, 9), "")
	other.Identification.Partial, other.Identification.Decision = true, huella.DecisionReview
	MustCreateEncounter(t, s, other)
	_ = complete
	list, err := s.QueuedResearches(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].EncounterID != partial.ID || list[1].EncounterID != other.ID {
		t.Fatalf("queue = %+v; want the two partial encounters, oldest first", list)
	}
	q := list[0]
	slices.Sort(q.SampleIDs)
	if q.SubjectID != partial.SubjectID || !slices.Equal(q.SampleIDs, sampleIDs(partial)) || !slices.Equal(q.Known, []string{a.SubjectID}) {
		t.Errorf("queued = %+v", q)
	}
	checkStoredTime(t, "queued at", q.QueuedAt)
	if n, err := s.CountQueuedResearches(ctx); err != nil || n != 2 {
		t.Errorf("count = %d, %v; want 2", n, err)
	}
	if err := s.ResearchDone(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ResearchDone(ctx, other.ID); err != nil {
		t.Errorf("done twice: %v", err)
	}
	t.Run("CompleteOnce", func(t *testing.T) {
		e := identified("MX-TAP", Date(2026, 3, 5, 9), "")
		e.Identification.Partial, e.Identification.Decision = true, huella.DecisionReview
		MustCreateEncounter(t, s, e)
		hit := func() []*huella.Hit {
			c := &huella.Candidate{SubjectID: a.SubjectID, LLR: 12}
			return []*huella.Hit{{Kind: huella.HitDuplicate, EncounterID: e.ID, CandidateSubjectID: a.SubjectID, Candidate: c,
				State: huella.HitPending}}
		}
		if err := s.CompleteResearch(ctx, e.ID, hit()); err != nil {
			t.Fatal(err)
		}
		checkCode(t, s.CompleteResearch(ctx, e.ID, hit()), huella.ECONFLICT)
		hits, err := s.ListHits(ctx, huella.HitFilter{SubjectID: e.SubjectID})
		if err != nil || len(hits) != 1 || hits[0].CandidateSubjectID != a.SubjectID || hits[0].SubjectID != e.SubjectID {
			t.Errorf("hits after completing twice: %+v, %v; want the one", hits, err)
		}
	})
	// A purge takes the subject's searches off the queue.
	if _, err := s.PurgeSubject(ctx, partial.SubjectID, huella.PurgeCourtOrder); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountQueuedResearches(ctx); err != nil || n != 0 {
		t.Errorf("count after done and purge = %d, %v; want 0", n, err)
	}
	if _, err := s.QueuedResearches(ctx, 0); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("limit 0: %v, want EINVALID", err)
	}
}
