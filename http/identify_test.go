package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/storetest"
)

// personA is the demo fixtures' first person: four fingers and both irises
// at two impressions.
func personA(tb testing.TB, impression int) (samples string, images []part) {
	tb.Helper()
	var list []string
	for i, f := range []int{101, 102, 103, 104} {
		name := fmt.Sprintf("f%d", i+2)
		list = append(list, fmt.Sprintf(`{"image":%q,"modality":"finger","position":%d,"impression":"plain","ppi":500}`, name, i+2))
		p := fingerImage(tb, fmt.Sprintf("finger-%d_%d.png", f, impression))
		p.name = name
		images = append(images, p)
	}
	for _, eye := range []struct{ name, side, letter string }{{"ir", "right", "R"}, {"il", "left", "L"}} {
		list = append(list, fmt.Sprintf(`{"image":%q,"modality":"iris","eye":%q}`, eye.name, eye.side))
		p := fingerImage(tb, fmt.Sprintf("iris-001%s0%d.jpg", eye.letter, impression))
		p.name = eye.name
		images = append(images, p)
	}
	return "[" + strings.Join(list, ",") + "]", images
}

func encounterWith(site, samples string) string {
	return fmt.Sprintf(`{"site":%q,"captured_at":%q,"reason":"detention","criminal_history":{"status":"none"},
		"biographics":{"names":[{"given":"Xochitl","family":"Quetzalli-Ramos"}],"sex":"F"},"samples":%s}`,
		site, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), samples)
}

// decode returns a function that checks a response succeeded and decodes
// its body: decode[T](t)(e.do(...)).
func decode[T any](tb testing.TB) func(*http.Response, []byte) T {
	return func(resp *http.Response, body []byte) T {
		tb.Helper()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			tb.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// newWatchEntry stores an entry on the watchlist, without going through
// the engines, and returns its ID.
func (e *env) newWatchEntry(listID string) string {
	e.t.Helper()
	smp := storetest.Encounter("MX-TAP", time.Now()).Samples[0]
	entry := &huella.WatchEntry{WatchlistID: listID, Reference: fmt.Sprintf("CASE-%d", e.next()), Samples: []*huella.Sample{smp}}
	if err := e.store.CreateWatchEntry(adminContext(), entry); err != nil {
		e.t.Fatal(err)
	}
	return entry.ID
}

func TestIdentification(t *testing.T) {
	e := MustOpenEnv(t)
	samples1, images1 := personA(t, 1)
	samples2, images2 := personA(t, 2)
	first := decode[huella.Encounter](t)(e.enroll("officer", encounterWith("MX-TAP", samples1), images1...))
	if first.Identification == nil || first.Identification.Decision != huella.DecisionNewSubject {
		t.Fatalf("first encounter: %+v", first.Identification)
	}
	t.Run("RepeatIsLinked", func(t *testing.T) {
		again := decode[huella.Encounter](t)(e.enroll("officer-cdmx", encounterWith("MX-CDMX", samples2), images2...))
		id := again.Identification
		if id.Decision != huella.DecisionLinked || again.SubjectID != first.SubjectID {
			t.Fatalf("repeat: decision %s, subject %s; want linked to %s (%+v)", id.Decision, again.SubjectID, first.SubjectID, id.Candidates)
		}
		if c := id.Candidates[0]; c.FMR > 1e-6 || len(c.Scores) != 6 {
			t.Errorf("link evidence %+v: want FMR <= 1e-6 from 6 comparisons", c)
		}
	})
	t.Run("IdentifyWithoutEnrolling", func(t *testing.T) {
		before := e.snapshot()
		body, ct := multipartPart(t, "probe", `{"samples":`+samples2+`}`, images2...)
		id := decode[huella.Identification](t)(e.do("examiner", "POST", "/v1/identify", body, ct))
		if len(id.Candidates) == 0 || id.Candidates[0].SubjectID != first.SubjectID {
			t.Fatalf("identify: %+v", id.Candidates)
		}
		if after := e.snapshot(); after != before {
			t.Errorf("identify stored something: %+v -> %+v", before, after)
		}
	})
	t.Run("Verify", func(t *testing.T) {
		probe := fmt.Sprintf(`{"subject_id":%q,"samples":%s}`, first.SubjectID, samples2)
		body, ct := multipartPart(t, "probe", probe, images2...)
		v := decode[struct{ Match bool }](t)(e.do("officer", "POST", "/v1/verify", body, ct))
		if !v.Match {
			t.Error("the same person does not verify")
		}
		probe = fmt.Sprintf(`{"subject_id":%q,"samples":%s}`, e.enrolls["MX-CDMX"].SubjectID, samples2)
		body, ct = multipartPart(t, "probe", probe, images2...)
		if v := decode[struct{ Match bool }](t)(e.do("officer-cdmx", "POST", "/v1/verify", body, ct)); v.Match {
			t.Error("another person verifies")
		}
	})
	t.Run("WatchlistRetroSearchAndDecision", func(t *testing.T) {
		entry := `{"reference":"CBP-2026-0042","biographics":{"names":[{"family":"Doe"}],"sex":"U"},"samples":` + samples1 + `}`
		body, ct := multipartPart(t, "entry", entry, images1...)
		got := decode[struct {
			Entry huella.WatchEntry
			Hits  []huella.Hit
		}](t)(e.do("partner", "POST", "/v1/watchlists/"+e.lists[0].ID+"/entries", body, ct))
		if len(got.Hits) != 1 || got.Hits[0].Kind != huella.HitWatchlist || got.Hits[0].SubjectID != first.SubjectID {
			t.Fatalf("retro search hits = %+v, want one on subject %s", got.Hits, first.SubjectID)
		}
		hit := got.Hits[0]
		// The hit is on the subject's latest encounter, at MX-CDMX: the
		// MX-TAP examiner cannot decide it, a supervisor cannot decide at all.
		resp, b := e.do("examiner", "POST", "/v1/hits/"+hit.ID+"/decision", strings.NewReader(`{"state":"confirmed","reason":"ten points"}`), "application/json")
		checkError(t, resp, b, huella.EFORBIDDEN)
		e.addUser("examiner-cdmx", huella.RoleExaminer, "MX-CDMX")
		view := decode[struct {
			Hit        huella.Hit
			Probe      huella.Encounter
			WatchEntry *huella.WatchEntry `json:"candidate_watch_entry"`
			Fingers    []adjudicate.FingerComparison
		}](t)(e.do("examiner-cdmx", "GET", "/v1/hits/"+hit.ID, nil, ""))
		if view.Probe.ID != hit.EncounterID || view.WatchEntry == nil || view.WatchEntry.Reference != "CBP-2026-0042" {
			t.Fatalf("side-by-side view: %+v", view)
		}
		checkFingers(t, view.Fingers, view.Probe.Samples, view.WatchEntry.Samples)
		decided := decode[huella.Hit](t)(e.do("examiner-cdmx", "POST", "/v1/hits/"+hit.ID+"/decision",
			strings.NewReader(`{"state":"confirmed","reason":"fingers and irises agree"}`), "application/json"))
		if decided.State != huella.HitConfirmed || decided.Examiner != e.users["examiner-cdmx"].ID {
			t.Errorf("decided = %+v", decided)
		}
		resp, b = e.do("examiner-cdmx", "POST", "/v1/hits/"+hit.ID+"/decision", strings.NewReader(`{"state":"rejected","reason":"second thoughts"}`), "application/json")
		checkError(t, resp, b, huella.ECONFLICT)
		// The next enrollment of the same person raises a watchlist hit.
		enc := decode[huella.Encounter](t)(e.enroll("officer", encounterWith("MX-TAP", samples2), images2...))
		var watch int
		for _, h := range enc.Identification.Hits {
			if h.Kind == huella.HitWatchlist && h.WatchEntryID == got.Entry.ID {
				watch++
			}
		}
		if watch != 1 {
			t.Errorf("enrollment after listing raised %d watchlist hits, want 1: %+v", watch, enc.Identification.Hits)
		}
	})
	t.Run("RemoveWatchEntry", func(t *testing.T) {
		// The watchlist hit of the last enrollment is still pending.
		queue := decode[[]huella.Hit](t)(e.do("supervisor", "GET", "/v1/hits?kind=watchlist&state=pending", nil, ""))
		if len(queue) != 1 {
			t.Fatalf("pending watchlist hits = %+v, want the last enrollment's", queue)
		}
		pending := queue[0]
		path := "/v1/watch-entries/" + pending.WatchEntryID + "/remove"
		remove := func(user, body string) (*http.Response, []byte) {
			return e.do(user, "POST", path, strings.NewReader(body), "application/json")
		}
		resp, b := remove("partner", `{"reason":""}`)
		checkError(t, resp, b, huella.EINVALID)
		resp, b = e.do("partner", "POST", "/v1/watch-entries/wle_nope/remove", strings.NewReader(`{"reason":"withdrawn"}`), "application/json")
		checkError(t, resp, b, huella.ENOTFOUND)
		resp, b = remove("partner", `{"reason":"withdrawn","extra":1}`)
		checkError(t, resp, b, huella.EINVALID)

		got := decode[huella.WatchEntry](t)(remove("partner", `{"reason":"notice withdrawn: arrested in Guatemala"}`))
		if !got.Removed() || got.RemovedBy != e.users["partner"].ID || got.RemovalReason != "notice withdrawn: arrested in Guatemala" {
			t.Errorf("removed entry = %+v", got)
		}
		withdrawn := decode[struct{ Hit huella.Hit }](t)(e.do("supervisor", "GET", "/v1/hits/"+pending.ID, nil, ""))
		if withdrawn.Hit.State != huella.HitWithdrawn {
			t.Errorf("pending hit after the removal: state %s, want withdrawn", withdrawn.Hit.State)
		}
		resp, b = remove("partner", `{"reason":"again"}`)
		checkError(t, resp, b, huella.ECONFLICT)
		// The list still holds the entry, marked removed, for the record.
		entries := decode[[]huella.WatchEntry](t)(e.do("partner", "GET", "/v1/watchlists/"+pending.WatchlistID+"/entries", nil, ""))
		found := false
		for _, en := range entries {
			if en.ID == pending.WatchEntryID {
				found = en.Removed() && en.RemovalReason == "notice withdrawn: arrested in Guatemala"
			}
		}
		if !found {
			t.Errorf("the list's entries %+v do not show %s removed", entries, pending.WatchEntryID)
		}
		// The next enrollment of the same person raises no watchlist hit.
		enc := decode[huella.Encounter](t)(e.enroll("officer", encounterWith("MX-TAP", samples2), images2...))
		for _, h := range enc.Identification.Hits {
			if h.Kind == huella.HitWatchlist {
				t.Errorf("enrollment after the removal raised a watchlist hit: %+v", h)
			}
		}
	})
}

// checkFingers checks the minutiae of a hit's view of the same person's
// four fingers: each position on both sides, drawn from the samples shown,
// with many pairs between them.
func checkFingers(t *testing.T, fingers []adjudicate.FingerComparison, probe, candidate []*huella.Sample) {
	t.Helper()
	sampleAt := func(list []*huella.Sample, id string) int {
		for _, s := range list {
			if s.ID == id && s.Modality == huella.ModalityFinger {
				return s.Position
			}
		}
		return -1
	}
	if len(fingers) != 4 {
		t.Fatalf("side by side: %d fingers compared minutia by minutia, want 4", len(fingers))
	}
	for _, f := range fingers {
		if sampleAt(probe, f.Probe.SampleID) != f.Position || sampleAt(candidate, f.Candidate.SampleID) != f.Position {
			t.Errorf("finger %d: samples %s and %s are not that finger's", f.Position, f.Probe.SampleID, f.Candidate.SampleID)
		}
		if f.Probe.Width == 0 || f.Candidate.Height == 0 || len(f.Probe.Minutiae) < 10 || len(f.Candidate.Minutiae) < 10 {
			t.Errorf("finger %d: %dx%d with %d minutiae against %dx%d with %d", f.Position, f.Probe.Width, f.Probe.Height,
				len(f.Probe.Minutiae), f.Candidate.Width, f.Candidate.Height, len(f.Candidate.Minutiae))
		}
		if len(f.Pairs) < 5 || f.Score < 0.05 {
			t.Errorf("finger %d: score %.3f with %d pairs, want a mate's (>= 5 pairs)", f.Position, f.Score, len(f.Pairs))
		}
		for _, p := range f.Pairs {
			if p.Probe < 0 || p.Probe >= len(f.Probe.Minutiae) || p.Candidate < 0 || p.Candidate >= len(f.Candidate.Minutiae) {
				t.Errorf("finger %d: pair %+v out of range", f.Position, p)
			}
		}
		for _, m := range append(f.Probe.Minutiae, f.Candidate.Minutiae...) {
			if m.Type != "ending" && m.Type != "bifurcation" {
				t.Errorf("finger %d: minutia type %q", f.Position, m.Type)
			}
		}
	}
}

func TestIdentificationBadInput(t *testing.T) {
	e := MustOpenEnv(t)
	blank := image.NewGray(image.Rect(0, 0, 400, 400))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	var buf bytes.Buffer
	png.Encode(&buf, blank)
	one := `{"samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`
	t.Run("ErrNoUsableSample", func(t *testing.T) {
		body, ct := multipartPart(t, "probe", one, part{name: "f2", data: buf.Bytes()})
		resp, b := e.do("officer", "POST", "/v1/identify", body, ct)
		checkError(t, resp, b, huella.EUNPROCESSABLE)
	})
	t.Run("ErrNoSamples", func(t *testing.T) {
		body, ct := multipartPart(t, "probe", `{"samples":[]}`)
		resp, b := e.do("officer", "POST", "/v1/identify", body, ct)
		checkError(t, resp, b, huella.EINVALID)
	})
	t.Run("ErrVerifyWithoutSubject", func(t *testing.T) {
		body, ct := multipartPart(t, "probe", one, fingerImage(t, "finger-101_1.png"))
		resp, b := e.do("officer", "POST", "/v1/verify", body, ct)
		checkError(t, resp, b, huella.EINVALID)
	})
	t.Run("ErrWatchEntryWithoutBiometrics", func(t *testing.T) {
		before := e.snapshot()
		body, ct := multipartPart(t, "entry", `{"reference":"X-1","samples":[]}`)
		resp, b := e.do("supervisor", "POST", "/v1/watchlists/"+e.lists[1].ID+"/entries", body, ct)
		checkError(t, resp, b, huella.EINVALID)
		if after := e.snapshot(); after != before {
			t.Errorf("store changed: %+v -> %+v", before, after)
		}
	})
	t.Run("ErrDecisionWithoutReason", func(t *testing.T) {
		h := e.newHit("MX-TAP")
		resp, b := e.do("examiner", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(`{"state":"confirmed"}`), "application/json")
		checkError(t, resp, b, huella.EINVALID)
	})
	t.Run("ErrBadState", func(t *testing.T) {
		h := e.newHit("MX-TAP")
		resp, b := e.do("examiner", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(`{"state":"maybe","reason":"unsure"}`), "application/json")
		checkError(t, resp, b, huella.EINVALID)
	})
}

// TestTwoPersonRule: with the rule on, the first examiner's confirmation
// leaves the hit pending, the same examiner cannot complete it, a second
// examiner does.
func TestTwoPersonRule(t *testing.T) {
	e := MustOpenEnv(t)
	e.api.Adjudicate.TwoPersonRule = true
	e.addUser("examiner-2", huella.RoleExaminer, "MX-TAP")
	h := e.newHit("MX-TAP")
	confirm := `{"state":"confirmed","reason":"same ridge flow and minutiae"}`
	first := decode[huella.Hit](t)(e.do("examiner", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(confirm), "application/json"))
	if first.State != huella.HitPending || first.FirstExaminer != e.users["examiner"].ID {
		t.Fatalf("after the first confirmation: %+v", first)
	}
	resp, body := e.do("examiner", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(confirm), "application/json")
	checkError(t, resp, body, huella.EFORBIDDEN)
	second := decode[huella.Hit](t)(e.do("examiner-2", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(confirm), "application/json"))
	if second.State != huella.HitConfirmed || second.Examiner != e.users["examiner-2"].ID {
		t.Fatalf("after the second confirmation: %+v", second)
	}
}
