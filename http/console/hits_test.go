package console_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
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
