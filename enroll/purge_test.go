package enroll_test

import (
	"context"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
)

// subjectCandidates returns the subject candidates of a search with the
// demo person's second iris capture.
func subjectCandidates(tb testing.TB, s *enroll.Service) []*huella.Candidate {
	tb.Helper()
	samples, images := irises(tb, "02")
	id, err := s.Identify(adminContext(), samples, images)
	if err != nil {
		tb.Fatal(err)
	}
	return id.Candidates
}

// TestPurgeSubject enrolls a person's irises, finds them with another
// capture, purges them and finds them no more: at once in the running
// identifier, and after a restart. Their images are deleted, except one
// a watchlist entry holds too (blobs are content-addressed).
func TestPurgeSubject(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	s, store := mustService(t)
	ctx := adminContext()
	site := &huella.Site{Code: "MX-TAP", Name: "Tapachula", Country: "MEX", TimeZone: "America/Mexico_City"}
	if err := store.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	samples, images := irises(t, "01")
	e, err := s.Enroll(ctx, &enroll.Request{Images: images, Encounter: &huella.Encounter{
		SiteCode: "MX-TAP", CapturedAt: time.Now().Add(-time.Hour), Reason: huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Ana", Family: "Pérez"}}, Sex: huella.SexFemale},
		Samples:         samples,
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The same right-eye image on a watchlist entry: stored once, held twice.
	list := &huella.Watchlist{Name: "Wanted", Owner: "PROGRAM", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := store.CreateWatchlist(ctx, list); err != nil {
		t.Fatal(err)
	}
	entrySamples, entryImages := irises(t, "01")
	entry := &huella.WatchEntry{WatchlistID: list.ID, Reference: "CASE-7", Samples: entrySamples[:1]}
	if _, err := s.AddWatchEntry(ctx, entry, entryImages[:1]); err != nil {
		t.Fatal(err)
	}
	if entry.Samples[0].ImageRef != e.Samples[0].ImageRef {
		t.Fatalf("the entry's image is stored under %s, the encounter's under %s: want one blob", entry.Samples[0].ImageRef, e.Samples[0].ImageRef)
	}
	if c := subjectCandidates(t, s); len(c) != 1 || c[0].SubjectID != e.SubjectID {
		t.Fatalf("before the purge: candidates %+v, want %s", c, e.SubjectID)
	}

	t.Run("ErrNoReason", func(t *testing.T) {
		if _, err := s.PurgeSubject(ctx, e.SubjectID, ""); huella.ErrorCode(err) != huella.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
		if c := subjectCandidates(t, s); len(c) != 1 {
			t.Errorf("a refused purge took the subject out of the gallery: %d candidates", len(c))
		}
		if _, err := s.Blobs.Get(ctx, e.Samples[1].ImageRef); err != nil {
			t.Errorf("a refused purge deleted an image: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := s.PurgeSubject(ctx, "sub_00000000000000000000000000", huella.PurgeCourtOrder); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("err = %v, want ENOTFOUND", err)
		}
	})

	p, err := s.PurgeSubject(ctx, e.SubjectID, huella.PurgeDataProtection)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Subjects) != 1 || p.Encounters != 1 || p.Samples != 2 || len(p.Blobs) != 1 || p.Blobs[0] != e.Samples[1].ImageRef {
		t.Errorf("purge = %+v, want one encounter, two samples, one blob (the left eye's)", p)
	}
	t.Run("NoMatchAtOnce", func(t *testing.T) {
		if c := subjectCandidates(t, s); len(c) != 0 {
			t.Errorf("after the purge: candidates %+v, want none", c)
		}
	})
	t.Run("NoMatchAfterRestart", func(t *testing.T) {
		x := mustIdentifier(t, store)
		if n := x.Subjects.Len(); n != 0 {
			t.Errorf("a restarted identifier holds %d subjects, want none", n)
		}
		restarted := *s
		restarted.Identifier = x
		if c := subjectCandidates(t, &restarted); len(c) != 0 {
			t.Errorf("after restart: candidates %+v, want none", c)
		}
	})
	t.Run("Blobs", func(t *testing.T) {
		if _, err := s.Blobs.Get(ctx, e.Samples[1].ImageRef); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("the purged left-eye image: %v, want it deleted", err)
		}
		if _, err := s.Blobs.Get(ctx, e.Samples[0].ImageRef); err != nil {
			t.Errorf("the right-eye image the watchlist entry holds: %v, want it kept", err)
		}
	})
	t.Run("EnrollAgain", func(t *testing.T) {
		// The person comes back: a new subject, the old one stays gone.
		samples, images := irises(t, "02")
		again, err := s.Enroll(ctx, &enroll.Request{Images: images, Encounter: &huella.Encounter{
			SiteCode: "MX-TAP", CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention,
			CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
			Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Ana"}}, Sex: huella.SexFemale},
			Samples:         samples,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if again.SubjectID == e.SubjectID || again.Identification.Decision != huella.DecisionNewSubject {
			t.Errorf("re-enrollment: subject %s, decision %s; want a new subject", again.SubjectID, again.Identification.Decision)
		}
	})
}

// TestEnrollAfterPurgeElsewhere: a subject purged by another process (the
// command line) stays in this identifier's gallery until restart; an
// enrollment it links to automatically is searched again without it.
func TestEnrollAfterPurgeElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	s, store := mustService(t)
	ctx := adminContext()
	if err := store.CreateSite(ctx, &huella.Site{Code: "MX-TAP", Name: "Tapachula", Country: "MEX", TimeZone: "America/Mexico_City"}); err != nil {
		t.Fatal(err)
	}
	enrollIrises := func(capture string) *huella.Encounter {
		t.Helper()
		samples, images := irises(t, capture)
		e, err := s.Enroll(ctx, &enroll.Request{Images: images, Encounter: &huella.Encounter{
			SiteCode: "MX-TAP", CapturedAt: time.Now().Add(-time.Hour), Reason: huella.ReasonDetention,
			CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
			Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Ana"}}, Sex: huella.SexFemale},
			Samples:         samples,
		}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	first := enrollIrises("01")
	if _, err := store.PurgeSubject(context.Background(), first.SubjectID, huella.PurgeRetention); err != nil {
		t.Fatal(err)
	}
	if c := subjectCandidates(t, s); len(c) != 1 {
		t.Fatalf("the stale gallery gives %d candidates, want the purged subject", len(c))
	}
	again := enrollIrises("02")
	if again.SubjectID == first.SubjectID || again.Identification.Decision != huella.DecisionNewSubject {
		t.Errorf("enrollment after a purge elsewhere: subject %s, decision %s; want a new subject", again.SubjectID, again.Identification.Decision)
	}
}
