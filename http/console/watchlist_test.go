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

// mustWatchMaria puts the irises of the demo's María Fernanda López on the
// partner GT-PNC's watchlist of wanted people, with an agreement that
// forwards confirmed hits of that category, and reloads the galleries.
func (e *env) mustWatchMaria() {
	t := e.t
	t.Helper()
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	if err := e.store.CreateAgreement(ctx, &huella.Agreement{Partner: "GT-PNC", Triggers: []huella.Trigger{huella.TriggerHit}, Categories: []string{"wanted"},
		Fields: []huella.Field{huella.FieldNames}, Modalities: []huella.Modality{huella.ModalityIris}, LegalBasis: "Memorando 2026/7, art. 5"}); err != nil {
		t.Fatal(err)
	}
	list := &huella.Watchlist{Name: "Órdenes de captura GT", Owner: "GT-PNC", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := e.store.CreateWatchlist(ctx, list); err != nil {
		t.Fatal(err)
	}
	x, err := newIdentifier(e.store)
	if err != nil {
		t.Fatal(err)
	}
	entry := &huella.WatchEntry{WatchlistID: list.ID, Reference: "PNC-2026-0117"}
	var images [][]byte
	for _, f := range []struct {
		file string
		eye  huella.Eye
	}{{"iris-002R01.jpg", huella.EyeRight}, {"iris-002L01.jpg", huella.EyeLeft}} {
		data := fixture(t, f.file)
		ref, err := e.blobs.Put(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		entry.Samples = append(entry.Samples, &huella.Sample{Modality: huella.ModalityIris, Eye: f.eye, ImageRef: ref, Format: "jpeg", Width: 320, Height: 280})
		images = append(images, data)
	}
	if reasons := x.Extract(ctx, entry.Samples, images); len(reasons) > 0 {
		t.Fatalf("watch entry templates: %v", reasons)
	}
	if err := e.store.CreateWatchEntry(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if e.enroller.Identifier, err = newIdentifier(e.store); err != nil { // loads the entry into the watchlist gallery
		t.Fatal(err)
	}
}

// TestWatchlistHitForwarded walks the whole way of a watchlist match: a
// partner's watchlist holds the irises of the demo's María Fernanda López;
// an officer enrolls her again in the console; the examiner confirms the
// hit side by side; the supervisor sees the delivery to the partner.
func TestWatchlistHitForwarded(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := MustOpenEnv(t)
	e.mustCreatePartner()
	e.mustWatchMaria()

	off := e.signIn("oficial.tapachula")
	off.get("/enroll")
	fields, _ := enrollForm("MX-TAP")
	code, body, _ := off.upload("/enroll", fields, map[string][]byte{"iris_right": fixture(t, "iris-002R01.jpg"), "iris_left": fixture(t, "iris-002L01.jpg")})
	if code != http.StatusOK || !strings.Contains(body, `id="hits"`) || !strings.Contains(body, "Posible persona en lista de vigilancia") {
		t.Fatalf("enrollment result: %d, want a pending watchlist hit\n%s", code, body)
	}

	ex := e.signIn("dictaminador")
	_, body = ex.get("/hits?kind=watchlist")
	m := regexp.MustCompile(`href="/hits/(hit_[0-9A-Z]{26})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no watchlist hit in the queue:\n%s", body)
	}
	code, body = ex.get("/hits/" + m[1])
	if code != http.StatusOK || !strings.Contains(body, "PNC-2026-0117") || !strings.Contains(body, "Órdenes de captura GT") {
		t.Fatalf("side by side: %d\n%s", code, body)
	}
	images2 := hitImage.FindAllStringSubmatch(body, -1)
	if len(images2) != 4 {
		t.Errorf("side by side: %d images, want both irises on both sides", len(images2))
	}
	for _, im := range images2 {
		if code, _ := ex.get(im[0]); code != http.StatusOK {
			t.Errorf("GET %s: %d", im[0], code)
		}
	}
	code, body = ex.post("/hits/"+m[1], url.Values{"decision": {"confirmed"}, "reason": {"ambos iris coinciden, criptas y collarete"}})
	if code != http.StatusOK || !strings.Contains(body, "se avisará a la institución titular") {
		t.Fatalf("confirm: %d\n%s", code, body)
	}

	sup := e.signIn("supervisor")
	_, body = sup.get("/partners?state=pending")
	if !strings.Contains(body, `id="delivery-list"`) || !strings.Contains(body, "Coincidencia confirmada en lista") {
		t.Fatalf("no delivery after the confirmation:\n%s", body)
	}
}

// mariaEntry returns the ID of the entry mustWatchMaria stored.
func (e *env) mariaEntry() *huella.WatchEntry {
	e.t.Helper()
	lists, err := e.store.ListWatchlists(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range lists {
		if l.Owner != "GT-PNC" {
			continue
		}
		entries, err := e.store.ListWatchEntries(context.Background(), l.ID)
		if err != nil || len(entries) != 1 {
			e.t.Fatalf("entries of %s: %d, %v", l.Name, len(entries), err)
		}
		return entries[0]
	}
	e.t.Fatal("no watchlist of GT-PNC")
	return nil
}

// TestRemoveWatchEntry has the supervisor take María Fernanda López off
// the partner's watchlist with a reason: her pending hit is withdrawn, the
// entry stays listed greyed with who, when and why, and her next
// enrollment raises no watchlist hit. It checks who may not.
func TestRemoveWatchEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := MustOpenEnv(t)
	e.mustCreatePartner()
	e.mustWatchMaria()
	entry := e.mariaEntry()
	path := "/watchlists/entries/" + entry.ID + "/remove"

	enrollMaria := func() string {
		t.Helper()
		off := e.signIn("oficial.tapachula")
		off.get("/enroll")
		fields, _ := enrollForm("MX-TAP")
		code, body, _ := off.upload("/enroll", fields, map[string][]byte{"iris_right": fixture(t, "iris-002R01.jpg"), "iris_left": fixture(t, "iris-002L01.jpg")})
		if code != http.StatusOK {
			t.Fatalf("enroll: %d\n%s", code, body)
		}
		return body
	}
	if body := enrollMaria(); !strings.Contains(body, "Posible persona en lista de vigilancia") {
		t.Fatalf("enrollment before the removal raised no watchlist hit\n%s", body)
	}
	pending, err := e.store.ListHits(context.Background(), huella.HitFilter{Kind: huella.HitWatchlist, State: huella.HitPending})
	if err != nil || len(pending) != 1 || pending[0].WatchEntryID != entry.ID {
		t.Fatalf("pending watchlist hits = %d, %v; want one on the entry", len(pending), err)
	}
	removed := func() bool {
		t.Helper()
		got, err := e.store.FindWatchEntry(context.Background(), entry.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Removed()
	}

	sup := e.signIn("supervisor")
	code, body := sup.get("/watchlists")
	if code != http.StatusOK || !strings.Contains(body, `id="watch-entries"`) || !strings.Contains(body, "PNC-2026-0117") ||
		!strings.Contains(body, `action="`+path+`"`) {
		t.Fatalf("GET /watchlists as supervisor: %d, want the entry with its remove form\n%s", code, body)
	}

	t.Run("ErrNotOwner", func(t *testing.T) {
		ex := e.signIn("dictaminador")
		if _, body := ex.get("/watchlists"); strings.Contains(body, `id="watch-entries"`) || strings.Contains(body, "PNC-2026-0117") {
			t.Errorf("the examiner is shown the entries")
		}
		if code, _ := ex.post(path, url.Values{"reason": {"x"}}); code != http.StatusForbidden {
			t.Errorf("examiner removes: got %d, want 403", code)
		}
		partner := e.signIn("socio") // another partner's list
		partner.get("/watchlists")
		if code, _ := partner.post(path, url.Values{"reason": {"not mine"}}); code != http.StatusForbidden {
			t.Errorf("another partner removes: got %d, want 403", code)
		}
		if removed() {
			t.Fatal("a refused removal removed the entry")
		}
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		if code, _ := sup.post(path, url.Values{"reason": {"withdrawn"}, "csrf": {"forged"}}); code != http.StatusForbidden {
			t.Errorf("forged form: got %d, want 403", code)
		}
		if removed() {
			t.Fatal("a forged form removed the entry")
		}
	})
	t.Run("ErrNoReason", func(t *testing.T) {
		code, body := sup.post(path, url.Values{"reason": {"  "}})
		if code != http.StatusBadRequest || !strings.Contains(body, "Escriba el motivo para retirar") {
			t.Fatalf("got %d, want 400 asking for the reason\n%s", code, body)
		}
		if removed() {
			t.Fatal("a removal without reason removed the entry")
		}
	})
	t.Run("OK", func(t *testing.T) {
		code, body := sup.post(path, url.Values{"reason": {"orden de captura retirada por la PNC"}})
		if code != http.StatusOK || !strings.Contains(body, `id="entry-removed"`) {
			t.Fatalf("got %d, want 200 with the removal\n%s", code, body)
		}
		row := regexp.MustCompile(`(?s)<tr class="removed" id="entry-` + entry.ID + `">.*?</tr>`).FindString(body)
		for _, want := range []string{"PNC-2026-0117", "Retirada", "por supervisor el", "orden de captura retirada por la PNC"} {
			if !strings.Contains(row, want) {
				t.Errorf("removed row lacks %q:\n%s", want, row)
			}
		}
		if strings.Contains(body, `action="`+path+`"`) {
			t.Errorf("the removed entry still offers its remove form")
		}
		got, err := e.store.FindHit(context.Background(), pending[0].ID)
		if err != nil || got.State != huella.HitWithdrawn {
			t.Errorf("the pending hit after the removal: %+v, %v; want withdrawn", got, err)
		}
		if body := enrollMaria(); strings.Contains(body, "Posible persona en lista de vigilancia") {
			t.Errorf("enrollment after the removal raised a watchlist hit\n%s", body)
		}
	})
	t.Run("ErrAlreadyRemoved", func(t *testing.T) {
		code, body := sup.post(path, url.Values{"reason": {"otra vez"}})
		if code != http.StatusConflict || !strings.Contains(body, "ya fue retirada") {
			t.Errorf("got %d, want 409\n%s", code, body)
		}
	})
}
