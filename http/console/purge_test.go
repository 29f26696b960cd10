package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
)

// TestPurgeSubject: a supervisor purges the demo person from the subject
// page; an officer has no such form and is refused; a purge without a
// reason changes nothing.
func TestPurgeSubject(t *testing.T) {
	e := MustOpenEnv(t)
	path := "/subjects/" + e.subject
	t.Run("OfficerRefused", func(t *testing.T) {
		b := e.signIn("oficial.tapachula")
		if _, body := b.get(path); strings.Contains(body, "purge-form") {
			t.Error("an officer is offered the purge form")
		}
		if code, _ := b.post(path+"/purge", url.Values{"reason": {"court-order"}}); code != http.StatusForbidden {
			t.Errorf("an officer's purge: %d, want 403", code)
		}
	})
	b := e.signIn("supervisor")
	code, body := b.get(path)
	if code != http.StatusOK || !strings.Contains(body, `id="purge-form"`) || !strings.Contains(body, "Orden judicial") {
		t.Fatalf("the supervisor's subject page has no purge form: %d", code)
	}
	t.Run("ErrNoReason", func(t *testing.T) {
		if code, _ := b.post(path+"/purge", url.Values{"reason": {""}}); code != http.StatusBadRequest {
			t.Errorf("purge without a reason: %d, want 400", code)
		}
		if code, _ := b.get(path); code != http.StatusOK {
			t.Errorf("the subject after a refused purge: %d", code)
		}
	})
	code, body = b.post(path+"/purge", url.Values{"reason": {"court-order"}})
	if code != http.StatusOK || !strings.Contains(body, "encounters") && !strings.Contains(body, "Encuentros") {
		t.Fatalf("purge: %d, want the encounter list", code)
	}
	if strings.Contains(body, "Carlos Alberto") {
		t.Error("the encounter list still shows the purged person")
	}
	if code, _ := b.get(path); code != http.StatusNotFound {
		t.Errorf("the purged subject's page: %d, want 404", code)
	}
	if _, err := e.store.FindSubject(context.Background(), e.subject); huella.ErrorCode(err) != huella.ENOTFOUND {
		t.Errorf("FindSubject after the purge: %v, want ENOTFOUND", err)
	}
	if got := count(e.auditActions(e.users["supervisor"].ID), huella.ActionSubjectPurge); got != 1 {
		t.Errorf("subject.purge events: %d, want 1", got)
	}
}
