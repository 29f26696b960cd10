package sitelink_test

import (
	"context"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sitelink"
	"github.com/huella-abis/huella/storetest"
)

// mustIdentify gives the node biometric search with the iris engine, its
// galleries loaded and kept in step with its store's gallery events (how
// serve follows them without --matchers).
func mustIdentify(tb testing.TB, n *node) *match.Identifier {
	tb.Helper()
	cals, err := fusion.Default()
	if err != nil {
		tb.Fatal(err)
	}
	x := match.NewIdentifier(n.store, []engine.Engine{engine.Iris{}}, cals)
	if _, _, err := x.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	n.enroll.Identifier = x
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		x.Applier(n.store).FollowStore(ctx, n.store, 20*time.Millisecond, nil)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return x
}

// mustWatch puts the demo's first person (the irises of one capture) on
// the watchlist at the center, with a name that must not leave it.
func mustWatch(tb testing.TB, center *node, list *huella.Watchlist, capture, reference string) *huella.WatchEntry {
	tb.Helper()
	samples, images, err := demo.Irises(capture)
	if err != nil {
		tb.Fatal(err)
	}
	e := &huella.WatchEntry{WatchlistID: list.ID, Reference: reference, Samples: samples,
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "Nombre", Family: "Secreto"}}, Sex: huella.SexMale}}
	if _, err := center.enroll.AddWatchEntry(storetest.Context(), e, images); err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestWatchlistHitOffline: the center's watchlists reach the site (entry
// references and templates only), an entry removed at the center leaves
// the site's gallery, and a watchlisted person enrolled at the site while
// its link is cut raises the hit there at once, pending central
// identification; when the link heals the encounter reaches the center,
// which raises the same hit for its examiners, and the site shows it.
// An examiner's decision on that hit at the center reaches the site.
func TestWatchlistHitOffline(t *testing.T) {
	ctx := storetest.Context()
	center := mustOpenNode(t, "MX-TIJ")
	mustIdentify(t, center)
	seeds, keys := siteKeys(t, "MX-TIJ")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)
	if err := hub.ServeDownstream(context.Background(), receiver.Downstream); err != nil {
		t.Fatal(err)
	}
	if err := hub.ServeWatch(context.Background(), center.store.WatchChanges); err != nil {
		t.Fatal(err)
	}

	list := &huella.Watchlist{Name: "Se busca", Owner: "PROGRAM", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := center.store.CreateWatchlist(ctx, list); err != nil {
		t.Fatal(err)
	}
	wanted := mustWatch(t, center, list, "01", "CASE-1")
	withdrawn := mustWatch(t, center, list, "02", "CASE-2")
	if err := center.enroll.RemoveWatchEntry(ctx, withdrawn.ID, "notice withdrawn"); err != nil {
		t.Fatal(err)
	}

	site := mustOpenNode(t, "MX-TIJ")
	site.store.KeepSiteOutbox()
	siteX := mustIdentify(t, site)
	link := newProxy(t, hostPort(hub.LeafURL()))
	leaf := MustOpenLeaf(t, "MX-TIJ", link.URL(), seeds["MX-TIJ"])
	r := &sitelink.Relay{Store: site.store, Blobs: site.blobs, Send: leaf.Send, Pull: leaf.Pull,
		PurgeSubject: site.enroll.PurgeSubject, PullWatch: leaf.PullWatch, RemoveWatchEntry: site.enroll.RemoveWatchEntry,
		Retry: 50 * time.Millisecond}
	r.Open(context.Background())
	t.Cleanup(func() { r.Close() })
	site.enroll.OnEnrolled = func(*huella.Encounter) { r.Kick() }

	waitFor(t, "the watchlist replicated", 30*time.Second, func() bool {
		seq, err := site.store.WatchCursor(ctx)
		head, _ := center.store.GalleryEventHead(ctx)
		return err == nil && seq > 0 && seq == head && siteX.Watchlists.Len() == 1
	})
	copy, err := site.store.FindWatchEntry(ctx, wanted.ID)
	if err != nil {
		t.Fatalf("the site's copy of the entry: %v", err)
	}
	if copy.Reference != "CASE-1" || copy.WatchlistID != list.ID || len(copy.Biographics.Names) != 0 || len(copy.Samples) != 2 {
		t.Errorf("the site's copy: reference %q, list %s, %d names, %d samples; want CASE-1, %s, no names, 2 samples",
			copy.Reference, copy.WatchlistID, len(copy.Biographics.Names), len(copy.Samples), list.ID)
	}
	for _, smp := range copy.Samples {
		if smp.ImageRef != "" {
			t.Errorf("the site's copy names an image (%s): templates only", smp.ImageRef)
		}
	}
	if _, err := site.store.FindWatchEntry(ctx, withdrawn.ID); huella.ErrorCode(err) != huella.ENOTFOUND {
		t.Errorf("the entry removed before the site joined: %v, want ENOTFOUND (never replicated)", err)
	}

	// Offline: the hit is raised at the site.
	cutOff(t, link, leaf, hub)
	samples, images, err := demo.Irises("02")
	if err != nil {
		t.Fatal(err)
	}
	e := &huella.Encounter{SiteCode: "MX-TIJ", CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Persona", Family: "Buscada"}}, Sex: huella.SexMale},
		Samples:         samples}
	got, err := site.enroll.Enroll(officerAt("MX-TIJ"), &enroll.Request{Encounter: e, Images: images})
	if err != nil {
		t.Fatal(err)
	}
	if got.Central == nil || got.Central.State != huella.CentralPending {
		t.Errorf("enrolled offline: central %+v, want pending", got.Central)
	}
	hitsAt := func(n *node, encounterID string) []*huella.Hit {
		t.Helper()
		hits, err := n.store.ListHits(ctx, huella.HitFilter{Kind: huella.HitWatchlist})
		if err != nil {
			t.Fatal(err)
		}
		var on []*huella.Hit
		for _, h := range hits {
			if h.EncounterID == encounterID {
				on = append(on, h)
			}
		}
		return on
	}
	local := hitsAt(site, got.ID)
	if len(local) != 1 || local[0].WatchEntryID != wanted.ID || local[0].State != huella.HitPending {
		t.Fatalf("watchlist hits raised offline at the site: %+v, want one pending on %s", local, wanted.ID)
	}
	time.Sleep(200 * time.Millisecond)
	if backlog(t, site) != 1 {
		t.Fatalf("backlog while cut off: %d, want 1", backlog(t, site))
	}

	// Healed: the center identifies it and raises the hit for its examiners.
	link.Heal()
	waitFor(t, "sent", 30*time.Second, func() bool { return backlog(t, site) == 0 })
	atSite, err := site.store.FindEncounter(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := atSite.Central
	if c == nil || c.State != huella.CentralIdentified || c.Hits != 1 || c.EncounterID == "" {
		t.Fatalf("after healing the site shows %+v, want identified with the center's hit", c)
	}
	central := hitsAt(center, c.EncounterID)
	if len(central) != 1 || central[0].WatchEntryID != wanted.ID || central[0].State != huella.HitPending {
		t.Fatalf("watchlist hits at the center: %+v, want one pending on %s", central, wanted.ID)
	}

	// The center's examiner confirms: the site hears of it, even cut off
	// when it was decided.
	cutOff(t, link, leaf, hub)
	examiner := huella.NewContextWithActor(huella.NewContextWithPurpose(context.Background(), huella.PurposeEnforcement),
		&huella.User{ID: "usr_examiner", Name: "examiner", Role: huella.RoleExaminer})
	if _, err := center.store.DecideHit(examiner, central[0].ID, huella.HitConfirmed, "same irises"); err != nil {
		t.Fatal(err)
	}
	link.Heal()
	waitFor(t, "the decision at the site", 30*time.Second, func() bool {
		e, err := site.store.FindEncounter(ctx, got.ID)
		return err == nil && e.Central != nil && e.Central.Hits == 0
	})
	e, err = site.store.FindEncounter(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Central.Decision != huella.DecisionNewSubject || e.Central.EncounterID != c.EncounterID {
		t.Errorf("after the examiner's decision the site shows %+v, want new-subject, no pending hit", e.Central)
	}

	// An entry removed at the center now leaves the site's gallery.
	if err := center.enroll.RemoveWatchEntry(ctx, wanted.ID, "arrested"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removal replicated", 30*time.Second, func() bool {
		e, err := site.store.FindWatchEntry(ctx, wanted.ID)
		return err == nil && e.Removed() && siteX.Watchlists.Len() == 0
	})
}

// TestMergeReachesSite: a duplicate hit raised at the center on a site's
// encounter after its first answer (a complete search, say) shows at the
// site as review; the examiner's confirmation, which merges the subjects,
// shows as linked to the surviving subject; the unmerge as a new subject
// again.
func TestMergeReachesSite(t *testing.T) {
	ctx := storetest.Context()
	center := mustOpenNode(t, "MX-TIJ")
	seeds, keys := siteKeys(t, "MX-TIJ")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)
	if err := hub.ServeDownstream(context.Background(), receiver.Downstream); err != nil {
		t.Fatal(err)
	}
	site := mustOpenNode(t, "MX-TIJ")
	site.store.KeepSiteOutbox()
	leaf := MustOpenLeaf(t, "MX-TIJ", hub.LeafURL(), seeds["MX-TIJ"])
	r := &sitelink.Relay{Store: site.store, Blobs: site.blobs, Send: leaf.Send, Pull: leaf.Pull,
		PurgeSubject: site.enroll.PurgeSubject, Retry: 50 * time.Millisecond}
	r.Open(context.Background())
	t.Cleanup(func() { r.Close() })

	ids := enrollAt(t, site, "MX-TIJ", 2, 77)
	r.Kick()
	waitFor(t, "sent", 30*time.Second, func() bool { return backlog(t, site) == 0 })
	central := func(id string) *huella.CentralIdentification {
		t.Helper()
		e, err := site.store.FindEncounter(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return e.Central
	}
	first, second := central(ids[0]), central(ids[1])
	if first.Decision != huella.DecisionNewSubject || second.Decision != huella.DecisionNewSubject || first.SubjectID == second.SubjectID {
		t.Fatalf("first answers: %+v and %+v, want two new subjects", first, second)
	}
	hit := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: first.EncounterID, CandidateSubjectID: second.SubjectID,
		Candidate: &huella.Candidate{SubjectID: second.SubjectID, LLR: 12}}
	if err := center.store.CreateHits(ctx, []*huella.Hit{hit}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hit at the site", 30*time.Second, func() bool {
		c := central(ids[0])
		return c.Decision == huella.DecisionReview && c.Hits == 1
	})
	if _, err := center.store.DecideHit(ctx, hit.ID, huella.HitConfirmed, "same face"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the merge at the site", 30*time.Second, func() bool {
		c := central(ids[0])
		return c.Decision == huella.DecisionLinked && c.SubjectID == second.SubjectID && c.Hits == 0
	})
	if err := center.store.UnmergeSubject(ctx, first.SubjectID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unmerge at the site", 30*time.Second, func() bool {
		c := central(ids[0])
		return c.Decision == huella.DecisionNewSubject && c.SubjectID == first.SubjectID
	})
	if c := central(ids[1]); c.Decision != huella.DecisionNewSubject || c.SubjectID != second.SubjectID {
		t.Errorf("the other encounter: %+v, want unchanged", c)
	}
}
