package console_test

import (
	"context"
	"net/http"
	"net/url"
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

// TestEditPartner has the admin change a partner's delivery settings and
// suspend it through its edit form, with the API's validation, and checks
// who may not.
func TestEditPartner(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := context.Background()
	e.mustCreatePartner()
	admin := e.signIn("admin")
	if code, body := admin.get("/partners"); code != http.StatusOK || !strings.Contains(body, `id="edit-form-GT-PNC"`) ||
		!strings.Contains(body, `value="https://pnc.example/huella"`) {
		t.Fatalf("GET /partners as admin: %d, want GT-PNC's edit form with its settings\n%s", code, body)
	}
	form := func() url.Values {
		return url.Values{"name": {"Policía Nacional Civil de Guatemala"}, "endpoint": {"https://entregas.pnc.example/v2"},
			"format": {"ansinist"}, "state": {"suspended"}, "ca_file": {"/etc/huella/pnc-ca.pem"},
			"client_cert_file": {"/etc/huella/pnc-client.pem"}, "client_key_file": {"/etc/huella/pnc-client.key"}, "key_id": {"huella-2026"}}
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		p, err := e.store.FindPartner(ctx, "GT-PNC")
		if err != nil || p.Endpoint != "https://pnc.example/huella" || p.Disabled {
			t.Errorf("a refused change changed the partner: %+v, %v", p, err)
		}
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			field, value, want string
		}{
			"Endpoint":    {"endpoint", "http://pnc.example/huella", "debe usar https"},
			"KeyAlone":    {"client_cert_file", "", "certificado de cliente necesita su clave"},
			"State":       {"state", "deleted", "activa o suspendida"},
			"NameEmpty":   {"name", "", "Indique el nombre de la institución"},
			"CertOutside": {"client_cert_file", "/etc/shadow", "client_cert_file"},
			"KeyDotDot":   {"client_key_file", "/etc/huella/../shadow", "client_key_file"},
		} {
			t.Run(name, func(t *testing.T) {
				f := form()
				f.Set(tc.field, tc.value)
				code, body := admin.post("/partners/GT-PNC", f)
				if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
					t.Fatalf("got %d, want 400 with %q\n%s", code, tc.want, body)
				}
				if !strings.Contains(body, `<details id="edit-GT-PNC" open>`) || !strings.Contains(body, `value="/etc/huella/pnc-ca.pem"`) {
					t.Errorf("the refused form is closed or lost what was typed")
				}
				unchanged(t)
			})
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if code, _ := admin.post("/partners/XX-NONE", form()); code != http.StatusNotFound {
			t.Errorf("got %d, want 404", code)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		sup := e.signIn("supervisor")
		if _, body := sup.get("/partners"); strings.Contains(body, `id="edit-form-GT-PNC"`) {
			t.Errorf("the supervisor is offered the edit form")
		}
		if code, _ := sup.post("/partners/GT-PNC", form()); code != http.StatusForbidden {
			t.Errorf("supervisor edits a partner: got %d, want 403", code)
		}
		if code, _ := admin.post("/partners/GT-PNC", func() url.Values { f := form(); f.Set("csrf", "forged"); return f }()); code != http.StatusForbidden {
			t.Errorf("forged form: got %d, want 403", code)
		}
		unchanged(t)
	})
	t.Run("OK", func(t *testing.T) {
		code, body := admin.post("/partners/GT-PNC", form())
		if code != http.StatusOK || !strings.Contains(body, `id="partner-done"`) {
			t.Fatalf("got %d, want 200\n%s", code, body)
		}
		row := regexp.MustCompile(`(?s)<td class="code"><a href="/partners\?partner=GT-PNC">GT-PNC</a></td>.*?</tr>`).FindString(body)
		for _, want := range []string{"https://entregas.pnc.example/v2", "ansinist", "Suspendida"} {
			if !strings.Contains(row, want) {
				t.Errorf("partner row lacks %q:\n%s", want, row)
			}
		}
		p, err := e.store.FindPartner(ctx, "GT-PNC")
		if err != nil {
			t.Fatal(err)
		}
		want := huella.Partner{Code: "GT-PNC", Name: "Policía Nacional Civil de Guatemala", Endpoint: "https://entregas.pnc.example/v2",
			Format: huella.FormatANSINIST, CAFile: "/etc/huella/pnc-ca.pem", ClientCertFile: "/etc/huella/pnc-client.pem",
			ClientKeyFile: "/etc/huella/pnc-client.key", KeyID: "huella-2026", Disabled: true}
		p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
		if *p != want {
			t.Errorf("stored partner = %+v\nwant %+v", *p, want)
		}
		// And back to active.
		f := form()
		f.Set("state", "active")
		if code, _ := admin.post("/partners/GT-PNC", f); code != http.StatusOK {
			t.Fatalf("resume: %d", code)
		}
		if p, _ := e.store.FindPartner(ctx, "GT-PNC"); p.Disabled {
			t.Errorf("the partner stays suspended")
		}
	})
}

// TestRevokeAgreement has the admin revoke an agreement after confirming,
// and finds it shown revoked; without the confirmation nothing changes.
func TestRevokeAgreement(t *testing.T) {
	e := MustOpenEnv(t)
	ctx := context.Background()
	e.mustCreatePartner()
	list, err := e.store.ListAgreements(ctx, "GT-PNC")
	if err != nil || len(list) != 1 {
		t.Fatalf("agreements of GT-PNC: %d, %v", len(list), err)
	}
	a := list[0]
	path := "/agreements/" + a.ID + "/revoke"
	admin := e.signIn("admin")
	if _, body := admin.get("/partners"); !strings.Contains(body, `action="`+path+`"`) {
		t.Fatalf("no revoke form for the active agreement\n%s", body)
	}
	active := func() bool {
		t.Helper()
		got, err := e.store.FindAgreement(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Active
	}

	t.Run("ErrNotConfirmed", func(t *testing.T) {
		code, body := admin.post(path, url.Values{})
		if code != http.StatusBadRequest || !strings.Contains(body, "Marque la confirmación") {
			t.Fatalf("got %d, want 400 asking for the confirmation\n%s", code, body)
		}
		if !active() {
			t.Fatal("an unconfirmed revocation revoked the agreement")
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		sup := e.signIn("supervisor")
		if _, body := sup.get("/partners"); strings.Contains(body, `action="`+path+`"`) {
			t.Errorf("the supervisor is offered the revoke form")
		}
		if code, _ := sup.post(path, url.Values{"confirm": {"yes"}}); code != http.StatusForbidden {
			t.Errorf("supervisor revokes: got %d, want 403", code)
		}
		if !active() {
			t.Fatal("a refused revocation revoked the agreement")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if code, _ := admin.post("/agreements/agr_nope/revoke", url.Values{"confirm": {"yes"}}); code != http.StatusNotFound {
			t.Errorf("got %d, want 404", code)
		}
	})
	t.Run("OK", func(t *testing.T) {
		code, body := admin.post(path, url.Values{"confirm": {"yes"}})
		if code != http.StatusOK || !strings.Contains(body, `id="partner-done"`) {
			t.Fatalf("got %d, want 200\n%s", code, body)
		}
		if active() {
			t.Fatal("the agreement is still active")
		}
		shown := regexp.MustCompile(`(?s)<div class="agreement revoked" id="agreement-` + a.ID + `">.*?</div>`).FindString(body)
		if !strings.Contains(shown, "Revocado el") || !strings.Contains(shown, "Memorando 2026/7, art. 4") {
			t.Errorf("the agreement is not shown revoked:\n%s", shown)
		}
		if strings.Contains(body, `action="`+path+`"`) {
			t.Errorf("the revoked agreement still offers its revoke form")
		}
		code, body = admin.post(path, url.Values{"confirm": {"yes"}})
		if code != http.StatusConflict || !strings.Contains(body, "ya estaba revocado") {
			t.Errorf("revoke again: got %d, want 409\n%s", code, body)
		}
	})
}
