package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/enroll"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/sqlite"
)

// claimJSON is encounterJSON at site claiming the subject.
func claimJSON(site, subject string) string {
	return strings.Replace(encounterJSON(site), `"site"`, `"subject_id": "`+subject+`", "site"`, 1)
}

// TestClaimedSubject: a subject_id given with an encounter is a claim. It
// links only when the biometrics verify it at the auto-link threshold;
// otherwise an examiner decides, and the caller may read no more than
// before.
func TestClaimedSubject(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := adminContext()
	claimed := e.enrolls["MX-CDMX"] // seen only at MX-CDMX: one right index
	t.Run("UnrelatedFingerGoesToReview", func(t *testing.T) {
		got := decode[huella.Encounter](t)(e.enroll("officer", claimJSON("MX-TAP", claimed.SubjectID), fingerImage(t, "finger-105_1.png")))
		id := got.Identification
		if got.SubjectID == claimed.SubjectID || id == nil || id.Decision != huella.DecisionReview {
			t.Fatalf("claim with another person's finger: subject %s (claimed %s), %+v; want a new subject and review", got.SubjectID, claimed.SubjectID, id)
		}
		var hit *huella.Hit
		for _, h := range id.Hits {
			if h.Kind == huella.HitDuplicate && h.CandidateSubjectID == claimed.SubjectID {
				hit = h
			}
		}
		if hit == nil || hit.State != huella.HitPending || hit.ID == "" {
			t.Fatalf("no pending duplicate hit on the claimed subject in %+v", id.Hits)
		}
		if c := hit.Candidate; c == nil || len(c.Scores) != 0 || c.LLR != 0 {
			t.Errorf("the answer gives the score of a subject the officer may not read: %+v", c)
		}
		stored, err := e.store.FindHit(ctx, hit.ID)
		if err != nil || stored.Candidate == nil || len(stored.Candidate.Scores) != 1 {
			t.Fatalf("the stored hit has no comparison for the examiner: %+v, %v", stored, err)
		}
		sub, err := e.store.FindSubject(ctx, claimed.SubjectID)
		if err != nil || len(sub.Encounters) != 1 {
			t.Fatalf("the claimed subject has %d encounters (%v), want its own one only", len(sub.Encounters), err)
		}
		if resp, body := e.do("officer", "GET", "/v1/subjects/"+claimed.SubjectID, nil, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("after the claim the officer reads the subject: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrNothingToCompare", func(t *testing.T) {
		before := e.snapshot()
		iris := fingerImage(t, "iris-001R01.jpg")
		enc := strings.Replace(claimJSON("MX-TAP", claimed.SubjectID),
			`{"image": "f2", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}`, `{"image": "f2", "modality": "iris", "eye": "right"}`, 1)
		resp, body := e.enroll("officer", enc, iris)
		checkError(t, resp, body, huella.EUNPROCESSABLE)
		if after := e.snapshot(); after != before {
			t.Errorf("a refused claim stored something: %+v -> %+v", before, after)
		}
	})
}

// TestVerifyAcrossSites: /v1/verify gives no score and no subject ID for
// a subject the caller may not read.
func TestVerifyAcrossSites(t *testing.T) {
	e := MustOpenEnv(t)
	probe := `{"subject_id":"` + e.enrolls["MX-CDMX"].SubjectID + `","samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`
	body, ct := multipartPart(t, "probe", probe, fingerImage(t, "finger-101_1.png"))
	resp, got := e.do("officer", "POST", "/v1/verify", body, ct)
	checkError(t, resp, got, huella.EFORBIDDEN)
	if bytes.Contains(got, []byte("llr")) || bytes.Contains(got, []byte(e.enrolls["MX-CDMX"].SubjectID)) {
		t.Errorf("the refusal tells about the subject: %s", got)
	}
}

// TestHitViewAcrossSites: an examiner compares the biometrics of a
// candidate seen only at another site, but sees none of its biographics,
// and once the hit is decided no longer its images.
func TestHitViewAcrossSites(t *testing.T) {
	e := MustOpenEnv(t)
	h := e.newHit("MX-TAP") // probe at MX-TAP, candidate seen only at MX-CDMX
	type view struct {
		Hit     huella.Hit
		Probe   huella.Encounter
		Subject *huella.Subject `json:"candidate_subject"`
	}
	read := func(user string) (view, []byte) {
		t.Helper()
		resp, body := e.do(user, "GET", "/v1/hits/"+h.ID, nil, "")
		return decode[view](t)(resp, body), body
	}
	v, body := read("examiner")
	for _, word := range testNames {
		if n := bytes.Count(body, []byte(word)); n != 1 {
			t.Errorf("%q appears %d times, want once (the probe's)", word, n)
		}
	}
	if v.Subject == nil || len(v.Subject.Encounters) != 1 {
		t.Fatalf("candidate: %+v", v.Subject)
	}
	cand := v.Subject.Encounters[0]
	if cand.SiteCode != "MX-CDMX" || cand.CapturedAt.IsZero() || len(cand.Biographics.Names) != 0 || cand.Officer != "" {
		t.Errorf("the other site's encounter shows more than when, where and why: %+v", cand)
	}
	if len(cand.Samples) != 1 || cand.Samples[0].ID != e.enrolls["MX-CDMX"].Samples[0].ID {
		t.Errorf("the examiner cannot compare the candidate's finger: %+v", cand.Samples)
	}
	// The candidate's image, taken at MX-CDMX, is there to compare.
	image := "/v1/hits/" + h.ID + "/images/" + e.enrolls["MX-CDMX"].Samples[0].ID
	if resp, body := e.do("examiner", "GET", image, nil, ""); resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("\x89PNG")) {
		t.Errorf("GET %s while pending: %d, want the PNG", image, resp.StatusCode)
	}
	if resp, _ := e.do("examiner", "GET", "/v1/samples/"+e.enrolls["MX-CDMX"].Samples[0].ID+"/image", nil, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the same image outside the hit: %d, want 403", resp.StatusCode)
	}
	if _, body := read("supervisor"); bytes.Count(body, []byte("Xochitl")) != 2 {
		t.Errorf("the supervisor does not see both records")
	}
	resp, b := e.do("examiner", "POST", "/v1/hits/"+h.ID+"/decision", strings.NewReader(`{"state":"rejected","reason":"different ridge flow"}`), "application/json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decide: %d %s", resp.StatusCode, b)
	}
	if v, _ := read("examiner"); len(v.Subject.Encounters[0].Samples) != 0 {
		t.Errorf("after the decision the examiner still gets the other site's samples: %+v", v.Subject.Encounters[0].Samples)
	}
	if resp, _ := e.do("examiner", "GET", image, nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s after the decision: %d, want 404", image, resp.StatusCode)
	}
}

// doWith is e.do with extra request headers.
func (e *env) doWith(url, user, method, path string, body io.Reader, contentType string, header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// TestIdempotencyKey: a retried enrollment (same Idempotency-Key, same
// content) gets the first answer and stores nothing more, even after a
// restart; the key with other content is a 409.
func TestIdempotencyKey(t *testing.T) {
	e := MustOpenEnv(t)
	key := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
	encounter := encounterJSON("MX-TAP") // one capture time for every retry
	enrollWith := func(url, user, k, enc string, img part) (*http.Response, []byte) {
		t.Helper()
		body, ct := multipartBody(t, enc, img)
		return e.doWith(url, user, "POST", "/v1/encounters", body, ct, key(k))
	}
	var first []byte
	t.Run("Replay", func(t *testing.T) {
		before := e.snapshot()
		resp, body := enrollWith(e.srv.URL, "officer", "retry-1", encounter, fingerImage(t, "finger-103_1.png"))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("first: %d %s", resp.StatusCode, body)
		}
		first = body
		resp, body = enrollWith(e.srv.URL, "officer", "retry-1", encounter, fingerImage(t, "finger-103_1.png"))
		if resp.StatusCode != http.StatusCreated || !bytes.Equal(body, first) {
			t.Fatalf("retry: %d\n%s\nwant the first answer\n%s", resp.StatusCode, body, first)
		}
		if after := e.snapshot(); after.encounters != before.encounters+1 {
			t.Errorf("encounters: %d -> %d, want one more", before.encounters, after.encounters)
		}
	})
	t.Run("AtOnce", func(t *testing.T) {
		// Retries racing each other: one encounter, every answer names it.
		before := e.snapshot()
		img := fingerImage(t, "finger-102_1.png")
		const n = 4
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			body, ct := multipartBody(t, encounter, img)
			req, _ := http.NewRequest("POST", e.srv.URL+"/v1/encounters", body)
			req.Header.Set("Authorization", "Bearer "+e.tokens["officer"])
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Idempotency-Key", "at-once")
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				var got huella.Encounter
				if resp.StatusCode == http.StatusCreated && json.NewDecoder(resp.Body).Decode(&got) == nil {
					ids[i] = got.ID
				}
			}()
		}
		wg.Wait()
		for i := range ids {
			if ids[i] == "" || ids[i] != ids[0] {
				t.Fatalf("answers name encounters %v, want one and the same", ids)
			}
		}
		if after := e.snapshot(); after.encounters != before.encounters+1 {
			t.Errorf("encounters: %d -> %d, want one more", before.encounters, after.encounters)
		}
	})
	t.Run("ErrDifferentRequest", func(t *testing.T) {
		before := e.snapshot()
		resp, body := enrollWith(e.srv.URL, "officer", "retry-1", encounter, fingerImage(t, "finger-104_1.png"))
		checkError(t, resp, body, huella.ECONFLICT)
		if after := e.snapshot(); after != before {
			t.Errorf("a refused retry stored something: %+v -> %+v", before, after)
		}
	})
	t.Run("PerOfficer", func(t *testing.T) {
		resp, body := enrollWith(e.srv.URL, "officer-cdmx", "retry-1", encounterJSON("MX-CDMX"), fingerImage(t, "finger-103_1.png"))
		if resp.StatusCode != http.StatusCreated || bytes.Equal(body, first) {
			t.Fatalf("another officer's key: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("AcrossRestart", func(t *testing.T) {
		store, err := sqlite.Open(filepath.Join(e.dir, "huella.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		k, err := blob.LoadOrCreateKey(filepath.Join(e.dir, "keys", "data.key"))
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := blob.NewFileStore(filepath.Join(e.dir, "blobs"), k)
		if err != nil {
			t.Fatal(err)
		}
		enroller := enroll.NewService(store, blobs)
		enroller.Identifier = mustIdentifier(t, store)
		srv := httptest.NewServer(hhttp.NewServer(store, blobs, enroller, slog.New(slog.DiscardHandler)).Handler())
		defer srv.Close()
		before := e.snapshot()
		resp, body := enrollWith(srv.URL, "officer", "retry-1", encounter, fingerImage(t, "finger-103_1.png"))
		var got, want huella.Encounter
		json.Unmarshal(body, &got)
		json.Unmarshal(first, &want)
		if resp.StatusCode != http.StatusCreated || got.ID == "" || got.ID != want.ID {
			t.Fatalf("retry after a restart: %d, encounter %s, want %s", resp.StatusCode, got.ID, want.ID)
		}
		if after := e.snapshot(); after != before {
			t.Errorf("the retry after a restart stored something: %+v -> %+v", before, after)
		}
	})
	t.Run("Import", func(t *testing.T) {
		file := nistFile(t)
		post := func(site string) (*http.Response, []byte) {
			return e.doWith(e.srv.URL, "officer", "POST", "/v1/import?site="+site, bytes.NewReader(file), "application/octet-stream", key("import-7"))
		}
		before := e.snapshot()
		resp, body := post("MX-TAP")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("import: %d %s", resp.StatusCode, body)
		}
		resp, again := post("MX-TAP")
		if resp.StatusCode != http.StatusCreated || !bytes.Equal(again, body) {
			t.Fatalf("retried import: %d\n%s\nwant\n%s", resp.StatusCode, again, body)
		}
		if after := e.snapshot(); after.encounters != before.encounters+1 {
			t.Errorf("encounters: %d -> %d, want one more", before.encounters, after.encounters)
		}
		resp, body = e.doWith(e.srv.URL, "officer", "POST", "/v1/import?site=MX-TAP&reason=transfer", bytes.NewReader(file), "application/octet-stream", key("import-7"))
		checkError(t, resp, body, huella.ECONFLICT)
	})
	t.Run("Documented", func(t *testing.T) {
		_, body := e.do("", "GET", "/openapi.json", nil, "")
		var doc struct {
			Paths map[string]map[string]struct {
				Parameters []struct{ Name, In string }
			}
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/v1/encounters", "/v1/import"} {
			found := false
			for _, p := range doc.Paths[path]["post"].Parameters {
				found = found || (p.Name == "Idempotency-Key" && p.In == "header")
			}
			if !found {
				t.Errorf("POST %s does not document the Idempotency-Key header", path)
			}
		}
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		for _, k := range []string{strings.Repeat("k", huella.MaxIdempotencyKey+1), "tab\there"} {
			resp, body := enrollWith(e.srv.URL, "officer", k, encounter, fingerImage(t, "finger-103_1.png"))
			checkError(t, resp, body, huella.EINVALID)
		}
	})
}
