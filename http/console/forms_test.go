package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
)

// partnerForm is a complete new partner with its agreement, as the form
// sends it.
func partnerForm() url.Values {
	return url.Values{
		"code": {"HN-DPI"}, "name": {"Dirección Policial de Investigaciones"}, "endpoint": {"https://dpi.example/huella"},
		"format": {"ansinist"}, "triggers": {"conviction", "hit"}, "categories": {"wanted", "gang"},
		"modalities": {"finger", "face"}, "fields": {"names", "birth_date"}, "legal_basis": {"Convenio CA-4, art. 9"},
		"require_ack": {"on"},
	}
}

// TestCreatePartner has the admin add a partner and its agreement through
// the form and find them listed, and checks who may not.
func TestCreatePartner(t *testing.T) {
	e := MustOpenEnv(t)
	admin := e.signIn("admin")
	if code, body := admin.get("/partners"); code != http.StatusOK || !strings.Contains(body, `id="partner-form"`) {
		t.Fatalf("GET /partners as admin: %d, want the new partner form\n%s", code, body)
	}

	t.Run("ErrHitWithoutCategory", func(t *testing.T) {
		form := partnerForm()
		form.Del("categories")
		code, body := admin.post("/partners", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "marque al menos una categoría de lista") {
			t.Fatalf("got %d, want 400 with the domain's message in Spanish\n%s", code, body)
		}
		if !strings.Contains(body, `value="Convenio CA-4, art. 9"`) {
			t.Errorf("the form lost what was typed")
		}
		if _, err := e.store.FindPartner(context.Background(), "HN-DPI"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("a refused agreement left its partner: err = %v", err)
		}
	})

	t.Run("ErrCSRF", func(t *testing.T) {
		form := partnerForm()
		form.Set("csrf", "forged")
		if code, _ := admin.post("/partners", form); code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/partners", strings.NewReader(partnerForm().Encode())) // no csrf field at all
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if code, _, _ := admin.do(req); code != http.StatusForbidden {
			t.Fatalf("without a token: got %d, want 403", code)
		}
		if _, err := e.store.FindPartner(context.Background(), "HN-DPI"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("a forged form added the partner: err = %v", err)
		}
	})

	t.Run("ErrOfficer", func(t *testing.T) {
		off := e.signIn("oficial.tapachula")
		if code, _ := off.post("/partners", partnerForm()); code != http.StatusForbidden {
			t.Errorf("officer posts a partner: got %d, want 403", code)
		}
		sup := e.signIn("supervisor")
		if _, body := sup.get("/partners"); strings.Contains(body, `id="partner-form"`) {
			t.Errorf("the supervisor is offered the admin's form")
		}
		if code, _ := sup.post("/partners", partnerForm()); code != http.StatusForbidden {
			t.Errorf("supervisor posts a partner: got %d, want 403", code)
		}
	})

	t.Run("OK", func(t *testing.T) {
		admin.get("/partners")
		code, body := admin.post("/partners", partnerForm())
		if code != http.StatusCreated || !strings.Contains(body, `id="partner-saved"`) {
			t.Fatalf("got %d, want 201\n%s", code, body)
		}
		row := regexp.MustCompile(`(?s)<td class="code"><a href="/partners\?partner=HN-DPI">HN-DPI</a></td>.*?</tr>`).FindString(body)
		for _, want := range []string{"Dirección Policial de Investigaciones", "https://dpi.example/huella", "Convenio CA-4, art. 9", "Condena declarada", "exige acuse"} {
			if !strings.Contains(row, want) {
				t.Errorf("partner row lacks %q:\n%s", want, row)
			}
		}
		list, err := e.store.ListAgreements(context.Background(), "HN-DPI")
		if err != nil || len(list) != 1 {
			t.Fatalf("agreements of HN-DPI: %d, %v", len(list), err)
		}
		a := list[0]
		if !a.Active || !a.RequireAck || len(a.Triggers) != 2 || len(a.Categories) != 2 || !a.AllowsModality(huella.ModalityFace) || a.AllowsModality(huella.ModalityIris) ||
			!a.Allows(huella.FieldBirthDate) || a.Allows(huella.FieldDocuments) {
			t.Errorf("stored agreement: %+v", a)
		}
		if code, _ := admin.post("/partners", partnerForm()); code != http.StatusBadRequest && code != http.StatusConflict {
			t.Errorf("the same code again: got %d, want it refused", code)
		}
	})

	t.Run("AgreementOK", func(t *testing.T) {
		form := url.Values{"partner": {"HN-DPI"}, "triggers": {"duplicate"}, "fields": {"names"}, "legal_basis": {"Convenio CA-4, art. 11"}}
		code, body := admin.post("/agreements", form)
		if code != http.StatusCreated || !strings.Contains(body, `id="agreement-saved"`) || !strings.Contains(body, "Convenio CA-4, art. 11") {
			t.Fatalf("got %d, want 201 and the agreement listed\n%s", code, body)
		}
		if list, err := e.store.ListAgreements(context.Background(), "HN-DPI"); err != nil || len(list) != 2 || list[1].RequireAck {
			t.Errorf("agreements of HN-DPI after the second: %d, %v", len(list), err)
		}
	})

	t.Run("ErrAgreementUnknownPartner", func(t *testing.T) {
		form := url.Values{"partner": {"XX-NONE"}, "triggers": {"duplicate"}, "legal_basis": {"Convenio CA-4, art. 11"}}
		if code, body := admin.post("/agreements", form); code != http.StatusBadRequest || !strings.Contains(body, "Elija una institución socia registrada") {
			t.Fatalf("got %d, want 400\n%s", code, body)
		}
		off := e.signIn("oficial.tapachula")
		if code, _ := off.post("/agreements", form); code != http.StatusForbidden {
			t.Errorf("officer posts an agreement: got %d, want 403", code)
		}
	})
}

var entryHit = regexp.MustCompile(`href="/hits/(hit_[0-9A-Z]{26})"`)

// TestAddWatchEntry has a supervisor create a watchlist and put on it the
// irises of the demo's María Fernanda López, already enrolled: the retro
// search raises a hit on her, shown at once and in the examiner's queue.
func TestAddWatchEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	e.srv = httptestTLS(t, e)
	sup := e.signIn("supervisor")
	code, body := sup.get("/watchlists")
	if code != http.StatusOK || !strings.Contains(body, `id="watchlist-form"`) {
		t.Fatalf("GET /watchlists: %d, want the new watchlist form\n%s", code, body)
	}
	code, body = sup.post("/watchlists", url.Values{"name": {"Órdenes de captura MX"}, "category": {"wanted"}, "valid_from": {""}, "valid_until": {"2099-01-01T00:00"}})
	if code != http.StatusCreated || !strings.Contains(body, `id="list-saved"`) {
		t.Fatalf("create watchlist: %d\n%s", code, body)
	}
	m := regexp.MustCompile(`<option value="(wl_[0-9A-Z]+)"[^>]*>Órdenes de captura MX \(PROGRAM\)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the new list is not offered for entries:\n%s", body)
	}
	iris := map[string][]byte{"iris_right": fixture(t, "iris-002R01.jpg"), "iris_left": fixture(t, "iris-002L01.jpg")}

	t.Run("ErrCSRF", func(t *testing.T) {
		code, _, _ := sup.upload("/watchlists/entries", url.Values{"csrf": {"forged"}, "watchlist": {m[1]}, "reference": {"X"}}, iris)
		if code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
	})
	t.Run("ErrNoImage", func(t *testing.T) {
		code, body, _ := sup.upload("/watchlists/entries", url.Values{"watchlist": {m[1]}, "reference": {"MX-FGR-2026-0001"}}, nil)
		if code != http.StatusBadRequest || !strings.Contains(body, "Adjunte al menos una imagen biométrica") {
			t.Fatalf("got %d, want 400 asking for an image\n%s", code, body)
		}
	})
	t.Run("ErrOfficer", func(t *testing.T) {
		off := e.signIn("oficial.tapachula")
		off.get("/enroll")
		if code, _, _ := off.upload("/watchlists/entries", url.Values{"watchlist": {m[1]}, "reference": {"X"}}, iris); code != http.StatusForbidden {
			t.Errorf("officer adds an entry: got %d, want 403", code)
		}
		if code, _ := off.post("/watchlists", url.Values{"name": {"x"}, "category": {"wanted"}}); code != http.StatusForbidden {
			t.Errorf("officer creates a watchlist: got %d, want 403", code)
		}
	})
	t.Run("OK", func(t *testing.T) {
		fields := url.Values{"watchlist": {m[1]}, "reference": {"MX-FGR-2026-0001"}, "given_0": {"María Fernanda"}, "family_0": {"López"}}
		code, body, _ := sup.upload("/watchlists/entries", fields, iris)
		if code != http.StatusCreated || !strings.Contains(body, `id="entry-result"`) {
			t.Fatalf("add entry: %d\n%s", code, body)
		}
		hits := entryHit.FindAllStringSubmatch(body, -1)
		if len(hits) == 0 {
			t.Fatalf("the retro search raised no hit on María:\n%s", body)
		}
		h, err := e.store.FindHit(context.Background(), hits[0][1])
		if err != nil {
			t.Fatal(err)
		}
		if h.Kind != huella.HitWatchlist || h.State != huella.HitPending || h.WatchlistID != m[1] || h.SubjectID != e.subjectOf("María Fernanda") {
			t.Errorf("hit: kind %s state %s list %s subject %s, want a pending watchlist hit on María", h.Kind, h.State, h.WatchlistID, h.SubjectID)
		}
		ex := e.signIn("dictaminador")
		if _, body := ex.get("/hits/" + h.ID); !strings.Contains(body, "MX-FGR-2026-0001") {
			t.Errorf("the examiner's side by side lacks the entry's reference:\n%s", body)
		}
	})
}

// TestPartnerWatchlist checks that a partner's watchlist is its own, and
// that it sees no one else's.
func TestPartnerWatchlist(t *testing.T) {
	e := MustOpenEnv(t)
	sup := e.signIn("supervisor")
	sup.get("/watchlists")
	if code, body := sup.post("/watchlists", url.Values{"name": {"Lista del programa"}, "category": {"gang"}}); code != http.StatusCreated {
		t.Fatalf("supervisor creates a watchlist: %d\n%s", code, body)
	}
	p := e.signIn("socio")
	p.get("/watchlists")
	code, body := p.post("/watchlists", url.Values{"name": {"Lista propia"}, "owner": {"PROGRAM"}, "category": {"terrorism"}})
	if code != http.StatusCreated {
		t.Fatalf("partner creates a watchlist: %d\n%s", code, body)
	}
	if strings.Contains(body, "Lista del programa") {
		t.Errorf("the partner sees the program's watchlist")
	}
	lists, err := e.store.ListWatchlists(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var own, program string
	for _, l := range lists {
		switch l.Name {
		case "Lista propia":
			own = l.ID
			if l.Owner != e.users["socio"].Partner {
				t.Errorf("partner's watchlist owner: got %q, want %q", l.Owner, e.users["socio"].Partner)
			}
		case "Lista del programa":
			program = l.ID
		}
	}
	iris := map[string][]byte{"iris_right": fixture(t, "iris-002R01.jpg")}
	if code, _, _ := p.upload("/watchlists/entries", url.Values{"watchlist": {program}, "reference": {"X-1"}}, iris); code != http.StatusForbidden {
		t.Errorf("partner adds to the program's list: got %d, want 403", code)
	}
	// This env runs no identification engines: the entry cannot be searched for.
	if code, body, _ := p.upload("/watchlists/entries", url.Values{"watchlist": {own}, "reference": {"X-1"}}, iris); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "requiere los motores de identificación") {
		t.Errorf("entry without engines: got %d, want 503\n%s", code, body)
	}
}
