package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/fusion"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
)

// env is a running API over a real SQLite store and encrypted blob store.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	api     *hhttp.Server
	store   *sqlite.Store
	dir     string
	logs    *syncBuffer
	tokens  map[string]string // user name -> token
	users   map[string]*huella.User
	enrolls map[string]*huella.Encounter // site -> an encounter there
	lists   [2]*huella.Watchlist         // the partner's own, the program's
	seq     int
}

// adminContext acts as the test's administrator.
func adminContext() context.Context {
	ctx := huella.NewContextWithActor(context.Background(), &huella.User{ID: "usr_test_admin", Role: huella.RoleAdmin})
	return huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
}

// newHit raises a pending duplicate hit on the site's encounter, against
// the subject enrolled at the other site.
func (e *env) newHit(site string) *huella.Hit {
	e.t.Helper()
	other := "MX-CDMX"
	if site == other {
		other = "MX-TAP"
	}
	c := &huella.Candidate{SubjectID: e.enrolls[other].SubjectID, LLR: 8, FMR: 3e-4}
	h := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: e.enrolls[site].ID, CandidateSubjectID: c.SubjectID, Candidate: c}
	if err := e.store.CreateHits(adminContext(), []*huella.Hit{h}); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// mergedSubject enrolls a new subject at the site, confirms it a duplicate
// of the site's first subject, and returns the merged subject's ID.
func (e *env) mergedSubject(site string) string {
	e.t.Helper()
	resp, body := e.enroll(e.officerAt(site), encounterJSON(site), fingerImage(e.t, "finger-105_1.png"))
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("enroll: %d %s", resp.StatusCode, body)
	}
	var enc huella.Encounter
	json.Unmarshal(body, &enc)
	c := &huella.Candidate{SubjectID: e.enrolls[site].SubjectID, LLR: 8}
	h := &huella.Hit{Kind: huella.HitDuplicate, EncounterID: enc.ID, CandidateSubjectID: c.SubjectID, Candidate: c}
	if err := e.store.CreateHits(adminContext(), []*huella.Hit{h}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.DecideHit(adminContext(), h.ID, huella.HitConfirmed, "same person"); err != nil {
		e.t.Fatal(err)
	}
	return enc.SubjectID
}

func (e *env) officerAt(site string) string {
	if site == "MX-CDMX" {
		return "officer-cdmx"
	}
	return "officer"
}

// next returns a number not returned before, for unique names.
func (e *env) next() int { e.seq++; return e.seq }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustOpenEnv starts the API with two sites, one user per role (officer and
// examiner at MX-TAP, a second officer at MX-CDMX) and one encounter at each site.
func MustOpenEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "huella.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	enroller := enroll.NewService(store, blobs)
	enroller.Identifier = mustIdentifier(tb, store)
	api := hhttp.NewServer(store, blobs, enroller, logger)
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	e := &env{t: tb, srv: srv, api: api, store: store, dir: dir, logs: logs,
		tokens: map[string]string{}, users: map[string]*huella.User{}, enrolls: map[string]*huella.Encounter{}}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	for _, s := range demo.Sites {
		site := *s
		if err := store.CreateSite(ctx, &site); err != nil {
			tb.Fatal(err)
		}
	}
	for _, u := range []struct {
		role  huella.Role
		sites []string
	}{
		{huella.RoleOfficer, []string{"MX-TAP"}}, {huella.RoleExaminer, []string{"MX-TAP"}},
		{huella.RoleSupervisor, nil}, {huella.RoleAuditor, nil}, {huella.RolePartner, nil}, {huella.RoleAdmin, nil},
	} {
		e.addUser(string(u.role), u.role, u.sites...)
	}
	e.addUser("officer-cdmx", huella.RoleOfficer, "MX-CDMX")
	for i, owner := range []string{"TEST-PARTNER", "PROGRAM"} {
		e.lists[i] = &huella.Watchlist{Name: "List " + owner, Owner: owner, Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
		if err := store.CreateWatchlist(ctx, e.lists[i]); err != nil {
			tb.Fatal(err)
		}
	}
	for _, site := range []string{"MX-TAP", "MX-CDMX"} {
		resp, body := e.enroll(e.officerAt(site), encounterJSON(site), fingerImage(tb, "finger-101_1.png"))
		if resp.StatusCode != http.StatusCreated {
			tb.Fatalf("seed enrollment at %s: %d %s", site, resp.StatusCode, body)
		}
		var enc huella.Encounter
		if err := json.Unmarshal(body, &enc); err != nil {
			tb.Fatal(err)
		}
		e.enrolls[site] = &enc
	}
	return e
}

var (
	faceOnce   sync.Once
	faceEngine *engine.Face
	faceErr    error
)

// mustIdentifier returns a loaded identifier with the real engines and the
// shipped calibrations (the face networks are decoded once per test binary).
func mustIdentifier(tb testing.TB, store *sqlite.Store) *match.Identifier {
	tb.Helper()
	faceOnce.Do(func() { faceEngine, faceErr = engine.NewFace() })
	if faceErr != nil {
		tb.Fatal(faceErr)
	}
	cals, err := fusion.Default()
	if err != nil {
		tb.Fatal(err)
	}
	x := match.NewIdentifier(store, []engine.Engine{engine.Finger{}, engine.Iris{}, faceEngine}, cals)
	if _, _, err := x.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return x
}

func (e *env) addUser(name string, role huella.Role, sites ...string) {
	token := hhttp.NewToken()
	u := &huella.User{Name: name, Role: role, Sites: sites, TokenHash: huella.HashToken(token)}
	if role == huella.RolePartner {
		u.Partner = "TEST-PARTNER"
	}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	if err := e.store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	e.tokens[name], e.users[name] = token, u
}

func (e *env) do(user, method, path string, body io.Reader, contentType string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// part is one image of a multipart enrollment.
type part struct {
	name string
	data []byte
}

func (e *env) enroll(user, encounter string, images ...part) (*http.Response, []byte) {
	e.t.Helper()
	body, ct := multipartBody(e.t, encounter, images...)
	return e.do(user, "POST", "/v1/encounters", body, ct)
}

func multipartBody(tb testing.TB, encounter string, images ...part) (*bytes.Buffer, string) {
	return multipartPart(tb, "encounter", encounter, images...)
}

// multipartPart builds a multipart body of a JSON part and image parts.
func multipartPart(tb testing.TB, name, jsonBody string, images ...part) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	w.Write([]byte(jsonBody))
	for _, p := range images {
		fw, _ := mw.CreateFormFile(p.name, p.name)
		fw.Write(p.data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func fingerImage(tb testing.TB, fixture string) part {
	data, err := demo.Fixture(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	return part{name: "f2", data: data}
}

// testNames are the biographic values of encounterJSON: they must never
// appear in logs.
var testNames = []string{"Xochitl", "Quetzalli-Ramos", "PASS998877"}

func encounterJSON(site string) string {
	return fmt.Sprintf(`{
  "site": %q,
  "captured_at": %q,
  "reason": "apprehension",
  "criminal_history": {"status": "none"},
  "biographics": {
    "names": [{"given": "Xochitl", "family": "Quetzalli-Ramos"}],
    "birth_date": {"year": 1995, "month": 3},
    "sex": "F",
    "nationality": "GTM",
    "documents": [{"type": "passport", "number": "PASS998877", "country": "GTM"}]
  },
  "samples": [{"image": "f2", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}]
}`, site, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
}

// snapshot is what a failed request must leave unchanged.
type snapshot struct {
	encounters int
	blobs      int
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	st, err := e.store.EncounterStats(context.Background(), huella.EncounterFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(filepath.Join(e.dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return snapshot{encounters: st.Total, blobs: n}
}

func TestHealth(t *testing.T) {
	e := MustOpenEnv(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, body := e.do("", "GET", p, nil, "")
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d %s", p, resp.StatusCode, body)
		}
	}
	_, body := e.do("", "GET", "/metrics", nil, "")
	if !strings.Contains(string(body), "huella_encounters_enrolled_total 2") {
		t.Errorf("metrics do not count the two enrollments")
	}
}

func TestEnrollAndRead(t *testing.T) {
	e := MustOpenEnv(t)
	enc := e.enrolls["MX-TAP"]
	if enc.ID == "" || enc.SubjectID == "" || len(enc.Samples) != 1 {
		t.Fatalf("created encounter = %+v", enc)
	}
	if got := enc.Samples[0]; got.Format != "png" || got.Width != 388 || got.Height != 374 {
		t.Errorf("sample = %+v, want a 388x374 png", got)
	}
	t.Run("Encounter", func(t *testing.T) {
		resp, body := e.do("officer", "GET", "/v1/encounters/"+enc.ID, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got huella.Encounter
		json.Unmarshal(body, &got)
		if got.Biographics.Names[0].Given != "Xochitl" || got.Officer != e.users["officer"].ID {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("Image", func(t *testing.T) {
		resp, body := e.do("officer", "GET", "/v1/samples/"+enc.Samples[0].ID+"/image", nil, "")
		want, _ := demo.Fixture("finger-101_1.png")
		if resp.StatusCode != 200 || !bytes.Equal(body, want) || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("status %d, %d bytes, type %s; want the fixture back", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
	})
	t.Run("Subject", func(t *testing.T) {
		resp, body := e.do("supervisor", "GET", "/v1/subjects/"+enc.SubjectID, nil, "")
		var got huella.Subject
		json.Unmarshal(body, &got)
		if resp.StatusCode != 200 || len(got.Encounters) != 1 || got.Encounters[0].ID != enc.ID {
			t.Fatalf("status %d, subject %+v", resp.StatusCode, got)
		}
	})
	t.Run("ListAndStats", func(t *testing.T) {
		resp, body := e.do("supervisor", "GET", "/v1/encounters?site=MX-TAP", nil, "")
		var list []huella.Encounter
		json.Unmarshal(body, &list)
		if resp.StatusCode != 200 || len(list) != 1 {
			t.Fatalf("status %d, %d encounters", resp.StatusCode, len(list))
		}
		resp, body = e.do("officer", "GET", "/v1/stats/encounters", nil, "")
		var st huella.EncounterStats
		json.Unmarshal(body, &st)
		if resp.StatusCode != 200 || st.Total != 1 || st.BySite["MX-TAP"] != 1 || st.ByNationality["GTM"] != 1 {
			t.Fatalf("officer stats %d %+v: want only MX-TAP's one encounter", resp.StatusCode, st)
		}
	})
	t.Run("Search", func(t *testing.T) {
		family := enc.Biographics.Names[0].Family
		for query, want := range map[string]int{
			"name=" + url.QueryEscape(strings.ToUpper(family)): 1,
			"name=zzzz": 0,
			"document=" + url.QueryEscape(enc.Biographics.Documents[0].Number): 1,
			"document=ZZ999": 0,
		} {
			resp, body := e.do("supervisor", "GET", "/v1/encounters?site=MX-TAP&"+query, nil, "")
			var list []huella.Encounter
			json.Unmarshal(body, &list)
			if resp.StatusCode != 200 || len(list) != want {
				t.Errorf("%s: status %d, %d encounters; want 200, %d", query, resp.StatusCode, len(list), want)
			}
		}
		if resp, _ := e.do("supervisor", "GET", "/v1/encounters?name=--", nil, ""); resp.StatusCode != 400 {
			t.Errorf("name without a word: status %d, want 400", resp.StatusCode)
		}
		events, err := e.store.ListAuditEvents(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if strings.Contains(strings.ToLower(ev.Detail), strings.ToLower(family)) {
				t.Errorf("audit event %s holds the name searched: %q", ev.Action, ev.Detail)
			}
		}
	})
	t.Run("FingerAbsences", func(t *testing.T) {
		absences := []huella.FingerAbsence{{Position: 1, Reason: huella.AbsenceAmputated}, {Position: 3, Reason: huella.AbsenceUnprintable}}
		resp, body := e.enroll("officer", withAbsences(encounterJSON("MX-TAP"),
			`{"position": 1, "reason": "amputated"}, {"position": 3, "reason": "unprintable"}`), fingerImage(t, "finger-104_1.png"))
		if resp.StatusCode != 201 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var created huella.Encounter
		json.Unmarshal(body, &created)
		if !reflect.DeepEqual(created.FingerAbsences, absences) {
			t.Errorf("created finger_absences = %+v, want %+v", created.FingerAbsences, absences)
		}
		var got huella.Encounter
		resp, body = e.do("officer", "GET", "/v1/encounters/"+created.ID, nil, "")
		json.Unmarshal(body, &got)
		if resp.StatusCode != 200 || !reflect.DeepEqual(got.FingerAbsences, absences) {
			t.Errorf("GET encounter: status %d, finger_absences %+v; want %+v", resp.StatusCode, got.FingerAbsences, absences)
		}
		// The subject access report holds them: they are the person's data.
		var rep struct{ Subject huella.Subject }
		resp, body = e.do("supervisor", "GET", "/v1/subjects/"+created.SubjectID+"/report", nil, "")
		json.Unmarshal(body, &rep)
		if resp.StatusCode != 200 || len(rep.Subject.Encounters) != 1 || !reflect.DeepEqual(rep.Subject.Encounters[0].FingerAbsences, absences) {
			t.Errorf("report: status %d, subject %+v; want the encounter with its absences", resp.StatusCode, rep.Subject)
		}
	})
	t.Run("ReadsAudited", func(t *testing.T) {
		events, err := e.store.ListAuditEvents(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range events {
			seen[ev.Action] = true
		}
		for _, a := range []string{huella.ActionEncounterCreate, huella.ActionEncounterRead, huella.ActionSampleRead, huella.ActionSubjectRead, huella.ActionEncounterList} {
			if !seen[a] {
				t.Errorf("no audit event %s", a)
			}
		}
	})
}

// TestSubjectReport: the report holds the subject's encounters and every
// audited access to them, and is itself audited.
func TestSubjectReport(t *testing.T) {
	e := MustOpenEnv(t)
	enc := e.enrolls["MX-TAP"]
	e.do("officer", "GET", "/v1/encounters/"+enc.ID, nil, "")
	resp, body := e.do("supervisor", "GET", "/v1/subjects/"+enc.SubjectID+"/report", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var rep struct {
		Subject    huella.Subject
		AuditTrail []huella.AuditEvent `json:"audit_trail"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Subject.Encounters) != 1 || rep.Subject.Encounters[0].ID != enc.ID {
		t.Fatalf("report subject = %+v", rep.Subject)
	}
	actions := map[string]bool{}
	for _, ev := range rep.AuditTrail {
		actions[ev.Action] = true
	}
	if !actions[huella.ActionEncounterCreate] || !actions[huella.ActionEncounterRead] {
		t.Errorf("audit trail actions %v: want the enrollment and the officer's read", actions)
	}
	events, _ := e.store.ListAuditEvents(context.Background(), 0, 10000)
	last := events[len(events)-1]
	if last.Action != huella.ActionExport || last.Purpose != huella.PurposeSubjectAccess || last.Object != "subject/"+enc.SubjectID {
		t.Errorf("last audit event %+v: want the report's export, for subject access", last)
	}
}

func TestOpenAPI(t *testing.T) {
	e := MustOpenEnv(t)
	resp, body := e.do("", "GET", "/openapi.json", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			License struct{ Identifier string } `json:"license"`
		} `json:"info"`
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	if got := doc.Info.License.Identifier; got != "Apache-2.0" {
		t.Errorf("info.license.identifier = %q, want Apache-2.0 (LICENSE)", got)
	}
	// Every endpoint of the access matrix is documented, and every
	// documented /v1 endpoint is in the matrix, so neither can drift.
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if strings.HasPrefix(path, "/v1/") {
				documented[strings.ToUpper(method)+" "+path] = true
				if op["responses"] == nil || op["summary"] == "" {
					t.Errorf("%s %s lacks responses or summary", method, path)
				}
			}
		}
	}
	for _, ep := range accessMatrix {
		if !documented[ep.route] {
			t.Errorf("%s is served but not in the OpenAPI document", ep.route)
		}
		delete(documented, ep.route)
	}
	for r := range documented {
		t.Errorf("%s is documented but not covered by the access matrix test", r)
	}
	// The schemas come from the types: a new field shows without a hand edit.
	var components struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
				Required   []string       `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &components); err != nil {
		t.Fatal(err)
	}
	schemas := components.Components.Schemas
	for _, name := range []string{"EncounterRequest", "Encounter"} {
		if schemas[name].Properties["finger_absences"] == nil {
			t.Errorf("schema %s lacks finger_absences", name)
		}
	}
	if got := schemas["FingerAbsence"].Required; !reflect.DeepEqual(got, []string{"position", "reason"}) {
		t.Errorf("FingerAbsence requires %v, want position and reason", got)
	}
}
