package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// mustCreatePartner adds a partner whose agreement forwards encounters
// that declare a conviction.
func (e *env) mustCreatePartner() {
	e.t.Helper()
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	if err := e.store.CreatePartner(ctx, &huella.Partner{Code: "GT-PNC", Name: "Policía Nacional Civil", Endpoint: "https://pnc.example/huella", Format: huella.FormatJSON}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateAgreement(ctx, &huella.Agreement{Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerConviction},
		Fields: []huella.Field{huella.FieldNames}, LegalBasis: "Memorando 2026/7, art. 4", RequireAck: true}); err != nil {
		e.t.Fatal(err)
	}
}

// TestDeliveries enrolls a person who declares a conviction through the
// console and finds the delivery the agreement calls for, then its receipt.
func TestDeliveries(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	e.mustCreatePartner()
	off := e.signIn("oficial.tapachula")
	off.get("/enroll")
	fields, _ := enrollForm("MX-TAP")
	fields.Set("history", "conviction")
	fields.Set("offence", "robo")
	if code, body, _ := off.upload("/enroll", fields, enrollFiles(t)); code != http.StatusOK {
		t.Fatalf("enroll: %d\n%s", code, body)
	}

	sup := e.signIn("supervisor")
	code, body := sup.get("/partners")
	if code != http.StatusOK || !strings.Contains(body, "Memorando 2026/7") || !strings.Contains(body, `id="delivery-list"`) {
		t.Fatalf("partners: %d\n%s", code, body)
	}
	m := regexp.MustCompile(`href="/deliveries/(dlv_[0-9A-Z]{26})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no delivery listed:\n%s", body)
	}
	if _, err := e.store.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: m[1], At: time.Now(), Status: 200, Duration: 80 * time.Millisecond, Receipt: "PNC-ACK-0042"},
		huella.DeliveryDelivered); err != nil {
		t.Fatal(err)
	}
	code, body = sup.get("/deliveries/" + m[1])
	if code != http.StatusOK || !strings.Contains(body, "PNC-ACK-0042") || !strings.Contains(body, "Entregado") {
		t.Fatalf("delivery: %d\n%s", code, body)
	}
	if code, _ := off.get("/partners"); code != http.StatusForbidden {
		t.Errorf("officer opens the partners page: got %d, want 403", code)
	}
}
