package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// PurgingStore is a store that keeps identification and forwarding
// records and purges them.
type PurgingStore interface {
	huella.Store
	huella.IdentityStore
	huella.ForwardStore
	huella.PurgeStore
}

// NewPurgingStore returns a fresh, empty store for one subtest.
type NewPurgingStore func(t *testing.T) PurgingStore

// RunPurge runs the PurgeStore contract suite, one subtest per behaviour,
// each on a store of its own.
func RunPurge(t *testing.T, newStore NewPurgingStore) {
	t.Run("PurgeSubject", func(t *testing.T) { testPurgeSubject(t, newStore(t)) })
	t.Run("PurgeErrors", func(t *testing.T) { testPurgeErrors(t, newStore(t)) })
	t.Run("ExpiredSubjects", func(t *testing.T) { testExpiredSubjects(t, newStore(t)) })
}

// purgeWorld is a store with a subject to purge (target), a subject merged
// into it, and a bystander whose records share an image with the target's
// and whose pending hit names the target as candidate.
type purgeWorld struct {
	target, merged, bystander *huella.Encounter
	later                     *huella.Encounter // the target's second encounter
	sharedRef                 string            // an image of the target's that the bystander's record holds too
	watchRef                  string            // an image of the target's that a watchlist entry holds too
	bystanderHit              *huella.Hit       // pending, about the target
	delivery                  *huella.Delivery  // pending, of the target's conviction
}

func newPurgeWorld(t *testing.T, s PurgingStore) *purgeWorld {
	t.Helper()
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	MustCreatePartner(t, s, "GT-PNC")
	MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction))
	w := &purgeWorld{}
	// The target: a rich encounter (conviction, aliases, documents, SMTs,
	// the original transaction), then one with a finger marked amputated.
	target := RichEncounter("MX-TAP", Date(2026, 3, 1, 9))
	for i, smp := range target.Samples {
		smp.Template = Template(smp, "target"+string(rune('a'+i)))
	}
	w.target = MustCreateEncounter(t, s, target)
	later := EncounterWithout("MX-TAP", Date(2026, 3, 5, 9), huella.FingerAbsence{Position: huella.FingerLeftLittle, Reason: huella.AbsenceAmputated})
	later.SubjectID = w.target.SubjectID
	later.Idempotency = &huella.Idempotency{Key: "later-1", Digest: ImageRef("later")}
	w.later = MustCreateEncounter(t, s, later)
	// A second subject, confirmed a duplicate of the target: merged into it.
	merged := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 10, 9), w.target.SubjectID))
	if _, err := s.DecideHit(ctx, merged.Identification.Hits[0].ID, huella.HitConfirmed, "same person"); err != nil {
		t.Fatalf("DecideHit: %v", err)
	}
	w.merged = merged
	// The bystander holds one of the target's images (the same photo
	// stored once) and waits for an examiner about the target.
	bystander := identified("MX-TAP", Date(2026, 3, 12, 9), w.target.SubjectID)
	w.sharedRef = w.target.Samples[12].ImageRef
	bystander.Samples[12].ImageRef = w.sharedRef
	w.bystander = MustCreateEncounter(t, s, bystander)
	w.bystanderHit = w.bystander.Identification.Hits[0]
	// A watchlist entry holds another of the target's images.
	list := &huella.Watchlist{Name: "Se busca", Owner: "GT-PNC", Category: huella.CategoryWanted, ValidFrom: Date(2026, 1, 1, 0)}
	if err := s.CreateWatchlist(ctx, list); err != nil {
		t.Fatal(err)
	}
	w.watchRef = w.target.Samples[11].ImageRef
	entrySample := *w.target.Samples[11]
	entrySample.ID, entrySample.Template = "", nil
	if err := s.CreateWatchEntry(ctx, &huella.WatchEntry{WatchlistID: list.ID, Reference: "CASE-9", Samples: []*huella.Sample{&entrySample}}); err != nil {
		t.Fatal(err)
	}
	deliveries, err := s.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: w.target.SubjectID})
	if err != nil || len(deliveries) != 1 || deliveries[0].State != huella.DeliveryPending {
		t.Fatalf("deliveries of the target = %v, %v; want one pending (its conviction)", deliveries, err)
	}
	w.delivery = deliveries[0]
	return w
}

func testPurgeSubject(t *testing.T, s PurgingStore) {
	ctx := Context()
	w := newPurgeWorld(t, s)
	targetRefs := map[string]bool{w.target.OriginalRef: true}
	for _, e := range []*huella.Encounter{w.target, w.later, w.merged} {
		for _, smp := range e.Samples {
			targetRefs[smp.ImageRef] = true
		}
	}
	t.Run("ErrMerged", func(t *testing.T) {
		before := countRecords(t, s)
		_, err := s.PurgeSubject(ctx, w.merged.SubjectID, huella.PurgeCourtOrder)
		checkCode(t, err, huella.ECONFLICT)
		equal(t, "records", countRecords(t, s), before)
	})
	p, err := s.PurgeSubject(ctx, w.target.SubjectID, huella.PurgeCourtOrder)
	if err != nil {
		t.Fatalf("PurgeSubject: %v", err)
	}
	t.Run("IdempotencyKeys", func(t *testing.T) {
		_, err := s.FindEncounterByIdempotencyKey(ctx, w.later.Officer, "later-1")
		checkCode(t, err, huella.ENOTFOUND)
	})
	t.Run("Counts", func(t *testing.T) {
		subjects := []string{w.target.SubjectID, w.merged.SubjectID}
		slices.Sort(subjects)
		equal(t, "Subjects", p.Subjects, subjects)
		samples := len(w.target.Samples) + len(w.later.Samples) + len(w.merged.Samples)
		if p.SubjectID != w.target.SubjectID || p.Reason != huella.PurgeCourtOrder || p.Encounters != 3 || p.Samples != samples ||
			p.Templates != len(w.target.Samples)+len(w.merged.Samples) || p.SMTs != 2 || p.Deliveries != 1 {
			t.Errorf("purge = %+v, want 3 encounters, %d samples, %d templates, 2 SMTs, 1 delivery parked",
				p, samples, len(w.target.Samples)+len(w.merged.Samples))
		}
		// The merged subject's confirmed duplicate hit and the
		// bystander's pending one.
		if p.Hits != 2 || p.PendingHits != 1 {
			t.Errorf("hits = %d (%d pending), want 2 (1 pending)", p.Hits, p.PendingHits)
		}
	})
	t.Run("Blobs", func(t *testing.T) {
		if len(p.Blobs) != len(targetRefs)-2 {
			t.Errorf("%d blobs to delete, want %d: every image of the subjects and the original, less two still held", len(p.Blobs), len(targetRefs)-2)
		}
		for _, ref := range p.Blobs {
			if !targetRefs[ref] {
				t.Errorf("blob %s to delete is not the subject's", ref)
			}
		}
		for _, held := range []string{w.sharedRef, w.watchRef} {
			if slices.Contains(p.Blobs, held) {
				t.Errorf("blob %s to delete, but another record holds it", held)
			}
		}
		if !slices.Contains(p.Blobs, w.target.OriginalRef) {
			t.Errorf("the original transaction %s is not among the blobs to delete", w.target.OriginalRef)
		}
		remaining := map[string]bool{}
		if err := s.ForEachBlobRef(ctx, func(ref string) error { remaining[ref] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, ref := range p.Blobs {
			if remaining[ref] {
				t.Errorf("ForEachBlobRef still gives purged blob %s", ref)
			}
		}
		for _, ref := range []string{w.sharedRef, w.watchRef, w.bystander.Samples[0].ImageRef} {
			if !remaining[ref] {
				t.Errorf("ForEachBlobRef misses %s, still held", ref)
			}
		}
	})
	t.Run("RecordsGone", func(t *testing.T) {
		for _, id := range p.Subjects {
			_, err := s.FindSubject(ctx, id)
			checkCode(t, err, huella.ENOTFOUND)
		}
		for _, e := range []*huella.Encounter{w.target, w.later, w.merged} {
			_, err := s.FindEncounter(ctx, e.ID)
			checkCode(t, err, huella.ENOTFOUND)
			_, _, err = s.FindSample(ctx, e.Samples[0].ID)
			checkCode(t, err, huella.ENOTFOUND)
		}
		for _, f := range []huella.EncounterFilter{{Name: "Hernández"}, {Name: "Pepe"}, {Document: "G1234567"}, {SubjectID: w.target.SubjectID}} {
			list, err := s.ListEncounters(ctx, f)
			if err != nil || len(list) != 0 {
				t.Errorf("ListEncounters(%+v) = %d, %v; want none", f, len(list), err)
			}
		}
		stats, err := s.EncounterStats(ctx, huella.EncounterFilter{})
		if err != nil || stats.Total != 1 {
			t.Errorf("EncounterStats total = %+v, %v; want the bystander's 1", stats, err)
		}
		templates := countTemplates(t, s, huella.GallerySubjects)
		if len(templates) != 1 || templates[w.bystander.SubjectID] != len(w.bystander.Samples) {
			t.Errorf("templates by subject = %v, want only the bystander's", templates)
		}
		pending, err := s.ListHits(ctx, huella.HitFilter{State: huella.HitPending})
		if err != nil || len(pending) != 0 {
			t.Errorf("pending hits = %v, %v; want none: the hit about the purged subject leaves the queue", pending, err)
		}
		_, err = s.FindHit(ctx, w.bystanderHit.ID)
		checkCode(t, err, huella.ENOTFOUND)
		// A purged subject cannot be enrolled against.
		again := Encounter("MX-TAP", Date(2026, 4, 1, 9))
		again.SubjectID = w.target.SubjectID
		checkCode(t, s.CreateEncounter(ctx, again), huella.ENOTFOUND)
	})
	t.Run("OthersKept", func(t *testing.T) {
		sub, err := s.FindSubject(ctx, w.bystander.SubjectID)
		if err != nil || len(sub.Encounters) != 1 || len(sub.Encounters[0].Samples) != len(w.bystander.Samples) {
			t.Fatalf("bystander = %+v, %v; want it whole", sub, err)
		}
		if sub.Encounters[0].Samples[12].ImageRef != w.sharedRef {
			t.Errorf("bystander's shared image ref changed")
		}
	})
	t.Run("DeliveryKeptParked", func(t *testing.T) {
		d, err := s.FindDelivery(ctx, w.delivery.ID)
		if err != nil {
			t.Fatalf("FindDelivery: %v (the bookkeeping of deliveries stays)", err)
		}
		if d.State != huella.DeliveryDead || d.LastError != "subject purged" || d.SubjectID != w.target.SubjectID || d.EncounterID != w.target.ID {
			t.Errorf("delivery = %+v, want dead with last_error \"subject purged\", its IDs kept", d)
		}
		pending, err := s.PendingDeliveries(ctx, 0)
		if err != nil || len(pending) != 0 {
			t.Errorf("PendingDeliveries = %v, %v; want none", pending, err)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		events := auditEvents(t, s)
		checkChain(t, events)
		checkLastEvent(t, s, huella.ActionSubjectPurge, "subject/"+w.target.SubjectID, "")
		detail := events[len(events)-1].Detail
		for _, want := range []string{"reason=court-order", "subjects=2", "encounters=3", "pending_hits=1", "deliveries_parked=1"} {
			if !strings.Contains(detail, want) {
				t.Errorf("purge event detail %q lacks %q", detail, want)
			}
		}
		// Events before the purge are untouched: they name records by ID.
		var creates int
		for _, e := range events {
			if e.Action == huella.ActionEncounterCreate {
				creates++
			}
			for _, personal := range []string{"Hernández", "Pepe", "G1234567", "robo", "San Pedro"} {
				if strings.Contains(e.Detail, personal) || strings.Contains(e.Object, personal) {
					t.Errorf("event %d carries personal data: %+v", e.Seq, e)
				}
			}
		}
		if creates != 4 {
			t.Errorf("%d encounter.create events, want all 4 kept", creates)
		}
	})
	t.Run("ErrNotFoundAfter", func(t *testing.T) {
		before := countRecords(t, s)
		_, err := s.PurgeSubject(ctx, w.target.SubjectID, huella.PurgeCourtOrder)
		checkCode(t, err, huella.ENOTFOUND)
		equal(t, "records", countRecords(t, s), before)
	})
	t.Run("NoHitOnPurgedCandidate", func(t *testing.T) {
		// A gallery that has not seen the purge (another process's) still
		// finds the subject: the encounter is stored, without the hit.
		e := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 4, 2, 9), w.target.SubjectID))
		if len(e.Identification.Hits) != 0 {
			t.Errorf("hits = %+v, want none on a purged candidate", e.Identification.Hits)
		}
		pending, err := s.ListHits(ctx, huella.HitFilter{State: huella.HitPending})
		if err != nil || len(pending) != 0 {
			t.Errorf("pending hits = %v, %v; want none", pending, err)
		}
	})
}

func testPurgeErrors(t *testing.T, s PurgingStore) {
	ctx := Context()
	w := newPurgeWorld(t, s)
	for name, tc := range map[string]struct {
		id     string
		reason huella.PurgeReason
		code   string
	}{
		"ErrNoReason":      {w.target.SubjectID, "", huella.EINVALID},
		"ErrUnknownReason": {w.target.SubjectID, "because", huella.EINVALID},
		"ErrNotFound":      {"sub_00000000000000000000000000", huella.PurgeCourtOrder, huella.ENOTFOUND},
		"ErrEmptyID":       {"", huella.PurgeCourtOrder, huella.ENOTFOUND},
	} {
		t.Run(name, func(t *testing.T) {
			before := countRecords(t, s)
			p, err := s.PurgeSubject(ctx, tc.id, tc.reason)
			checkCode(t, err, tc.code)
			if p != nil {
				t.Errorf("purge = %+v on error, want nil", p)
			}
			equal(t, "records", countRecords(t, s), before)
			if sub, err := s.FindSubject(ctx, w.target.SubjectID); err != nil || len(sub.Encounters) != 3 {
				t.Errorf("target after a failed purge: %v", err)
			}
			if h, err := s.FindHit(ctx, w.bystanderHit.ID); err != nil || h.State != huella.HitPending {
				t.Errorf("bystander's hit after a failed purge: %+v, %v", h, err)
			}
		})
	}
}

func testExpiredSubjects(t *testing.T, s PurgingStore) {
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	old := func(day int) time.Time { return Date(2014, 6, day, 9) }
	cutoff := Date(2016, 11, 26, 0)
	create := func(e *huella.Encounter) *huella.Encounter { return MustCreateEncounter(t, s, e) }
	expired := create(Encounter("MX-TAP", old(1)))
	older := create(Encounter("MX-TAP", old(2).AddDate(-1, 0, 0)))
	// Seen again since: the last encounter counts.
	returning := create(Encounter("MX-TAP", old(3)))
	back := Encounter("MX-TAP", Date(2026, 2, 1, 9))
	back.SubjectID = returning.SubjectID
	create(back)
	create(Encounter("MX-TAP", Date(2026, 2, 2, 9)))
	// Held: a declared conviction, and a pending hit (as the candidate).
	create(convicted("MX-TAP", old(4)))
	candidate := create(Encounter("MX-TAP", old(5)))
	create(identified("MX-TAP", Date(2026, 2, 3, 9), candidate.SubjectID))
	// Merged into an expired subject, seen recently: the survivor is not expired.
	survivor := create(identified("MX-TAP", old(6), ""))
	mergedIn := create(identified("MX-TAP", Date(2026, 2, 4, 9), survivor.SubjectID))
	if _, err := s.DecideHit(ctx, mergedIn.Identification.Hits[0].ID, huella.HitConfirmed, "same person"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ExpiredSubjects(ctx, cutoff)
	if err != nil {
		t.Fatalf("ExpiredSubjects: %v", err)
	}
	equal(t, "expired subjects", got.Subjects, []string{older.SubjectID, expired.SubjectID})
	if got.HeldConviction != 1 || got.HeldPendingHit != 1 {
		t.Errorf("held = %d by conviction, %d by pending hit; want 1 and 1", got.HeldConviction, got.HeldPendingHit)
	}
	none, err := s.ExpiredSubjects(ctx, Date(2001, 1, 1, 0))
	if err != nil || none.Subjects == nil || len(none.Subjects) != 0 {
		t.Errorf("ExpiredSubjects before any capture = %+v, %v; want an empty list", none, err)
	}
}
