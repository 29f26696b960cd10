package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
)

// newSubject stores an encounter of a new subject at the site straight in
// the store (its image reference names no blob) and returns the subject.
func (e *env) newSubject(site string) string {
	e.t.Helper()
	enc := &huella.Encounter{SiteCode: site, CapturedAt: time.Now().Add(-time.Hour), Officer: "usr_test",
		Reason: huella.ReasonDetention, CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Purpose:     huella.PurposeEnforcement,
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "Xochitl"}}, Sex: huella.SexFemale},
		Samples: []*huella.Sample{{Modality: huella.ModalityFace, Format: "jpeg", Width: 10, Height: 10,
			ImageRef: fmt.Sprintf("%064x", e.next())}}}
	if err := e.store.CreateEncounter(adminContext(), enc); err != nil {
		e.t.Fatal(err)
	}
	return enc.SubjectID
}

// blobFiles returns the names of the blob files on disk.
func (e *env) blobFiles() map[string]bool {
	e.t.Helper()
	names := map[string]bool{}
	filepath.WalkDir(filepath.Join(e.dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() {
			names[d.Name()] = true
		}
		return nil
	})
	return names
}

// TestPurgeSubject: a supervisor purges a person enrolled through the API;
// the subject, its encounter, its images and its report answer 404, its
// pending hit leaves the queue, a probe no longer finds it, its image files
// are gone, and the audit chain still verifies with one purge event that
// names no one.
func TestPurgeSubject(t *testing.T) {
	e := MustOpenEnv(t)
	resp, body := e.enroll("officer", encounterJSON("MX-TAP"), fingerImage(t, "finger-106_1.png"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll: %d %s", resp.StatusCode, body)
	}
	var enc huella.Encounter
	if err := json.Unmarshal(body, &enc); err != nil {
		t.Fatal(err)
	}
	if enc.Identification.Decision != huella.DecisionNewSubject {
		t.Fatalf("enrollment decision %s, want a new subject", enc.Identification.Decision)
	}
	sub, smp := enc.SubjectID, enc.Samples[0]
	// A pending hit of the other site's encounter names the subject.
	c := &huella.Candidate{SubjectID: sub, LLR: 8, FMR: 3e-4}
	hit := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: e.enrolls["MX-CDMX"].ID, CandidateSubjectID: sub, Candidate: c}
	if err := e.store.CreateHits(adminContext(), []*huella.Hit{hit}); err != nil {
		t.Fatal(err)
	}
	if !e.blobFiles()[smp.ImageRef] {
		t.Fatalf("the enrolled image %s is not on disk", smp.ImageRef)
	}
	purge := func(user, id, body string) (*http.Response, []byte) {
		return e.do(user, "POST", "/v1/subjects/"+id+"/purge", strings.NewReader(body), "application/json")
	}

	for name, tc := range map[string]struct {
		id, body string
		status   int
	}{
		"ErrNoReason":      {sub, `{}`, http.StatusBadRequest},
		"ErrEmptyReason":   {sub, `{"reason":""}`, http.StatusBadRequest},
		"ErrUnknownReason": {sub, `{"reason":"she asked nicely"}`, http.StatusBadRequest},
		"ErrMalformed":     {sub, `{"reason":`, http.StatusBadRequest},
		"ErrUnknownField":  {sub, `{"reason":"court-order","name":"Xochitl"}`, http.StatusBadRequest},
		"ErrNotFound":      {"sub_00000000000000000000000000", `{"reason":"court-order"}`, http.StatusNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			before := e.snapshot()
			resp, body := purge("supervisor", tc.id, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var er struct{ Message string }
			if json.Unmarshal(body, &er); er.Message == "" {
				t.Errorf("no error message: %s", body)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("a refused purge changed %+v to %+v", before, after)
			}
			if resp, _ := e.do("supervisor", "GET", "/v1/subjects/"+sub, nil, ""); resp.StatusCode != 200 {
				t.Errorf("subject after a refused purge: %d", resp.StatusCode)
			}
		})
	}

	resp, body = purge("supervisor", sub, `{"reason":"data-protection-request"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("purge: %d %s", resp.StatusCode, body)
	}
	var p huella.Purge
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.SubjectID != sub || p.Encounters != 1 || p.Samples != 1 || p.PendingHits != 1 {
		t.Errorf("purge = %s, want one encounter, one sample, one pending hit", body)
	}

	t.Run("NotFoundAfter", func(t *testing.T) {
		for _, path := range []string{"/v1/subjects/" + sub, "/v1/encounters/" + enc.ID, "/v1/samples/" + smp.ID + "/image",
			"/v1/subjects/" + sub + "/report", "/v1/encounters/" + enc.ID + "/export"} {
			if resp, body := e.do("supervisor", "GET", path, nil, ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404: %s", path, resp.StatusCode, body)
			}
		}
		if resp, _ := purge("supervisor", sub, `{"reason":"court-order"}`); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a second purge: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("QueueEmptied", func(t *testing.T) {
		resp, body := e.do("supervisor", "GET", "/v1/hits?state=pending", nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("hits: %d %s", resp.StatusCode, body)
		}
		if strings.Contains(string(body), sub) || strings.Contains(string(body), hit.ID) {
			t.Errorf("the pending queue still names the purged subject: %s", body)
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		probe, ct := multipartPart(t, "probe", `{"samples":[{"image":"f2","modality":"finger","position":2,"impression":"plain","ppi":500}]}`,
			fingerImage(t, "finger-106_1.png"))
		resp, body := e.do("officer", "POST", "/v1/identify", probe, ct)
		if resp.StatusCode != 200 {
			t.Fatalf("identify: %d %s", resp.StatusCode, body)
		}
		if strings.Contains(string(body), sub) {
			t.Errorf("a probe still finds the purged subject: %s", body)
		}
	})
	t.Run("BlobsGone", func(t *testing.T) {
		if e.blobFiles()[smp.ImageRef] {
			t.Errorf("the purged image %s is still on disk", smp.ImageRef)
		}
	})
	t.Run("AuditIntact", func(t *testing.T) {
		r, err := audit.Verify(context.Background(), e.store)
		if err != nil || r.Break != nil {
			t.Fatalf("audit.Verify = %+v, %v; want the chain intact", r, err)
		}
		events, err := e.store.ListAuditEvents(context.Background(), 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var found *huella.AuditEvent
		for _, ev := range events {
			if ev.Action == huella.ActionSubjectPurge {
				found = ev
			}
		}
		if found == nil || found.Object != "subject/"+sub || found.Actor != e.users["supervisor"].ID ||
			!strings.Contains(found.Detail, "reason=data-protection-request") {
			t.Fatalf("purge event = %+v", found)
		}
		for _, name := range testNames {
			if strings.Contains(found.Detail, name) || strings.Contains(e.logs.String(), name) {
				t.Errorf("%q appears in the purge event or the logs", name)
			}
		}
	})
}
