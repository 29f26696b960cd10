package console_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	hhttp "github.com/huella-abis/huella/http"
)

// mustCreateHit raises a pending duplicate hit: the demo's second person
// (at MX-TAP) against the demo's first subject, with the scores an
// identification between the review and auto-link thresholds would give.
func (e *env) mustCreateHit() *huella.Hit {
	e.t.Helper()
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeIdentification)
	list, err := e.store.ListEncounters(ctx, huella.EncounterFilter{Sites: []string{"MX-TAP"}})
	if err != nil {
		e.t.Fatal(err)
	}
	var probe *huella.Encounter
	for _, enc := range list {
		if enc.SubjectID != e.subject {
			probe = enc
		}
	}
	if probe == nil {
		e.t.Fatal("no demo encounter of a second person at MX-TAP")
	}
	llr := 9.2
	h := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: probe.ID, CandidateSubjectID: e.subject,
		Candidate: &huella.Candidate{SubjectID: e.subject, LLR: llr, FMR: math.Exp(-llr), Scores: []huella.ModalityScore{
			{Modality: huella.ModalityFinger, Position: 2, Score: 0.41, LLR: 3.1},
			{Modality: huella.ModalityIris, Eye: huella.EyeRight, Score: 0.62, LLR: 6.1},
		}}}
	if err := e.store.CreateHits(ctx, []*huella.Hit{h}); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// mustFingerHit lists the demo's first person on a watchlist by the first
// impressions of the four fingers he gave (the index to the little finger
// of the right hand): the retro search raises a watchlist hit on his
// latest encounter, which holds the second impressions.
func (e *env) mustFingerHit() *huella.Hit {
	e.t.Helper()
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	ctx = huella.NewContextWithActor(ctx, e.users["supervisor"])
	list := &huella.Watchlist{Name: "Órdenes de captura (huellas)", Owner: "PROGRAM", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := e.store.CreateWatchlist(ctx, list); err != nil {
		e.t.Fatal(err)
	}
	if e.enroller.Identifier == nil {
		x, err := newIdentifier(e.store)
		if err != nil {
			e.t.Fatal(err)
		}
		e.enroller.Identifier = x
	}
	entry := &huella.WatchEntry{WatchlistID: list.ID, Reference: "PROG-2026-0031",
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "Carlos", Family: "Méndez"}}, Sex: huella.SexMale}}
	var images [][]byte
	for i, f := range []int{101, 102, 103, 104} {
		entry.Samples = append(entry.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: i + 2, Impression: huella.ImpressionPlain,
			Format: "png", Width: 388, Height: 374, PPI: 500})
		images = append(images, fixture(e.t, fmt.Sprintf("finger-%d_1.png", f)))
	}
	hits, err := e.enroller.AddWatchEntry(ctx, entry, images)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].SubjectID != e.subject {
		e.t.Fatalf("retro search raised %+v, want one hit on subject %s", hits, e.subject)
	}
	return hits[0]
}

// subjectOf returns the subject of the demo person with the given name.
func (e *env) subjectOf(given string) string {
	e.t.Helper()
	list, err := e.store.ListEncounters(context.Background(), huella.EncounterFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, enc := range list {
		for _, n := range enc.Biographics.Names {
			if n.Given == given {
				return enc.SubjectID
			}
		}
	}
	e.t.Fatalf("no demo person named %s", given)
	return ""
}

var hitImage = regexp.MustCompile(`/hits/hit_[0-9A-Z]{26}/images/((?:smp|wsm)_[0-9A-Z]{26})`)

func TestHits(t *testing.T) {
	e := MustOpenEnv(t)
	t.Run("OnTheSubjectPage", func(t *testing.T) {
		h := e.mustCreateHit()
		_, body := e.signIn("supervisor").get("/subjects/" + e.subject)
		if !strings.Contains(body, `id="subject-hits"`) || !strings.Contains(body, "/hits/"+h.ID) || !strings.Contains(body, `id="h-subject-deliveries"`) {
			t.Errorf("the supervisor's subject page does not list the hit %s and the deliveries:\n%s", h.ID, body)
		}
		code, body := e.signIn("oficial.tapachula").get("/subjects/" + e.subject)
		if code != http.StatusOK || strings.Contains(body, `id="h-subject-hits"`) || strings.Contains(body, `id="h-subject-deliveries"`) {
			t.Errorf("an officer's subject page (%d) shows hits or deliveries", code)
		}
	})
	t.Run("Reject", func(t *testing.T) {
		h := e.mustCreateHit()
		b := e.signIn("dictaminador")
		code, body := b.get("/hits")
		if code != http.StatusOK || !strings.Contains(body, "/hits/"+h.ID) || !strings.Contains(body, "a lo sumo 1 persona distinta de cada") {
			t.Fatalf("queue: %d\n%s", code, body)
		}
		code, body = b.get("/hits/" + h.ID)
		if code != http.StatusOK || !strings.Contains(body, "María Fernanda") || !strings.Contains(body, "José Luis") || !strings.Contains(body, `id="decide-submit"`) {
			t.Fatalf("side by side: %d\n%s", code, body)
		}
		images := hitImage.FindAllStringSubmatch(body, -1)
		if len(images) < 4 {
			t.Fatalf("side by side shows %d images, want the probe and the candidate at both places", len(images))
		}
		before := count(e.auditActions(e.users["dictaminador"].ID), huella.ActionSampleRead)
		for _, m := range images {
			if code, _ := b.get(m[0]); code != http.StatusOK {
				t.Errorf("GET %s: %d", m[0], code)
			}
		}
		if got := count(e.auditActions(e.users["dictaminador"].ID), huella.ActionSampleRead); got != before+len(images) {
			t.Errorf("sample.read events: got %d, want %d", got, before+len(images))
		}
		if got := count(e.auditActions(e.users["dictaminador"].ID), huella.ActionHitRead); got < 2 {
			t.Errorf("hit.read events: got %d, want 2 or more", got)
		}
		code, body = b.post("/hits/"+h.ID, url.Values{"decision": {"rejected"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "Escriba el motivo") {
			t.Fatalf("decide without a reason: %d\n%s", code, body)
		}
		code, body = b.post("/hits/"+h.ID, url.Values{"decision": {"rejected"}, "reason": {"minucias distintas en el índice derecho"}})
		if code != http.StatusOK || !strings.Contains(body, `id="decided"`) || !strings.Contains(body, "descartada: no cambia nada") {
			t.Fatalf("decide: %d\n%s", code, body)
		}
		got, err := e.store.FindHit(context.Background(), h.ID)
		if err != nil || got.State != huella.HitRejected || got.Examiner != e.users["dictaminador"].ID {
			t.Fatalf("hit after the decision: %+v, %v", got, err)
		}
		code, body = b.post("/hits/"+h.ID, url.Values{"decision": {"confirmed"}, "reason": {"otra vez"}})
		if code != http.StatusConflict || !strings.Contains(body, "La coincidencia ya fue descartada.") {
			t.Errorf("deciding twice: got %d, want 409 and the hit's state in Spanish\n%s", code, body)
		}
	})
	t.Run("ConfirmMerges", func(t *testing.T) {
		h := e.mustCreateHit()
		b := e.signIn("dictaminador")
		b.get("/hits/" + h.ID)
		code, body := b.post("/hits/"+h.ID, url.Values{"decision": {"confirmed"}, "reason": {"mismo iris derecho"}})
		if code != http.StatusOK || !strings.Contains(body, "quedan fusionados") {
			t.Fatalf("confirm: %d\n%s", code, body)
		}
		sub, err := e.store.FindSubject(context.Background(), h.SubjectID)
		if err != nil || sub.MergedInto != e.subject {
			t.Fatalf("probe subject after the confirmation: %+v, %v", sub, err)
		}
	})
	t.Run("SupervisorReadsOnly", func(t *testing.T) {
		h := e.mustCreateHit()
		b := e.signIn("supervisor")
		code, body := b.get("/hits/" + h.ID)
		if code != http.StatusOK || strings.Contains(body, `id="decide-submit"`) {
			t.Fatalf("supervisor's view: %d", code)
		}
		if code, _ := b.post("/hits/"+h.ID, url.Values{"decision": {"rejected"}, "reason": {"x"}}); code != http.StatusForbidden {
			t.Fatalf("supervisor decides: got %d, want 403", code)
		}
	})
	t.Run("ErrOfficer", func(t *testing.T) {
		if code, _ := e.signIn("oficial.tapachula").get("/hits"); code != http.StatusForbidden {
			t.Fatalf("officer opens the queue: got %d, want 403", code)
		}
	})
}

// TestHitMinutiae opens fingerprint hits side by side and finds the
// minutiae drawn over both prints, the pairs numbered alike and linked.
func TestHitMinutiae(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := MustOpenEnv(t)
	h := e.mustFingerHit()
	b := e.signIn("dictaminador")
	code, body := b.get("/hits/" + h.ID)
	if code != http.StatusOK {
		t.Fatalf("side by side: %d\n%s", code, body)
	}
	// The four fingers of the same person: each drawn over both
	// prints, with many pairs numbered alike and linked.
	views := regexp.MustCompile(`(?s)<div class="minutiae-view" id="minutiae-(\d+)">(.*?)</svg>`).FindAllStringSubmatch(body, -1)
	if len(views) != 4 {
		t.Fatalf("%d fingers drawn with their minutiae, want 4\n%s", len(views), body)
	}
	for _, v := range views {
		paired := regexp.MustCompile(`<g class="m paired" data-pair="(\d+)"`).FindAllStringSubmatch(v[2], -1)
		links := strings.Count(v[2], `<line class="link"`)
		if links < 5 || len(paired) != 2*links {
			t.Errorf("finger %s: %d links and %d paired marks, want 5 or more links, each with a mark on both prints", v[1], links, len(paired))
		}
		if n := strings.Count(v[2], `<g class="m"`); n < 10 {
			t.Errorf("finger %s: %d unpaired minutiae drawn, want the rest of the minutiae too", v[1], n)
		}
		if !strings.Contains(v[2], `viewBox="0 0 800 374"`) || strings.Count(v[2], `<image href="/hits/`+h.ID+`/images/`) != 2 {
			t.Errorf("finger %s: want both 388×374 prints in one viewBox of image pixels", v[1])
		}
	}
	for _, want := range []string{`id="minutiae-legend"`, "Terminación de cresta", "Bifurcación", "minucias emparejadas", `role="img"`} {
		if !strings.Contains(body, want) {
			t.Errorf("side by side lacks %q", want)
		}
	}
	// Non-mates (the demo's second person against the first): few pairs.
	other := e.mustCreateHit()
	_, body = b.get("/hits/" + other.ID)
	m := regexp.MustCompile(`(?s)<div class="minutiae-view" id="minutiae-2">(.*?)</svg>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("non-mates: the index finger is not drawn\n%s", body)
	}
	if links := strings.Count(m[1], `<line class="link"`); links > 4 {
		t.Errorf("non-mates: %d pairs linked, want 4 or fewer", links)
	}
}

// BenchmarkHitMinutiae renders a fingerprint hit side by side: four
// fingers on each side, their stored templates compared minutia by minutia
// and drawn, with the audited read of the hit.
func BenchmarkHitMinutiae(b *testing.B) {
	e := mustOpen(b)
	h := e.handler(false)
	hit := e.mustFingerHit()
	s := mustSignInRecorder(b, e, h, "dictaminador")
	for b.Loop() {
		req := httptest.NewRequest("GET", "https://console.test/hits/"+hit.ID, nil)
		req.AddCookie(s.session)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="minutiae-5"`) {
			b.Fatalf("GET /hits/%s: %d", hit.ID, rec.Code)
		}
	}
}

// TestHitAcrossSites: an examiner of one site compares a candidate's
// images from another site while the hit is pending, but never sees the
// names given there, and no longer gets those images once it is decided.
func TestHitAcrossSites(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	token := hhttp.NewToken()
	examiner := &huella.User{Name: "dictaminador.tap", Role: huella.RoleExaminer, Sites: []string{"MX-TAP"}, TokenHash: huella.HashToken(token)}
	if err := e.store.CreateUser(ctx, examiner); err != nil {
		t.Fatal(err)
	}
	e.tokens[examiner.Name], e.users[examiner.Name] = token, examiner
	h := e.mustCreateHit() // probe at MX-TAP; the candidate was seen at MX-TAP and MX-CDMX
	sub, err := e.store.FindSubject(ctx, e.subject)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := map[string]bool{} // the candidate's samples taken at MX-CDMX
	for _, enc := range sub.Encounters {
		for _, smp := range enc.Samples {
			elsewhere[smp.ID] = enc.SiteCode == "MX-CDMX"
		}
	}
	b := e.signIn(examiner.Name)
	code, body := b.get("/hits/" + h.ID)
	if code != http.StatusOK || !strings.Contains(body, "Carlos Alberto") {
		t.Fatalf("side by side: %d\n%s", code, body)
	}
	if strings.Contains(body, "José Luis") || strings.Contains(body, "Ramírez") {
		t.Errorf("the page shows the names given at MX-CDMX to an examiner of MX-TAP")
	}
	var images []string
	for _, m := range hitImage.FindAllStringSubmatch(body, -1) {
		if elsewhere[m[1]] {
			images = append(images, m[0])
		}
	}
	if len(images) == 0 {
		t.Fatalf("no image of the candidate's MX-CDMX encounter to compare:\n%s", body)
	}
	for _, img := range images {
		if code, _ := b.get(img); code != http.StatusOK {
			t.Errorf("GET %s while pending: %d, want 200", img, code)
		}
	}
	if code, body := b.post("/hits/"+h.ID, url.Values{"decision": {"rejected"}, "reason": {"iris distinto"}}); code != http.StatusOK {
		t.Fatalf("decide: %d\n%s", code, body)
	}
	for _, img := range images {
		if code, _ := b.get(img); code == http.StatusOK {
			t.Errorf("GET %s after the decision: 200, want a refusal", img)
		}
	}
}

// TestHitTwoPersonRule: under the two-person rule the console records an
// examiner's confirmation and acts only on a second examiner's: it decides
// through the adjudication service, never around it.
func TestHitTwoPersonRule(t *testing.T) {
	e := MustOpenEnv(t)
	e.adjudicate.TwoPersonRule = true
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	token := hhttp.NewToken()
	second := &huella.User{Name: "dictaminador.2", Role: huella.RoleExaminer, Sites: []string{"MX-TAP", "MX-CDMX"}, TokenHash: huella.HashToken(token)}
	if err := e.store.CreateUser(ctx, second); err != nil {
		t.Fatal(err)
	}
	e.tokens[second.Name], e.users[second.Name] = token, second
	h := e.mustCreateHit()

	first := e.signIn("dictaminador")
	first.get("/hits/" + h.ID)
	code, body := first.post("/hits/"+h.ID, url.Values{"decision": {"confirmed"}, "reason": {"mismo iris derecho"}})
	if code != http.StatusOK || !strings.Contains(body, `id="decided"`) || !strings.Contains(body, "primera confirmación registrada") {
		t.Fatalf("first confirmation: %d\n%s", code, body)
	}
	got, err := e.store.FindHit(ctx, h.ID)
	if err != nil || got.State != huella.HitPending || got.FirstExaminer != e.users["dictaminador"].ID {
		t.Fatalf("hit after one confirmation: %+v, %v; want pending, first examiner recorded", got, err)
	}
	if sub, err := e.store.FindSubject(ctx, h.SubjectID); err != nil || sub.MergedInto != "" {
		t.Fatalf("one confirmation merged the subjects: %+v, %v", sub, err)
	}
	first.get("/hits/" + h.ID)
	if code, _ := first.post("/hits/"+h.ID, url.Values{"decision": {"confirmed"}, "reason": {"otra vez"}}); code != http.StatusForbidden {
		t.Errorf("the same examiner confirms twice: got %d, want 403", code)
	}

	other := e.signIn(second.Name)
	code, body = other.get("/hits/" + h.ID)
	if code != http.StatusOK || !strings.Contains(body, `id="first-confirmation"`) {
		t.Fatalf("the second examiner's view does not say the hit was confirmed once: %d\n%s", code, body)
	}
	code, body = other.post("/hits/"+h.ID, url.Values{"decision": {"confirmed"}, "reason": {"coinciden iris y huellas"}})
	if code != http.StatusOK || !strings.Contains(body, "quedan fusionados") {
		t.Fatalf("second confirmation: %d\n%s", code, body)
	}
	if sub, err := e.store.FindSubject(ctx, h.SubjectID); err != nil || sub.MergedInto != e.subject {
		t.Fatalf("probe subject after two confirmations: %+v, %v; want merged into %s", sub, err, e.subject)
	}
}
