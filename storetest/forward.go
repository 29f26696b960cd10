package storetest

import (
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// ForwardingStore is a store that also keeps forwarding records.
type ForwardingStore interface {
	huella.Store
	huella.ForwardStore
}

// NewForwardingStore returns a fresh, empty store for one subtest; it
// closes the store in t.Cleanup.
type NewForwardingStore func(t *testing.T) ForwardingStore

// Partner returns a valid JSON partner with the code, on loopback.
func Partner(code string) *huella.Partner {
	return &huella.Partner{Code: code, Name: "Partner " + code, Endpoint: "http://127.0.0.1:9/deliveries", Format: huella.FormatJSON}
}

// Agreement returns a valid agreement with the partner for the triggers,
// letting fingerprints, names and the conviction leave.
func Agreement(partner string, triggers ...huella.Trigger) *huella.Agreement {
	a := &huella.Agreement{Partner: partner, Triggers: triggers, Modalities: []huella.Modality{huella.ModalityFinger},
		Fields: []huella.Field{huella.FieldNames, huella.FieldCriminalHistory}, LegalBasis: "Memorandum GT-MX 2026, art. 4", RequireAck: true}
	for _, t := range triggers {
		if t == huella.TriggerHit {
			a.Categories = []string{"wanted", "gang"}
		}
	}
	return a
}

// MustCreatePartner stores Partner(code) or fails the test.
func MustCreatePartner(tb testing.TB, s huella.ForwardStore, code string) *huella.Partner {
	tb.Helper()
	p := Partner(code)
	if err := s.CreatePartner(Context(), p); err != nil {
		tb.Fatalf("CreatePartner(%s): %v", code, err)
	}
	return p
}

// MustCreateAgreement stores a or fails the test.
func MustCreateAgreement(tb testing.TB, s huella.ForwardStore, a *huella.Agreement) *huella.Agreement {
	tb.Helper()
	if err := s.CreateAgreement(Context(), a); err != nil {
		tb.Fatalf("CreateAgreement: %v", err)
	}
	return a
}

// RunForwarding runs the ForwardStore contract suite, one subtest per
// behaviour, each on a store of its own.
func RunForwarding(t *testing.T, newStore NewForwardingStore) {
	t.Run("Partners", func(t *testing.T) { testPartners(t, newStore) })
	t.Run("Agreements", func(t *testing.T) { testAgreements(t, newStore) })
	t.Run("ConvictionPlansDeliveries", func(t *testing.T) { testConvictionPlans(t, newStore) })
	t.Run("Confirmations", func(t *testing.T) { testConfirmations(t, newStore) })
	t.Run("DeliveryLifecycle", func(t *testing.T) { testDeliveryLifecycle(t, newStore) })
	t.Run("ExaminerDecisionsForward", func(t *testing.T) { testDecisionsForward(t, newStore) })
}

// testDecisionsForward: an examiner's confirmation of a duplicate or of a
// watchlist hit plans its deliveries in the transaction of the decision.
func testDecisionsForward(t *testing.T, newStore NewForwardingStore) {
	fs := newStore(t)
	s, ok := fs.(IdentityStore)
	if !ok {
		t.Skip("the store keeps no hits")
	}
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	MustCreateSite(t, s, "MX-CDMX")
	MustCreatePartner(t, fs, "GT-PNC")
	MustCreatePartner(t, fs, "HN-DPI")
	MustCreateAgreement(t, fs, Agreement("GT-PNC", huella.TriggerConviction, huella.TriggerDuplicate, huella.TriggerHit))
	MustCreateAgreement(t, fs, Agreement("HN-DPI", huella.TriggerDuplicate)) // never received the subject
	first := identified("MX-CDMX", Date(2026, 3, 1, 9), "")
	first.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo"}
	MustCreateEncounter(t, s, first)
	sent, err := fs.ListDeliveries(ctx, huella.DeliveryFilter{})
	if err != nil || len(sent) != 1 {
		t.Fatalf("deliveries of the conviction = %d, %v; want 1", len(sent), err)
	}
	if _, err := fs.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: sent[0].ID, Status: 200, Receipt: "r1"}, huella.DeliveryDelivered); err != nil {
		t.Fatal(err)
	}
	second := MustCreateEncounter(t, s, identified("MX-TAP", Date(2026, 3, 2, 9), first.SubjectID))
	planned := func(trigger huella.Trigger) []*huella.Delivery {
		t.Helper()
		list, err := fs.ListDeliveries(ctx, huella.DeliveryFilter{State: huella.DeliveryPending})
		if err != nil {
			t.Fatal(err)
		}
		var out []*huella.Delivery
		for _, d := range list {
			if d.Trigger == trigger {
				out = append(out, d)
			}
		}
		return out
	}
	if _, err := s.DecideHit(ctx, second.Identification.Hits[0].ID, huella.HitConfirmed, "same person"); err != nil {
		t.Fatalf("DecideHit duplicate: %v", err)
	}
	dup := planned(huella.TriggerDuplicate)
	if len(dup) != 1 || dup[0].Partner != "GT-PNC" || dup[0].EncounterID != second.ID {
		t.Errorf("duplicate deliveries %+v, want one to GT-PNC, which had the subject, of encounter %s", dup, second.ID)
	}
	hits := []*huella.Hit{{Kind: huella.HitWatchlist, EncounterID: first.ID, WatchlistID: "wl_x", WatchEntryID: "wle_x",
		Category: huella.CategoryWanted, Candidate: &huella.Candidate{WatchEntryID: "wle_x", LLR: 12}}}
	if err := s.CreateHits(ctx, hits); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideHit(ctx, hits[0].ID, huella.HitConfirmed, "face and fingers agree"); err != nil {
		t.Fatalf("DecideHit watchlist: %v", err)
	}
	hit := planned(huella.TriggerHit)
	if len(hit) != 1 || hit[0].Partner != "GT-PNC" || hit[0].Category != "wanted" || hit[0].EncounterID != first.ID {
		t.Errorf("hit deliveries %+v, want one to GT-PNC of category wanted", hit)
	}
	checkChain(t, auditEvents(t, s))
}

func testPartners(t *testing.T, newStore NewForwardingStore) {
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		p := MustCreatePartner(t, s, "GT-PNC")
		checkStoredTime(t, "CreatedAt", p.CreatedAt)
		checkLastEvent(t, s, huella.ActionPartnerCreate, "partner/GT-PNC", "")
		MustCreatePartner(t, s, "HN-DPI")
		got, err := s.FindPartner(ctx, "GT-PNC")
		if err != nil {
			t.Fatalf("FindPartner: %v", err)
		}
		equal(t, "FindPartner", got, p)
		p.Disabled, p.Endpoint, p.KeyID = true, "https://pnc.example.gt/huella", "k2"
		if err := s.UpdatePartner(ctx, p); err != nil {
			t.Fatalf("UpdatePartner: %v", err)
		}
		checkLastEvent(t, s, huella.ActionPartnerUpdate, "partner/GT-PNC", "")
		list, err := s.ListPartners(ctx)
		if err != nil {
			t.Fatalf("ListPartners: %v", err)
		}
		if len(list) != 2 || list[0].Code != "GT-PNC" || list[1].Code != "HN-DPI" {
			t.Fatalf("ListPartners = %d partners, want GT-PNC and HN-DPI", len(list))
		}
		equal(t, "ListPartners[0]", list[0], p)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newStore(t)
		for name, mutate := range map[string]func(*huella.Partner){
			"Code":       func(p *huella.Partner) { p.Code = "pnc" },
			"Endpoint":   func(p *huella.Partner) { p.Endpoint = "http://pnc.example.gt/x" },
			"Format":     func(p *huella.Partner) { p.Format = "xml" },
			"ClientCert": func(p *huella.Partner) { p.ClientCertFile = "/etc/huella/client.pem" },
		} {
			t.Run(name, func(t *testing.T) {
				p := Partner("GT-PNC")
				mutate(p)
				checkCode(t, s.CreatePartner(Context(), p), huella.EINVALID)
			})
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := newStore(t)
		MustCreatePartner(t, s, "GT-PNC")
		checkCode(t, s.CreatePartner(Context(), Partner("GT-PNC")), huella.ECONFLICT)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.FindPartner(Context(), "GT-PNC")
		checkCode(t, err, huella.ENOTFOUND)
		checkCode(t, s.UpdatePartner(Context(), Partner("GT-PNC")), huella.ENOTFOUND)
	})
}

func testAgreements(t *testing.T, newStore NewForwardingStore) {
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreatePartner(t, s, "GT-PNC")
		a := MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction, huella.TriggerHit))
		if !a.Active || len(a.ID) != len("agr_")+26 {
			t.Errorf("agreement %q active=%t, want an agr_ ID, active", a.ID, a.Active)
		}
		checkLastEvent(t, s, huella.ActionAgreementCreate, "agreement/"+a.ID, "")
		got, err := s.FindAgreement(ctx, a.ID)
		if err != nil {
			t.Fatalf("FindAgreement: %v", err)
		}
		equal(t, "FindAgreement", got, a)
		if err := s.RevokeAgreement(ctx, a.ID); err != nil {
			t.Fatalf("RevokeAgreement: %v", err)
		}
		checkLastEvent(t, s, huella.ActionAgreementRevoke, "agreement/"+a.ID, "")
		list, err := s.ListAgreements(ctx, "GT-PNC")
		if err != nil || len(list) != 1 {
			t.Fatalf("ListAgreements = %d, %v; want 1", len(list), err)
		}
		if list[0].Active || list[0].RevokedAt == nil {
			t.Errorf("revoked agreement active=%t revoked_at=%v", list[0].Active, list[0].RevokedAt)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newStore(t)
		MustCreatePartner(t, s, "GT-PNC")
		for name, a := range map[string]*huella.Agreement{
			"UnknownPartner": Agreement("HN-DPI", huella.TriggerConviction),
			"NoTrigger":      Agreement("GT-PNC"),
			"Trigger":        Agreement("GT-PNC", "arrest"),
			"HitNoCategory":  {Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerHit}, LegalBasis: "x"},
			"Field":          {Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerConviction}, LegalBasis: "x", Fields: []huella.Field{"religion"}},
			"LegalBasis":     {Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerConviction}},
		} {
			t.Run(name, func(t *testing.T) {
				checkCode(t, s.CreateAgreement(Context(), a), huella.EINVALID)
			})
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		checkCode(t, s.RevokeAgreement(Context(), huella.NewID("agr_", time.Now())), huella.ENOTFOUND)
		_, err := s.FindAgreement(Context(), huella.NewID("agr_", time.Now()))
		checkCode(t, err, huella.ENOTFOUND)
	})
}

// convicted returns an encounter declaring a conviction.
func convicted(site string, at time.Time) *huella.Encounter {
	e := Encounter(site, at)
	e.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo"}
	return e
}

func testConvictionPlans(t *testing.T, newStore NewForwardingStore) {
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		for _, code := range []string{"GT-PNC", "HN-DPI", "SV-PNC", "US-ICE"} {
			MustCreatePartner(t, s, code)
		}
		first := MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction))
		MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction)) // a second one: still one delivery
		MustCreateAgreement(t, s, Agreement("HN-DPI", huella.TriggerHit))        // not for convictions
		MustCreateAgreement(t, s, Agreement("SV-PNC", huella.TriggerConviction))
		disabled := Partner("SV-PNC")
		disabled.Disabled = true
		if err := s.UpdatePartner(ctx, disabled); err != nil {
			t.Fatal(err)
		}
		revoked := MustCreateAgreement(t, s, Agreement("US-ICE", huella.TriggerConviction))
		if err := s.RevokeAgreement(ctx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 1, 8))) // no conviction
		e := MustCreateEncounter(t, s, convicted("MX-TAP", Date(2026, 5, 1, 9)))
		pending, err := s.PendingDeliveries(ctx, 0)
		if err != nil {
			t.Fatalf("PendingDeliveries: %v", err)
		}
		if len(pending) != 1 {
			t.Fatalf("%d pending deliveries, want 1 (to GT-PNC)", len(pending))
		}
		d := pending[0]
		if d.Partner != "GT-PNC" || d.AgreementID != first.ID || d.EncounterID != e.ID || d.SubjectID != e.SubjectID ||
			d.Trigger != huella.TriggerConviction || d.State != huella.DeliveryPending || d.Site != "MX-TAP" || d.IdempotencyKey() != d.ID {
			t.Errorf("delivery = %+v, want pending to GT-PNC under %s for encounter %s", d, first.ID, e.ID)
		}
		checkStoredTime(t, "CreatedAt", d.CreatedAt)
		events := auditEvents(t, s)
		checkChain(t, events)
		checkEvent(t, events[len(events)-1], huella.ActionDeliveryPlan, "delivery/"+d.ID, "MX-TAP")
		checkEvent(t, events[len(events)-2], huella.ActionEncounterCreate, "encounter/"+e.ID, "MX-TAP")
	})
	t.Run("RolledBackTogether", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		MustCreatePartner(t, s, "GT-PNC")
		MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction))
		e := convicted("MX-TAP", Date(2026, 5, 1, 9))
		e.SubjectID = huella.NewID("sub_", time.Now()) // unknown: the encounter fails
		before := countRecords(t, s)
		checkCode(t, s.CreateEncounter(Context(), e), huella.ENOTFOUND)
		equal(t, "records", countRecords(t, s), before)
		list, err := s.ListDeliveries(Context(), huella.DeliveryFilter{})
		if err != nil || len(list) != 0 {
			t.Errorf("ListDeliveries = %d, %v; want none", len(list), err)
		}
	})
}

func testConfirmations(t *testing.T, newStore NewForwardingStore) {
	s := newStore(t)
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	MustCreatePartner(t, s, "GT-PNC")
	MustCreatePartner(t, s, "HN-DPI")
	MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerHit, huella.TriggerDuplicate))
	MustCreateAgreement(t, s, Agreement("HN-DPI", huella.TriggerDuplicate))
	e := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 1, 8)))
	t.Run("Hit", func(t *testing.T) {
		c := &huella.Confirmation{Kind: huella.TriggerHit, HitID: "hit_1", Category: "wanted", SubjectID: e.SubjectID, EncounterID: e.ID}
		planned, err := s.ConfirmForForwarding(ctx, c)
		if err != nil {
			t.Fatalf("ConfirmForForwarding: %v", err)
		}
		if len(planned) != 1 || planned[0].Partner != "GT-PNC" || planned[0].ConfirmationID != c.ID || planned[0].Category != "wanted" {
			t.Fatalf("planned %+v, want one delivery to GT-PNC for %s", planned, c.ID)
		}
		if c.Examiner != Admin.ID || len(c.ID) != len("cnf_")+26 {
			t.Errorf("confirmation %s by %s, want a cnf_ ID by %s", c.ID, c.Examiner, Admin.ID)
		}
		events := auditEvents(t, s)
		checkEvent(t, events[len(events)-2], huella.ActionConfirmationCreate, "confirmation/"+c.ID, "MX-TAP")
		checkEvent(t, events[len(events)-1], huella.ActionDeliveryPlan, "delivery/"+planned[0].ID, "MX-TAP")
		got, err := s.FindDelivery(ctx, planned[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "FindDelivery", got, planned[0])
	})
	t.Run("HitOtherCategory", func(t *testing.T) {
		planned, err := s.ConfirmForForwarding(ctx, &huella.Confirmation{Kind: huella.TriggerHit, Category: "terrorism", SubjectID: e.SubjectID, EncounterID: e.ID})
		if err != nil || len(planned) != 0 {
			t.Errorf("planned %d, %v; want none", len(planned), err)
		}
	})
	t.Run("BySubject", func(t *testing.T) {
		all, _ := s.ListDeliveries(ctx, huella.DeliveryFilter{})
		mine, err := s.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: e.SubjectID})
		if err != nil || len(mine) == 0 {
			t.Fatalf("deliveries of the subject: %d, %v", len(mine), err)
		}
		for _, d := range mine {
			if d.SubjectID != e.SubjectID {
				t.Errorf("delivery %s is about %s", d.ID, d.SubjectID)
			}
		}
		if none, _ := s.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: "sub_nobody"}); len(none) != 0 || len(all) < len(mine) {
			t.Errorf("%d deliveries of nobody, %d of %d for the subject", len(none), len(mine), len(all))
		}
	})
	t.Run("DuplicateOnlyToPartnersForwarded", func(t *testing.T) {
		list, _ := s.ListDeliveries(ctx, huella.DeliveryFilter{Partner: "GT-PNC"})
		if len(list) == 0 {
			t.Fatal("no delivery to GT-PNC")
		}
		if _, err := s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: list[0].ID, Status: 200, Receipt: "r-1"}, huella.DeliveryDelivered); err != nil {
			t.Fatal(err)
		}
		again := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 6, 1, 8)))
		planned, err := s.ConfirmForForwarding(ctx, &huella.Confirmation{Kind: huella.TriggerDuplicate, SubjectID: e.SubjectID, EncounterID: again.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(planned) != 1 || planned[0].Partner != "GT-PNC" {
			t.Errorf("planned %+v, want one delivery to GT-PNC, which already had the subject", planned)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		before := countRecords(t, s)
		_, err := s.ConfirmForForwarding(ctx, &huella.Confirmation{Kind: huella.TriggerHit, Category: "wanted", SubjectID: e.SubjectID, EncounterID: huella.NewID("enc_", time.Now())})
		checkCode(t, err, huella.ENOTFOUND)
		equal(t, "records", countRecords(t, s), before)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.ConfirmForForwarding(ctx, &huella.Confirmation{Kind: huella.TriggerConviction, SubjectID: e.SubjectID, EncounterID: e.ID})
		checkCode(t, err, huella.EINVALID)
	})
}

func testDeliveryLifecycle(t *testing.T, newStore NewForwardingStore) {
	s := newStore(t)
	ctx := Context()
	MustCreateSite(t, s, "MX-TAP")
	MustCreatePartner(t, s, "GT-PNC")
	agreement := MustCreateAgreement(t, s, Agreement("GT-PNC", huella.TriggerConviction))
	var ids []string
	for i := range 3 {
		e := MustCreateEncounter(t, s, convicted("MX-TAP", Date(2026, 5, 1, i)))
		list, _ := s.ListDeliveries(ctx, huella.DeliveryFilter{Limit: 1})
		if len(list) != 1 || list[0].EncounterID != e.ID {
			t.Fatalf("newest delivery is not the one of encounter %d", i)
		}
		ids = append(ids, list[0].ID)
	}
	// The page after the newest holds the older ones, newest first.
	newest, err := s.FindDelivery(ctx, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	older, err := s.ListDeliveries(ctx, huella.DeliveryFilter{After: &huella.PageKey{At: newest.CreatedAt, ID: newest.ID}})
	if err != nil || len(older) != 2 || older[0].ID != ids[1] || older[1].ID != ids[0] {
		t.Errorf("ListDeliveries after the newest = %d, %v; want the two older, newest first", len(older), err)
	}
	pending, err := s.PendingDeliveries(ctx, 2)
	if err != nil || len(pending) != 2 || pending[0].ID != ids[0] || pending[1].ID != ids[1] {
		t.Fatalf("PendingDeliveries(2) = %d, %v; want the two oldest", len(pending), err)
	}
	if err := s.MarkPublished(ctx, ids); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	if pending, _ := s.PendingDeliveries(ctx, 0); len(pending) != 0 {
		t.Fatalf("%d pending after MarkPublished, want 0", len(pending))
	}
	d, err := s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: ids[0], Status: 503, Error: "status 503", Duration: 1500 * time.Microsecond}, huella.DeliveryPublished)
	if err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}
	if d.State != huella.DeliveryPublished || d.Attempts != 1 || d.LastError != "status 503" {
		t.Errorf("after a failed attempt: state %s attempts %d error %q", d.State, d.Attempts, d.LastError)
	}
	checkLastEvent(t, s, huella.ActionDeliveryAttempt, "delivery/"+ids[0], "MX-TAP")
	d, err = s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: ids[0], Status: 200, Receipt: "rcpt-77"}, huella.DeliveryDelivered)
	if err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}
	if d.State != huella.DeliveryDelivered || d.Attempts != 2 || d.Receipt != "rcpt-77" || d.DeliveredAt == nil || d.LastError != "" {
		t.Errorf("after delivery: %+v", d)
	}
	checkLastEvent(t, s, huella.ActionDeliveryDeliver, "delivery/"+ids[0], "MX-TAP")
	got, err := s.FindDelivery(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "FindDelivery", got, d)
	_, err = s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: ids[0], Status: 200}, huella.DeliveryDelivered)
	checkCode(t, err, huella.ECONFLICT)
	_, err = s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: huella.NewID("dlv_", time.Now())}, huella.DeliveryDead)
	checkCode(t, err, huella.ENOTFOUND)
	attempts, err := s.ListDeliveryAttempts(ctx, ids[0])
	if err != nil || len(attempts) != 2 {
		t.Fatalf("ListDeliveryAttempts = %d, %v; want 2", len(attempts), err)
	}
	if attempts[0].N != 1 || attempts[0].Status != 503 || attempts[0].Duration != 1500*time.Microsecond || attempts[1].Receipt != "rcpt-77" {
		t.Errorf("attempts = %+v %+v", attempts[0], attempts[1])
	}
	// Dead letter.
	d, err = s.RecordAttempt(ctx, &huella.DeliveryAttempt{DeliveryID: ids[1], Error: "connection refused"}, huella.DeliveryDead)
	if err != nil || d.State != huella.DeliveryDead {
		t.Fatalf("dead letter: %v, %v", d, err)
	}
	checkLastEvent(t, s, huella.ActionDeliveryDeadLetter, "delivery/"+ids[1], "MX-TAP")
	// Stale published deliveries go back to pending; recent ones stay.
	n, err := s.RequeueStale(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Errorf("RequeueStale(an hour ago) = %d, %v; want 0", n, err)
	}
	n, err = s.RequeueStale(ctx, time.Now().Add(time.Second))
	if err != nil || n != 1 {
		t.Errorf("RequeueStale(now) = %d, %v; want 1", n, err)
	}
	if pending, _ := s.PendingDeliveries(ctx, 0); len(pending) != 1 || pending[0].ID != ids[2] {
		t.Errorf("pending after requeue = %d, want %s", len(pending), ids[2])
	}
	// Revoking the agreement parks what is left.
	if err := s.RevokeAgreement(ctx, agreement.ID); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.FindDelivery(ctx, ids[2]); d == nil || d.State != huella.DeliveryDead {
		t.Errorf("delivery of a revoked agreement is %v, want dead", d)
	}
	for state, want := range map[huella.DeliveryState]int{huella.DeliveryDelivered: 1, huella.DeliveryDead: 2, huella.DeliveryPending: 0} {
		list, err := s.ListDeliveries(ctx, huella.DeliveryFilter{Partner: "GT-PNC", State: state})
		if err != nil || len(list) != want {
			t.Errorf("ListDeliveries(%s) = %d, %v; want %d", state, len(list), err, want)
		}
	}
	checkChain(t, auditEvents(t, s))
}
