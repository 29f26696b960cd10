package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/storetest"
)

// forwardPartner returns the code of partner GT-PNC, with an agreement
// for convictions, creating both the first time.
func (e *env) forwardPartner() string {
	e.t.Helper()
	ctx := storetest.Context()
	if _, err := e.store.FindPartner(ctx, "GT-PNC"); err == nil {
		return "GT-PNC"
	}
	if err := e.store.CreatePartner(ctx, storetest.Partner("GT-PNC")); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateAgreement(ctx, storetest.Agreement("GT-PNC", huella.TriggerConviction)); err != nil {
		e.t.Fatal(err)
	}
	return "GT-PNC"
}

// newAgreement stores a new agreement with GT-PNC and returns its ID.
func (e *env) newAgreement() string {
	e.t.Helper()
	a := storetest.Agreement(e.forwardPartner(), huella.TriggerHit)
	if err := e.store.CreateAgreement(storetest.Context(), a); err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

// newDelivery stores an encounter declaring a conviction at MX-TAP and
// returns the ID of the delivery it planned.
func (e *env) newDelivery() string {
	e.t.Helper()
	e.forwardPartner()
	enc := storetest.Encounter("MX-TAP", time.Now().Add(-time.Duration(e.next())*time.Second))
	enc.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo"}
	if err := e.store.CreateEncounter(storetest.Context(), enc); err != nil {
		e.t.Fatal(err)
	}
	list, err := e.store.ListDeliveries(context.Background(), huella.DeliveryFilter{Limit: 1})
	if err != nil || len(list) == 0 || list[0].EncounterID != enc.ID {
		e.t.Fatalf("no delivery planned for the conviction: %v", err)
	}
	return list[0].ID
}

func TestJWKS(t *testing.T) {
	e := MustOpenEnv(t)
	keys, err := forward.LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.api.EnableForwarding(keys, forward.NewMetrics()); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do("", "GET", "/.well-known/jwks.json", nil, "") // no token: it is public
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var set forward.JWKS
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	signature, kid, _ := keys.Sign("", []byte("body"))
	if err := set.Verify(kid, signature, []byte("body")); err != nil {
		t.Errorf("a signature does not verify with the served keys: %v", err)
	}
	if len(set.Keys) != 1 || set.Keys[0].Kty != "OKP" || set.Keys[0].Crv != "Ed25519" {
		t.Errorf("keys = %+v, want one Ed25519 key", set.Keys)
	}
	_, metrics := e.do("", "GET", "/metrics", nil, "")
	if !strings.Contains(string(metrics), "huella_forward_published_total") {
		t.Errorf("/metrics lacks the forwarding metrics")
	}
}

func TestPartnersAPI(t *testing.T) {
	e := MustOpenEnv(t)
	post := func(path, body string) (int, []byte) {
		resp, b := e.do("admin", "POST", path, strings.NewReader(body), "application/json")
		return resp.StatusCode, b
	}
	t.Run("OK", func(t *testing.T) {
		status, body := post("/v1/partners", `{"code":"TEST-PARTNER","name":"Policía Nacional Civil","endpoint":"https://pnc.example.gt/huella","format":"json"}`)
		if status != http.StatusCreated {
			t.Fatalf("create partner: %d %s", status, body)
		}
		status, body = post("/v1/partners/TEST-PARTNER/agreements",
			`{"triggers":["conviction"],"modalities":["finger"],"fields":["names","criminal_history"],"legal_basis":"Memorandum 2026 art. 4","require_ack":true}`)
		if status != http.StatusCreated {
			t.Fatalf("create agreement: %d %s", status, body)
		}
		var a huella.Agreement
		json.Unmarshal(body, &a)
		e.newDelivery() // one to GT-PNC and one to TEST-PARTNER
		resp, body := e.do("partner", "GET", "/v1/receipts", nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("receipts: %d %s", resp.StatusCode, body)
		}
		var receipts []struct {
			DeliveryID string `json:"delivery_id"`
			State      string `json:"state"`
		}
		json.Unmarshal(body, &receipts)
		if len(receipts) != 1 {
			t.Fatalf("partner sees %d deliveries, want its own one", len(receipts))
		}
		d, err := e.store.FindDelivery(context.Background(), receipts[0].DeliveryID)
		if err != nil || d.Partner != "TEST-PARTNER" {
			t.Errorf("receipt of %v (%v), want a delivery to TEST-PARTNER", d, err)
		}
		status, body = post("/v1/agreements/"+a.ID+"/revoke", "")
		if status != 200 || !strings.Contains(string(body), `"active": false`) {
			t.Errorf("revoke: %d %s", status, body)
		}
		resp, body = e.do("admin", "PUT", "/v1/partners/TEST-PARTNER", strings.NewReader(`{"name":"PNC","endpoint":"https://pnc.example.gt/v2","disabled":true}`), "application/json")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"disabled": true`) {
			t.Errorf("update: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for name, body := range map[string]string{
			"Endpoint":     `{"code":"SV-PNC","name":"x","endpoint":"http://pnc.example.sv/","format":"json"}`,
			"Format":       `{"code":"SV-PNC","name":"x","endpoint":"https://pnc.example.sv/","format":"xml"}`,
			"UnknownField": `{"code":"SV-PNC","name":"x","endpoint":"https://pnc.example.sv/","password":"x"}`,
		} {
			if status, b := post("/v1/partners", body); status != http.StatusBadRequest {
				t.Errorf("%s: status %d %s, want 400", name, status, b)
			}
		}
		if status, b := post("/v1/partners/"+e.forwardPartner()+"/agreements", `{"triggers":["conviction"],"fields":["religion"],"legal_basis":"x"}`); status != http.StatusBadRequest {
			t.Errorf("unknown field in agreement: status %d %s, want 400", status, b)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if status, _ := post("/v1/partners/NO-SUCH/agreements", `{"triggers":["conviction"],"legal_basis":"x"}`); status != http.StatusNotFound {
			t.Errorf("agreement with an unknown partner: status %d, want 404", status)
		}
		if status, _ := post("/v1/agreements/agr_X/revoke", ""); status != http.StatusNotFound {
			t.Errorf("revoke unknown: status %d, want 404", status)
		}
	})
}
