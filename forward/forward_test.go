package forward_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/natsbus"
	"github.com/huella-abis/huella/partnersim"
	"github.com/huella-abis/huella/storetest"
)

// randomEncounter returns a rich encounter whose every text field holds a
// marker unique to field and seed, and whose images are all present.
func randomEncounter(r *rand.Rand, seed int) *huella.Encounter {
	e := storetest.RichEncounter("MX-TAP", storetest.Date(2026, 3, 1+r.IntN(20), r.IntN(24)))
	e.ID, e.SubjectID = huella.NewID("enc_", time.Now()), huella.NewID("sub_", time.Now())
	mark := func(field string) string { return fmt.Sprintf("ZQ%sQZ%d", field, seed) }
	e.Biographics.Names = []huella.Name{{Given: mark("GIVEN"), Family: mark("FAMILY")}, {Given: mark("ALIAS")}}
	e.Biographics.PlaceOfBirth = mark("PLACE")
	e.Biographics.Documents = []huella.Document{{Type: "passport", Number: mark("DOCNUM"), Country: "HND"}}
	e.CriminalHistory.Offence = mark("OFFENCE")
	e.SMTs[0].Description = mark("SMTDESC")
	e.SMTs[1].Description = mark("SCARDESC")
	for i, s := range e.Samples {
		s.ID = fmt.Sprintf("smp_%d", i)
	}
	// Drop some samples so that modalities come and go.
	r.Shuffle(len(e.Samples), func(i, j int) { e.Samples[i], e.Samples[j] = e.Samples[j], e.Samples[i] })
	e.Samples = e.Samples[:1+r.IntN(len(e.Samples))]
	return e
}

// randomAgreement allows a random subset of the fields and modalities.
func randomAgreement(r *rand.Rand) *huella.Agreement {
	a := &huella.Agreement{ID: "agr_test", Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerConviction},
		LegalBasis: "test", Active: true}
	for _, f := range huella.Fields {
		if r.IntN(2) == 0 {
			a.Fields = append(a.Fields, f)
		}
	}
	for _, m := range []huella.Modality{huella.ModalityFinger, huella.ModalityIris, huella.ModalityFace, huella.ModalitySMT} {
		if r.IntN(2) == 0 {
			a.Modalities = append(a.Modalities, m)
		}
	}
	return a
}

// markersOf returns, per field, the markers of randomEncounter it holds.
var markersOf = map[huella.Field][]string{
	huella.FieldNames:           {"GIVEN", "FAMILY", "ALIAS"},
	huella.FieldPlaceOfBirth:    {"PLACE"},
	huella.FieldDocuments:       {"DOCNUM"},
	huella.FieldCriminalHistory: {"OFFENCE"},
	huella.FieldSMTs:            {"SMTDESC", "SCARDESC"},
}

// TestMinimisation: over random agreements and encounters, nothing the
// agreement does not name appears in a payload, in JSON or ANSI/NIST; and
// everything it names does.
func TestMinimisation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for i := range 400 {
		e := randomEncounter(r, i)
		a := randomAgreement(r)
		d := &huella.Delivery{ID: "dlv_test", Partner: "GT-PNC", AgreementID: a.ID, Trigger: huella.TriggerConviction,
			SubjectID: e.SubjectID, EncounterID: e.ID}
		doc, err := forward.BuildDocument(ctx, d, a, e, fakeImage, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []huella.PayloadFormat{huella.FormatJSON, huella.FormatANSINIST} {
			body, _, err := forward.EncodeDocument(doc, format)
			if err != nil {
				t.Fatalf("EncodeDocument(%s): %v", format, err)
			}
			checkMinimised(t, fmt.Sprintf("case %d %s", i, format), body, format, e, a, i)
			if format == huella.FormatANSINIST {
				tx, err := ansinist.ReadStrict(body)
				if err != nil {
					t.Fatalf("case %d: the ANSI/NIST payload does not read back strictly: %v", i, err)
				}
				if v := ansinist.Validate(tx); len(v) > 0 {
					t.Fatalf("case %d: ANSI/NIST violations %v", i, v)
				}
				if got := tx.Get(1, 9); got != d.ID {
					t.Errorf("case %d: TCN %q, want the delivery ID", i, got)
				}
			}
		}
	}
}

func checkMinimised(t *testing.T, name string, body []byte, format huella.PayloadFormat, e *huella.Encounter, a *huella.Agreement, seed int) {
	t.Helper()
	text := string(body)
	for field, markers := range markersOf {
		for _, m := range markers {
			marker := fmt.Sprintf("ZQ%sQZ%d", m, seed)
			if format == huella.FormatANSINIST && field == huella.FieldNames {
				marker = strings.ToUpper(marker) // names are upper case in ANSI/NIST
			}
			if got, want := strings.Contains(text, marker), a.Allows(field); got != want {
				t.Errorf("%s: %s in payload = %t, agreement allows %s = %t", name, m, got, field, want)
			}
		}
	}
	for _, s := range e.Samples {
		image, _ := fakeImage(context.Background(), s.ImageRef)
		encoded := string(image)
		if format == huella.FormatJSON {
			encoded = base64.StdEncoding.EncodeToString(image)
		}
		if got, want := strings.Contains(text, encoded), a.AllowsModality(s.Modality); got != want {
			t.Errorf("%s: %s image in payload = %t, agreement allows %s = %t", name, s.Modality, got, s.Modality, want)
		}
	}
	if format != huella.FormatJSON {
		return
	}
	// Structure: no group the agreement does not name, whatever its value.
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	groups := map[string]huella.Field{"capture": huella.FieldCapture, "criminal_history": huella.FieldCriminalHistory, "smts": huella.FieldSMTs}
	for key, field := range groups {
		if _, ok := doc[key]; ok && !a.Allows(field) {
			t.Errorf("%s: %s present, not allowed", name, key)
		}
	}
	person, _ := doc["person"].(map[string]any)
	for key := range person {
		if !a.Allows(huella.Field(key)) {
			t.Errorf("%s: person.%s present, not allowed", name, key)
		}
	}
	samples, _ := doc["samples"].([]any)
	for _, s := range samples {
		m := huella.Modality(s.(map[string]any)["modality"].(string))
		if !a.AllowsModality(m) {
			t.Errorf("%s: a %s sample present, not allowed", name, m)
		}
	}
	allowedTop := []string{"delivery_id", "idempotency_key", "partner", "agreement_id", "legal_basis", "trigger",
		"category", "confirmation_id", "subject_ref", "encounter_ref", "sent_at", "person", "capture",
		"criminal_history", "samples", "smts"}
	for key := range doc {
		if !slices.Contains(allowedTop, key) {
			t.Errorf("%s: unexpected top-level key %s", name, key)
		}
	}
}

// TestSignature: the simulator accepts a delivery signed with our key and
// refuses it tampered with, signed by another key, or under an unknown kid.
func TestSignature(t *testing.T) {
	ours, err := forward.LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := forward.LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sim := partnersim.New(ours.JWKS())
	srv := httptest.NewServer(sim)
	defer srv.Close()
	body := []byte(`{"delivery_id":"dlv_1","subject_ref":"sub_1"}`)
	sig, kid, err := ours.Sign("", body)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, otherKid, _ := theirs.Sign("", body)
	post := func(key string, body []byte, kid, sig string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/deliveries", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(forward.HeaderIdempotencyKey, key)
		req.Header.Set(forward.HeaderKeyID, kid)
		req.Header.Set(forward.HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tampered := bytes.Replace(body, []byte("sub_1"), []byte("sub_2"), 1)
	for _, c := range []struct {
		name     string
		body     []byte
		kid, sig string
		want     int
		wantErr  error
	}{
		{"OK", body, kid, sig, 200, nil},
		{"ErrTampered", tampered, kid, sig, 401, forward.ErrBadSignature},
		{"ErrWrongKey", body, kid, otherSig, 401, forward.ErrBadSignature},
		{"ErrUnknownKid", body, otherKid, otherSig, 401, forward.ErrUnknownKey},
		{"ErrMalformedSignature", body, kid, "!!", 401, forward.ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := ours.JWKS().Verify(c.kid, c.sig, c.body); err != c.wantErr {
				t.Errorf("Verify = %v, want %v", err, c.wantErr)
			}
			if got := post("key-"+c.name, c.body, c.kid, c.sig); got != c.want {
				t.Errorf("simulator answered %d, want %d", got, c.want)
			}
		})
	}
	if st := sim.Stats(); st.Applied != 1 || st.Rejected != 4 {
		t.Errorf("simulator stats %+v, want 1 applied and 4 rejected", st)
	}
}

// TestDelivery runs the whole path on both kinds of bus: the embedded
// server and the external one CI runs.
func TestDelivery(t *testing.T) {
	for name, kind := range map[string]busKind{"Embedded": embeddedBus, "External": externalBus} {
		t.Run(name, func(t *testing.T) {
			t.Run("PartnerDownThenBack", func(t *testing.T) { testPartnerDownThenBack(t, kind) })
			t.Run("LostAcknowledgements", func(t *testing.T) { testLostAcks(t, kind) })
		})
	}
}

// testPartnerDownThenBack: the partner fails, then hangs, then comes back;
// every delivery arrives, each Idempotency-Key applied once, every
// attempt recorded and audited.
func testPartnerDownThenBack(t *testing.T, kind busKind) {
	h := newHarness(t, kind, nil, func(f *forward.Forwarder) { f.HTTPTimeout = 300 * time.Millisecond })
	h.sim.SetMode(partnersim.ModeFail, 0)
	const n = 20
	h.convict(n)
	deadline := time.Now().Add(15 * time.Second)
	for !h.allAttempted(n) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h.sim.SetMode(partnersim.ModeHang, 0)
	time.Sleep(700 * time.Millisecond)
	h.sim.SetMode(partnersim.ModeOK, 0)
	delivered := h.waitDelivered(n, 20*time.Second)
	h.checkOnceInEffect(delivered)
	ctx := context.Background()
	retried := 0
	for _, d := range delivered {
		attempts, err := h.store.ListDeliveryAttempts(ctx, d.ID)
		if err != nil || len(attempts) != d.Attempts {
			t.Fatalf("attempts of %s: %d, %v; delivery says %d", d.ID, len(attempts), err, d.Attempts)
		}
		if last := attempts[len(attempts)-1]; last.Status != 200 || last.Receipt == "" {
			t.Errorf("last attempt of %s: status %d receipt %q", d.ID, last.Status, last.Receipt)
		}
		if d.Attempts >= 2 && attempts[0].Error != "" { // 503 or a timeout of the hanging partner
			retried++
		}
	}
	if retried < n {
		t.Errorf("%d deliveries retried after a failure, want all %d", retried, n)
	}
	events, err := h.store.ListAuditEvents(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range events {
		count[e.Action]++
	}
	if count[huella.ActionDeliveryPlan] != n || count[huella.ActionDeliveryDeliver] != n || count[huella.ActionDeliveryAttempt] < n {
		t.Errorf("audit counts %v, want %d plans and deliveries and at least %d failed attempts", count, n, n)
	}
	if got := counterValue(h.fwd.Metrics.Attempts.WithLabelValues("GT-PNC", "delivered")); got != n {
		t.Errorf("delivered metric %v, want %d", got, n)
	}
}

// testLostAcks: the partner applies each delivery but its answers are lost;
// the retries are answered with the first receipt and take no second effect.
func testLostAcks(t *testing.T, kind busKind) {
	h := newHarness(t, kind, nil, nil)
	h.sim.SetMode(partnersim.ModeLoseAck, 0)
	const n = 10
	h.convict(n)
	deadline := time.Now().Add(10 * time.Second)
	for h.sim.Stats().Applied < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	h.sim.SetMode(partnersim.ModeOK, 0)
	delivered := h.waitDelivered(n, 20*time.Second)
	h.checkOnceInEffect(delivered)
	if st := h.sim.Stats(); st.Duplicates < n || st.Applied != n {
		t.Errorf("simulator %+v, want %d applied and at least %d duplicates answered", st, n, n)
	}
}

// TestDeadLetter: a partner down for longer than DeadAfter gets its
// deliveries parked as dead, audited, with the alert metric raised.
func TestDeadLetter(t *testing.T) {
	h := newHarness(t, embeddedBus, nil, func(f *forward.Forwarder) { f.DeadAfter = 800 * time.Millisecond })
	h.sim.SetMode(partnersim.ModeFail, 0)
	const n = 5
	h.convict(n)
	deadline := time.Now().Add(15 * time.Second)
	for {
		dead, err := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{State: huella.DeliveryDead})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == n {
			for _, d := range dead {
				if d.Attempts < 2 || d.LastError != "status 503" {
					t.Errorf("dead delivery %s: %d attempts, last error %q", d.ID, d.Attempts, d.LastError)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries dead", len(dead), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the metric follows the store
	if got := counterValue(h.fwd.Metrics.DeadLetters.WithLabelValues("GT-PNC")); got != n {
		t.Errorf("dead-letter metric = %v, want %d", got, n)
	}
	if st := h.sim.Stats(); st.Applied != 0 {
		t.Errorf("simulator applied %d, want 0", st.Applied)
	}
}

// TestRevokedAgreement: deliveries of a revoked agreement are parked, not sent.
func TestRevokedAgreement(t *testing.T) {
	h := newHarness(t, embeddedBus, nil, nil)
	h.sim.SetMode(partnersim.ModeFail, 0)
	h.convict(3)
	deadline := time.Now().Add(10 * time.Second)
	for !h.allAttempted(3) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	agreements, _ := h.store.ListAgreements(context.Background(), "GT-PNC")
	if err := h.store.RevokeAgreement(storetest.Context(), agreements[0].ID); err != nil {
		t.Fatal(err)
	}
	// An attempt that read the agreement before the revocation may still be
	// on its way: it meets the failing partner. Later attempts see it revoked.
	time.Sleep(300 * time.Millisecond)
	h.sim.SetMode(partnersim.ModeOK, 0)
	time.Sleep(1500 * time.Millisecond)
	if st := h.sim.Stats(); st.Applied != 0 {
		t.Errorf("simulator applied %d deliveries of a revoked agreement", st.Applied)
	}
	dead, _ := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{State: huella.DeliveryDead})
	if len(dead) != 3 {
		t.Errorf("%d dead deliveries, want 3", len(dead))
	}
}

// counterValue reads a counter's value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestSlowPartner: a partner slower than the queue's ack wait still gets
// each delivery once: the worker keeps the message while it waits.
func TestSlowPartner(t *testing.T) {
	h := newHarness(t, func(t testing.TB, dir string) natsbus.Config {
		return natsbus.Config{StoreDir: filepath.Join(dir, "nats"), AckWait: time.Second}
	}, nil, func(f *forward.Forwarder) { f.HTTPTimeout = 10 * time.Second })
	h.sim.SetMode(partnersim.ModeSlow, 2500*time.Millisecond)
	h.convict(2)
	h.checkOnceInEffect(h.waitDelivered(2, 20*time.Second))
	if st := h.sim.Stats(); st.Posts != 2 {
		t.Errorf("partner got %d POSTs for 2 deliveries, want 2: %+v", st.Posts, st)
	}
}
