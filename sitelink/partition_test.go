package sitelink_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/sitelink"
	"github.com/huella-abis/huella/sqlite"
)

// node is one Huella node of a test: its store, blobs and enrollment.
type node struct {
	store  *sqlite.Store
	blobs  *blob.FileStore
	enroll *enroll.Service
}

func mustOpenNode(tb testing.TB, sites ...string) *node {
	tb.Helper()
	return mustOpenNodeAt(tb, tb.TempDir(), sites...)
}

// mustOpenNodeAt opens the node kept in dir, adding the sites it lacks.
func mustOpenNodeAt(tb testing.TB, dir string, sites ...string) *node {
	tb.Helper()
	store, err := sqlite.Open(filepath.Join(dir, "huella.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key := bytes.Repeat([]byte{7}, 32)
	blobs, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	for _, code := range sites {
		if _, err := store.FindSite(ctx, code); err == nil {
			continue
		}
		if err := store.CreateSite(ctx, &huella.Site{Code: code, Name: "Facility " + code, Country: "MEX", TimeZone: "America/Tijuana"}); err != nil {
			tb.Fatal(err)
		}
	}
	return &node{store: store, blobs: blobs, enroll: enroll.NewService(store, blobs)}
}

// officerAt is the context of an officer of the site.
func officerAt(site string) context.Context {
	u := &huella.User{ID: "usr_officer_" + site, Name: "officer", Role: huella.RoleOfficer, Sites: []string{site}}
	return huella.NewContextWithPurpose(huella.NewContextWithActor(context.Background(), u), huella.PurposeEnforcement)
}

// faceImage is a small PNG, different for every seed.
func faceImage(tb testing.TB, seed uint64) []byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, 48, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	img.Set(0, 0, color.Gray{Y: uint8(seed)})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// enrollAt enrolls n encounters at the site node and returns their IDs.
func enrollAt(tb testing.TB, n *node, site string, count int, seed uint64) []string {
	tb.Helper()
	var ids []string
	for i := range count {
		e := &huella.Encounter{SiteCode: site, CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention,
			CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
			Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Persona", Family: strconv.Itoa(i)}}, Sex: huella.SexFemale},
			Samples:         []*huella.Sample{{Modality: huella.ModalityFace}}}
		got, err := n.enroll.Enroll(officerAt(site), &enroll.Request{Encounter: e, Images: [][]byte{faceImage(tb, seed+uint64(i))}})
		if err != nil {
			tb.Fatal(err)
		}
		if got.Central == nil || got.Central.State != huella.CentralPending {
			tb.Fatalf("a site's new encounter has central %+v, want pending", got.Central)
		}
		ids = append(ids, got.ID)
	}
	return ids
}

// backlog is how many encounters wait in the node's outbox.
func backlog(tb testing.TB, n *node) int {
	tb.Helper()
	count, _, err := n.store.UpstreamBacklog(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return count
}

// TestPartition runs one center and two sites on loopback. MX-TIJ's link
// is cut while both sites enroll; MX-MXL's encounters reach the center at
// once, MX-TIJ's wait in its outbox and show pending, then reach the
// center when the link heals. The first replies are lost on the way back
// (the center enrolled, the site did not hear): the site sends again and
// the center answers with the first enrollment. Every encounter reaches
// the center exactly once, each as one new subject, and every site
// encounter shows the center's decision. HUELLA_SITE_PARTITION_N sets how
// many encounters each site enrolls (the 200; default 15).
func TestPartition(t *testing.T) {
	perSite := 15
	if v, err := strconv.Atoi(os.Getenv("HUELLA_SITE_PARTITION_N")); err == nil && v > 0 {
		perSite = v
	}
	center := mustOpenNode(t, "MX-TIJ", "MX-MXL")
	seeds, keys := siteKeys(t, "MX-TIJ", "MX-MXL")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)

	sites := map[string]*node{}
	links := map[string]*proxy{}
	relays := map[string]*sitelink.Relay{}
	var lostReplies atomic.Int64
	for _, code := range []string{"MX-TIJ", "MX-MXL"} {
		n := mustOpenNode(t, code)
		n.store.KeepSiteOutbox()
		sites[code] = n
		links[code] = newProxy(t, hostPort(hub.LeafURL()))
		leaf := MustOpenLeaf(t, code, links[code].URL(), seeds[code])
		waitFor(t, code+" linked", 10*time.Second, leaf.Linked)
		r := &sitelink.Relay{Store: n.store, Blobs: n.blobs, Workers: 4, Retry: 100 * time.Millisecond,
			Send: func(ctx context.Context, u *sitelink.Upload) (*huella.CentralIdentification, error) {
				c, err := leaf.Send(ctx, u)
				if err == nil && lostReplies.Add(1) <= 3 {
					return nil, errors.New("test: the reply was lost")
				}
				return c, err
			}}
		r.Open(context.Background())
		t.Cleanup(func() { r.Close() })
		n.enroll.OnEnrolled = func(*huella.Encounter) { r.Kick() }
		relays[code] = r
	}

	links["MX-TIJ"].Cut()
	waitFor(t, "MX-TIJ cut off", 10*time.Second, func() bool { return hub.LinkedSites() == 1 })
	ids := map[string][]string{
		"MX-TIJ": enrollAt(t, sites["MX-TIJ"], "MX-TIJ", perSite, 1000),
		"MX-MXL": enrollAt(t, sites["MX-MXL"], "MX-MXL", perSite, 5000),
	}
	waitFor(t, "MX-MXL drained", 60*time.Second, func() bool { return backlog(t, sites["MX-MXL"]) == 0 })
	if got := backlog(t, sites["MX-TIJ"]); got != perSite {
		t.Fatalf("MX-TIJ's backlog while cut off: %d, want %d", got, perSite)
	}
	e, err := sites["MX-TIJ"].store.FindEncounter(context.Background(), ids["MX-TIJ"][0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Central == nil || e.Central.State != huella.CentralPending {
		t.Errorf("an encounter of a cut-off site shows %+v, want pending central identification", e.Central)
	}

	links["MX-TIJ"].Heal()
	start := time.Now()
	waitFor(t, "MX-TIJ drained", 120*time.Second, func() bool { return backlog(t, sites["MX-TIJ"]) == 0 })
	t.Logf("MX-TIJ's backlog of %d drained %s after the link healed", perSite, time.Since(start).Round(time.Millisecond))

	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	subjects := map[string]bool{}
	for code, list := range ids {
		atCenter, err := center.store.ListEncounters(ctx, huella.EncounterFilter{Sites: []string{code}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(atCenter) != perSite {
			t.Errorf("%s: %d encounters at the center, want %d (exactly once each)", code, len(atCenter), perSite)
		}
		centerIDs := map[string]bool{}
		for _, ce := range atCenter {
			centerIDs[ce.ID] = true
			subjects[ce.SubjectID] = true
		}
		seen := map[string]bool{}
		for _, id := range list {
			e, err := sites[code].store.FindEncounter(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			c := e.Central
			switch {
			case c == nil || c.State != huella.CentralIdentified:
				t.Errorf("%s %s: central %+v, want identified", code, id, c)
			case !centerIDs[c.EncounterID] || seen[c.EncounterID]:
				t.Errorf("%s %s: the center's encounter %s is not one of its own, or answers two", code, id, c.EncounterID)
			case c.Decision != huella.DecisionNewSubject:
				t.Errorf("%s %s: decision %s, want %s", code, id, c.Decision, huella.DecisionNewSubject)
			}
			if c != nil {
				seen[c.EncounterID] = true
			}
		}
	}
	if len(subjects) != 2*perSite {
		t.Errorf("%d subjects at the center, want %d: no duplicates", len(subjects), 2*perSite)
	}
	if lostReplies.Load() < 3 {
		t.Errorf("only %d replies went through the lossy wrapper", lostReplies.Load())
	}
}

// TestCenterRefusesOtherSite: an encounter that came on MX-TIJ's subject
// but names MX-MXL is refused, and nothing is enrolled.
func TestCenterRefusesOtherSite(t *testing.T) {
	center := mustOpenNode(t, "MX-TIJ", "MX-MXL")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	u := &sitelink.Upload{Encounter: &huella.Encounter{ID: "enc_x", SiteCode: "MX-MXL", CapturedAt: time.Now().Add(-time.Minute),
		Reason: huella.ReasonDetention, CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "A", Family: "B"}}, Sex: huella.SexFemale},
		Samples:     []*huella.Sample{{Modality: huella.ModalityFace}}}, Images: [][]byte{faceImage(t, 1)}}
	if _, err := receiver.Receive(context.Background(), "MX-TIJ", u); huella.ErrorCode(err) != huella.EFORBIDDEN {
		t.Fatalf("MX-MXL's encounter on MX-TIJ's link: %v, want EFORBIDDEN", err)
	}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	if list, err := center.store.ListEncounters(ctx, huella.EncounterFilter{}); err != nil || len(list) != 0 {
		t.Errorf("the center holds %d encounters (%v), want none", len(list), err)
	}
}

// TestPurgeReachesOfflineSite: a purge ordered at the center, while the
// site that sent the encounter is cut off, removes the site's copy once
// the link heals, and nothing else.
func TestPurgeReachesOfflineSite(t *testing.T) {
	center := mustOpenNode(t, "MX-TIJ")
	seeds, keys := siteKeys(t, "MX-TIJ")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)
	if err := hub.ServeDownstream(context.Background(), receiver.Downstream); err != nil {
		t.Fatal(err)
	}
	site := mustOpenNode(t, "MX-TIJ")
	site.store.KeepSiteOutbox()
	link := newProxy(t, hostPort(hub.LeafURL()))
	leaf := MustOpenLeaf(t, "MX-TIJ", link.URL(), seeds["MX-TIJ"])
	r := &sitelink.Relay{Store: site.store, Blobs: site.blobs, Send: leaf.Send, Pull: leaf.Pull,
		PurgeSubject: site.enroll.PurgeSubject, Retry: 100 * time.Millisecond}
	r.Open(context.Background())
	defer r.Close()

	ids := enrollAt(t, site, "MX-TIJ", 2, 42)
	r.Kick()
	waitFor(t, "sent", 30*time.Second, func() bool { return backlog(t, site) == 0 })
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	first, err := site.store.FindEncounter(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	cutOff(t, link, leaf, hub)
	if _, err := center.enroll.PurgeSubject(ctx, first.Central.SubjectID, huella.PurgeCourtOrder); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := site.store.FindEncounter(ctx, ids[0]); err != nil {
		t.Fatalf("the site's copy went while it was cut off: %v", err)
	}
	link.Heal()
	healed := time.Now()
	waitFor(t, "purged at the site", 30*time.Second, func() bool {
		_, err := site.store.FindEncounter(ctx, ids[0])
		return huella.ErrorCode(err) == huella.ENOTFOUND
	})
	t.Logf("purged at the site %s after the link healed", time.Since(healed).Round(time.Millisecond))
	if _, err := site.store.FindEncounter(ctx, ids[1]); err != nil {
		t.Errorf("the other encounter: %v, want it kept", err)
	}
	waitFor(t, "the site's cursor past the purge", 10*time.Second, func() bool {
		seq, err := site.store.DownstreamCursor(ctx)
		return err == nil && seq == 1
	})
}
