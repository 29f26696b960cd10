package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/fusion"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/http/console"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
)

// env is the API with the console mounted, over a real SQLite store and
// encrypted blob store, seeded with the demonstration data.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	store    *sqlite.Store
	tokens   map[string]string // user name -> token
	users    map[string]*huella.User
	logs     *syncBuffer
	blobs    huella.BlobStore
	enroller *enroll.Service
	// adjudicate is the service the console decides hits through.
	adjudicate *adjudicate.Service
	// subject is the demo person seen at both sites under two names.
	subject string
	// siteLinks, when set before the server starts, is the console's
	// SiteLinks.
	siteLinks func(context.Context) map[string]console.SiteLink
}

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

// MustOpenEnv starts the server with the console over TLS (so that the
// client's cookie jar sends the Secure session cookie), seeded by demo.Seed.
func MustOpenEnv(tb testing.TB) *env {
	tb.Helper()
	e := mustOpen(tb)
	e.srv = httptestTLS(tb, e)
	return e
}

// httptestTLS serves the env's handler over TLS until the test ends.
func httptestTLS(tb testing.TB, e *env) *httptest.Server {
	srv := httptest.NewTLSServer(e.handler(false))
	tb.Cleanup(srv.Close)
	return srv
}

func mustOpen(tb testing.TB) *env { return mustOpenWith(tb, false) }

// seedDir holds a data directory seeded once by demo.Seed with
// identification (so that the demo's repeat encounter is linked by its
// biometrics); each test copies it rather than extracting templates again.
var seedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "huella-console-seed-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seedDir = dir
	if err := seed(dir); err != nil {
		fmt.Fprintln(os.Stderr, "seed the demo data:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func seed(dir string) error {
	store, err := sqlite.Open(filepath.Join(dir, "huella.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
	if err != nil {
		return err
	}
	blobs, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		return err
	}
	defer blobs.Close()
	enroller := enroll.NewService(store, blobs)
	if enroller.Identifier, err = newIdentifier(store); err != nil {
		return err
	}
	_, err = demo.Seed(context.Background(), store, enroller, key, time.Now())
	return err
}

// newIdentifier returns the fingerprint and iris 1:N search over the
// store, loaded.
func newIdentifier(store *sqlite.Store) (*match.Identifier, error) {
	cals, err := fusion.Default()
	if err != nil {
		return nil, err
	}
	x := match.NewIdentifier(store, []engine.Engine{engine.Finger{}, engine.Iris{}}, cals)
	if _, _, err := x.Load(context.Background()); err != nil {
		return nil, err
	}
	return x, nil
}

// copyDir copies the seeded data directory to dst.
func copyDir(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// mustOpenWith opens a copy of the seeded data; with identify, enrollment
// runs the fingerprint and iris 1:N search, as "huella serve" does.
func mustOpenWith(tb testing.TB, identify bool) *env {
	tb.Helper()
	dir := tb.TempDir()
	copyDir(tb, seedDir, dir)
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
	enroller := enroll.NewService(store, blobs)
	if identify {
		if enroller.Identifier, err = newIdentifier(store); err != nil {
			tb.Fatal(err)
		}
	}
	users, err := demo.Seed(context.Background(), store, enroller, key, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{t: tb, store: store, tokens: map[string]string{}, users: map[string]*huella.User{}, logs: &syncBuffer{}}
	for _, u := range users {
		e.tokens[u.Name], e.users[u.Name] = u.Token, u.User
	}
	list, err := store.ListEncounters(context.Background(), huella.EncounterFilter{Sites: []string{"MX-CDMX"}})
	if err != nil || len(list) != 1 {
		tb.Fatalf("demo encounters at MX-CDMX: %d, %v", len(list), err)
	}
	e.subject = list[0].SubjectID
	e.blobs, e.enroller = blobs, enroller
	return e
}

func (e *env) handler(insecure bool) http.Handler {
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	api := hhttp.NewServer(e.store, e.blobs, e.enroller, logger)
	c, err := console.New(console.Config{Store: e.store, Blobs: e.blobs, Enroll: e.enroller,
		Adjudicate: api.Adjudicate, Logger: logger, InsecureCookies: insecure, PartnerFileDir: "/etc/huella",
		SiteLinks: e.siteLinks})
	if err != nil {
		e.t.Fatal(err)
	}
	api.Console, e.adjudicate = c, api.Adjudicate
	return api.Handler()
}

// browser is a signed-in (or not) HTTP client with its own cookies.
type browser struct {
	t      testing.TB
	e      *env
	client *http.Client
	csrf   string
	lang   string
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// newBrowser returns a client with an empty cookie jar, in Spanish.
func (e *env) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *e.srv.Client() // a copy: each browser has its own cookies
	c.Jar = jar
	return &browser{t: e.t, e: e, client: &c, lang: "es"}
}

// signIn opens the sign-in page and signs in as the named demo user.
func (e *env) signIn(name string) *browser {
	e.t.Helper()
	b := e.newBrowser()
	if code, body := b.get("/signin"); code != http.StatusOK {
		e.t.Fatalf("GET /signin: %d\n%s", code, body)
	}
	code, body := b.post("/signin", url.Values{"token": {e.tokens[name]}, "next": {"/"}})
	if code != http.StatusOK || strings.Contains(body, `action="/signin"`) {
		e.t.Fatalf("sign in as %s: %d\n%s", name, code, body)
	}
	return b
}

func (b *browser) do(req *http.Request) (int, string, *http.Response) {
	b.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	body := string(data)
	if m := csrfPattern.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, body, resp
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	code, body, _ := b.do(req)
	return code, body
}

// post sends a form with the page's CSRF token (unless the form has one).
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, _ := b.do(req)
	return code, body
}

// upload posts a multipart form: fields, then files by field name.
func (b *browser) upload(path string, fields url.Values, files map[string][]byte) (int, string, *http.Response) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if fields.Get("csrf") == "" {
		fields.Set("csrf", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile(name, name+".img")
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := demo.Fixture(name)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// auditActions returns the actions of the audit events by the user.
func (e *env) auditActions(userID string) []string {
	e.t.Helper()
	events, err := e.store.ListAuditEvents(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		if ev.Actor == userID {
			out = append(out, ev.Action)
		}
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestSignIn(t *testing.T) {
	e := MustOpenEnv(t)
	t.Run("OK", func(t *testing.T) {
		b := e.signIn("supervisor")
		code, body := b.get("/")
		if code != http.StatusOK || !strings.Contains(body, "supervisor") || !strings.Contains(body, `aria-current="page"`) {
			t.Fatalf("home after sign-in: %d\n%s", code, body)
		}
	})
	t.Run("RedirectsToSignIn", func(t *testing.T) {
		b := e.newBrowser()
		code, body := b.get("/dashboard")
		if code != http.StatusOK || !strings.Contains(body, `action="/signin"`) || !strings.Contains(body, `value="/dashboard"`) {
			t.Fatalf("GET /dashboard signed out: %d\n%s", code, body)
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin")
		code, body := b.post("/signin", url.Values{"token": {"hu_not-a-token"}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "Clave de acceso no válida") {
			t.Fatalf("got %d, want 401 with the message\n%s", code, body)
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin")
		b.csrf = "x"
		code, _ := b.post("/signin", url.Values{"token": {e.tokens["admin"]}, "csrf": {strings.Repeat("A", 43)}})
		if code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
	})
	t.Run("ErrCSRFOnPage", func(t *testing.T) {
		b := e.signIn("admin")
		code, body := b.post("/sites", url.Values{"csrf": {"forged"}, "code": {"MX-XYZ"}, "name": {"x"}, "country": {"MEX"}, "time_zone": {"UTC"}})
		if code != http.StatusForbidden {
			t.Fatalf("got %d, want 403\n%s", code, body)
		}
		if _, err := e.store.FindSite(context.Background(), "MX-XYZ"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Fatalf("forged form created the site: %v", err)
		}
	})
	t.Run("ErrCrossOrigin", func(t *testing.T) {
		b := e.signIn("admin")
		form := url.Values{"csrf": {b.csrf}, "code": {"MX-EVIL"}, "name": {"x"}, "country": {"MEX"}, "time_zone": {"UTC"}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/sites", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if code, _, _ := b.do(req); code != http.StatusForbidden {
			t.Fatalf("got %d, want 403", code)
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		b := e.signIn("auditor")
		if code, body := b.post("/signout", url.Values{}); code != http.StatusOK || !strings.Contains(body, `action="/signin"`) {
			t.Fatalf("sign out: %d\n%s", code, body)
		}
		if _, body := b.get("/audit"); !strings.Contains(body, `action="/signin"`) {
			t.Fatalf("still signed in after sign-out:\n%s", body)
		}
	})
	t.Run("ErrPlainHTTPOnNetwork", func(t *testing.T) {
		h := e.handler(false)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://10.0.0.5:8080/signin", nil))
		var anon *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == "huella_csrf" {
				anon = c
			}
		}
		req := httptest.NewRequest("POST", "http://10.0.0.5:8080/signin", strings.NewReader("token="+e.tokens["admin"]+"&csrf="+anon.Value))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(anon)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "HTTPS") {
			t.Fatalf("plain HTTP sign-in from the network: %d\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("CookieFlags", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin")
		form := url.Values{"token": {e.tokens["admin"]}, "csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		_, _, resp := b.do(req)
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "huella_session" {
				found = true
				if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
					t.Errorf("session cookie: HttpOnly=%v Secure=%v SameSite=%v", c.HttpOnly, c.Secure, c.SameSite)
				}
			}
		}
		if !found {
			t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
		}
	})
}

func TestAccess(t *testing.T) {
	e := MustOpenEnv(t)
	for _, tc := range []struct {
		user, path string
		want       int
	}{
		{"oficial.tapachula", "/audit", http.StatusForbidden},
		{"oficial.tapachula", "/users", http.StatusForbidden},
		{"oficial.tapachula", "/enroll", http.StatusOK},
		{"oficial.tapachula", "/dashboard", http.StatusOK},
		{"oficial.tapachula", "/encounters?site=MX-CDMX", http.StatusForbidden},
		{"oficial.tapachula", "/subjects/" + "sub_00000000000000000000000000", http.StatusNotFound},
		{"dictaminador", "/enroll", http.StatusForbidden},
		{"supervisor", "/enroll", http.StatusForbidden},
		{"supervisor", "/search", http.StatusOK},
		{"auditor", "/audit", http.StatusOK},
		{"auditor", "/encounters", http.StatusForbidden},
		{"admin", "/users", http.StatusOK},
		{"admin", "/sites", http.StatusOK},
		{"admin", "/watchlists", http.StatusOK},
		{"dictaminador", "/watchlists", http.StatusOK},
		{"oficial.tapachula", "/watchlists", http.StatusForbidden},
		{"supervisor", "/partners", http.StatusOK},
		{"auditor", "/partners", http.StatusOK},
		{"admin", "/subjects/" + e.subject, http.StatusForbidden},
		{"socio", "/", http.StatusOK},
		{"socio", "/dashboard", http.StatusForbidden},
		{"supervisor", "/no/such/page", http.StatusNotFound},
	} {
		t.Run(tc.user+tc.path, func(t *testing.T) {
			b := e.signIn(tc.user)
			if code, body := b.get(tc.path); code != tc.want {
				t.Fatalf("GET %s as %s: got %d, want %d\n%s", tc.path, tc.user, code, tc.want, body)
			}
		})
	}
}

// enrollForm is a complete enrollment as the form sends it.
func enrollForm(site string) (url.Values, map[string][]byte) {
	fields := url.Values{
		"site": {site}, "captured_at": {time.Now().Add(-time.Hour).In(mustLoc("America/Mexico_City")).Format("2006-01-02T15:04")},
		"reason": {"apprehension"}, "history": {"none"}, "given_0": {"Itzel"}, "family_0": {"Cañas Pérez"},
		"birth_year": {"1995"}, "sex": {"F"}, "nationality": {"GTM"},
		"doc_type_0": {"passport"}, "doc_number_0": {"G7766554"}, "doc_country_0": {"GTM"},
		"impression": {"plain"}, "ppi": {"500"},
		"finger_status_3": {"amputated"},
		"smt_type_0":      {"tattoo"}, "smt_code_0": {"TAT L ARM"}, "smt_class_0": {"PLANT"}, "smt_colors_0": {"BLACK", "RED"}, "smt_desc_0": {"rosa"},
	}
	return fields, nil
}

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func enrollFiles(tb testing.TB) map[string][]byte {
	return map[string][]byte{
		"finger_1": fixture(tb, "finger-105_1.png"), "finger_2": fixture(tb, "finger-106_1.png"),
		"iris_right": fixture(tb, "iris-002R01.jpg"), "face": fixture(tb, "face-b1.jpg"), "smt_photo_0": fixture(tb, "tattoo-57_1.jpg"),
	}
}

func encounterCount(tb testing.TB, s huella.Store) int {
	tb.Helper()
	st, err := s.EncounterStats(context.Background(), huella.EncounterFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return st.Total
}

// tenprintMark is the encounter page's cell of the amputated right middle
// finger: its name, the ANSI/NIST code and the reason in Spanish.
var tenprintMark = regexp.MustCompile(`data-position="3" data-absence="amputated"><strong>Medio derecho</strong><br><span class="tag"[^>]*>XX</span> amputado</div>`)

var encounterLink = regexp.MustCompile(`href="/encounters/(enc_[0-9A-Z]{26})"`)

var idempotencyField = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)

var subjectLink = regexp.MustCompile(`id="result-subject">(sub_[0-9A-Z]{26})<`)

func TestEnroll(t *testing.T) {
	e := MustOpenEnv(t)
	b := e.signIn("oficial.tapachula")
	b.get("/enroll")
	var subject string
	t.Run("NewSubject", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		code, body, resp := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusOK || resp.Request.URL.Path != "/enroll/result" || !strings.Contains(body, "Sujeto nuevo registrado") {
			t.Fatalf("enroll: %d at %s\n%s", code, resp.Request.URL.Path, body)
		}
		m := subjectLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no subject link in\n%s", body)
		}
		subject = m[1]
		sub, err := e.store.FindSubject(context.Background(), subject)
		if err != nil {
			t.Fatal(err)
		}
		enc := sub.Encounters[0]
		if got, want := len(enc.Samples), 5; got != want {
			t.Errorf("samples: got %d, want %d", got, want)
		}
		if len(enc.SMTs) != 1 || enc.SMTs[0].SampleID == "" || enc.SMTs[0].Code != "TAT L ARM" || len(enc.SMTs[0].Colors) != 2 {
			t.Errorf("smt: got %+v", enc.SMTs)
		}
		if enc.Biographics.Names[0].Family != "Cañas Pérez" || enc.Biographics.Documents[0].Number != "G7766554" {
			t.Errorf("biographics: got %+v", enc.Biographics)
		}
		if !strings.Contains(body, "<dt>Dedos amputados</dt><dd>Medio derecho</dd>") {
			t.Errorf("the amputated right middle finger is not shown:\n%s", body)
		}
		if want := []huella.FingerAbsence{{Position: 3, Reason: huella.AbsenceAmputated}}; !reflect.DeepEqual(enc.FingerAbsences, want) {
			t.Errorf("finger absences: got %+v, want %+v", enc.FingerAbsences, want)
		}
		// The encounter and the subject show the mark in the ten-print.
		for _, path := range []string{"/encounters/" + enc.ID, "/subjects/" + subject} {
			code, page := b.get(path)
			if code != http.StatusOK || !tenprintMark.MatchString(page) {
				t.Errorf("GET %s: %d, no amputated right middle finger in the ten-print:\n%s", path, code, page)
			}
		}
		if strings.Contains(e.logs.String(), "Cañas") || strings.Contains(e.logs.String(), "G7766554") {
			t.Errorf("biographics in the logs:\n%s", e.logs.String())
		}
	})
	t.Run("SentTwice", func(t *testing.T) {
		// The form carries one key: sent twice, it enrolls once.
		if _, page := b.get("/enroll"); !idempotencyField.MatchString(page) {
			t.Fatalf("the form has no idempotency key:\n%s", page)
		}
		fields, _ := enrollForm("MX-TAP")
		fields.Set("idempotency_key", "form-sent-twice")
		before := encounterCount(t, e.store)
		var encounters []string
		for range 2 {
			code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
			m := encounterLink.FindStringSubmatch(body)
			if code != http.StatusOK || m == nil {
				t.Fatalf("enroll: %d\n%s", code, body)
			}
			encounters = append(encounters, m[1])
		}
		if encounters[0] != encounters[1] {
			t.Errorf("the form sent twice made encounters %v", encounters)
		}
		if after := encounterCount(t, e.store); after != before+1 {
			t.Errorf("encounters: %d -> %d, want one more", before, after)
		}
		// Sent again with other data: refused, and the form gets a new key.
		fields.Set("given_0", "Itzel María")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		m := idempotencyField.FindStringSubmatch(body)
		if code != http.StatusConflict || !strings.Contains(body, "Este formulario ya se envió con otros datos") || m == nil || m[1] == "form-sent-twice" {
			t.Fatalf("the key sent with other data: %d, want 409, the message and a new key\n%s", code, body)
		}
		if after := encounterCount(t, e.store); after != before+1 {
			t.Errorf("encounters: %d -> %d, want one more", before, after)
		}
	})
	t.Run("ErrClaimWithoutSearch", func(t *testing.T) {
		// The subject given is a claim to verify by biometrics; without the
		// search nothing can verify it, so nothing is linked or stored.
		b.get("/enroll?subject=" + subject)
		fields, _ := enrollForm("MX-TAP")
		fields.Set("subject_id", subject)
		fields.Set("given_0", "Itzel M.")
		before := encounterCount(t, e.store)
		code, body, _ := b.upload("/enroll", fields, map[string][]byte{"finger_1": fixture(t, "finger-105_1.png")})
		if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "Un sujeto indicado se verifica por biometría") || !strings.Contains(body, `value="Itzel M."`) {
			t.Fatalf("claimed subject without search: %d, want 415 with the message and the form kept\n%s", code, body)
		}
		if after := encounterCount(t, e.store); after != before {
			t.Fatalf("encounters: %d -> %d, want none stored", before, after)
		}
	})
	t.Run("ErrNoName", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		fields.Del("given_0")
		fields.Del("family_0")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusBadRequest || !strings.Contains(body, "Nombre 1: falta el nombre o el apellido") || !strings.Contains(body, `value="G7766554"`) {
			t.Fatalf("got %d, want 400 with the message and the form kept\n%s", code, body)
		}
	})
	t.Run("ErrBadImage", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		code, body, _ := b.upload("/enroll", fields, map[string][]byte{"finger_2": []byte("not an image at all")})
		if code != http.StatusBadRequest || !strings.Contains(body, "Índice derecho: no es una imagen legible") {
			t.Fatalf("got %d, want 400 naming the right index\n%s", code, body)
		}
	})
	t.Run("Unprintable", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		fields.Set("finger_status_7", "unprintable")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusOK || !strings.Contains(body, "<dt>Dedos que no se pudieron imprimir</dt><dd>Índice izquierdo</dd>") {
			t.Fatalf("enroll with a bandaged finger: %d\n%s", code, body)
		}
		m := encounterLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no encounter link in\n%s", body)
		}
		enc, err := e.store.FindEncounter(context.Background(), m[1])
		if err != nil {
			t.Fatal(err)
		}
		want := []huella.FingerAbsence{{Position: 3, Reason: huella.AbsenceAmputated}, {Position: 7, Reason: huella.AbsenceUnprintable}}
		if !reflect.DeepEqual(enc.FingerAbsences, want) {
			t.Errorf("finger absences: got %+v, want %+v", enc.FingerAbsences, want)
		}
		b.post("/lang", url.Values{"lang": {"en"}, "next": {"/enroll"}})
		defer b.post("/lang", url.Values{"lang": {"es"}, "next": {"/enroll"}})
		code, page := b.get("/encounters/" + enc.ID)
		if code != http.StatusOK || !strings.Contains(page, `<span class="tag" title="ANSI/NIST-ITL 14.018">UP</span> unable to print`) {
			t.Errorf("GET encounter in English: %d, no bandaged left index:\n%s", code, page)
		}
	})
	t.Run("ErrUnprintableWithImage", func(t *testing.T) {
		before := encounterCount(t, e.store)
		fields, _ := enrollForm("MX-TAP")
		fields.Set("finger_status_2", "unprintable")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusBadRequest || !strings.Contains(body, "Índice derecho: está marcado como imposible de imprimir, pero tiene imagen.") {
			t.Fatalf("got %d, want 400 naming the right index\n%s", code, body)
		}
		if after := encounterCount(t, e.store); after != before {
			t.Errorf("encounters: %d before, %d after", before, after)
		}
	})
	t.Run("ErrMarkedWithImage", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		files := enrollFiles(t)
		files["finger_3"] = fixture(t, "finger-107_1.png")
		code, body, _ := b.upload("/enroll", fields, files)
		if code != http.StatusBadRequest || !strings.Contains(body, "amputado, pero tiene imagen") {
			t.Fatalf("got %d, want 400\n%s", code, body)
		}
	})
	t.Run("ErrOtherSite", func(t *testing.T) {
		fields, _ := enrollForm("MX-CDMX")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusForbidden || !strings.Contains(body, "No puede enrolar en el sitio MX-CDMX") {
			t.Fatalf("got %d, want 403\n%s", code, body)
		}
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		fields, _ := enrollForm("MX-TAP")
		fields.Set("csrf", "forged")
		if code, body, _ := b.upload("/enroll", fields, enrollFiles(t)); code != http.StatusForbidden {
			t.Fatalf("got %d, want 403\n%s", code, body)
		}
	})
	t.Run("ErrEnglish", func(t *testing.T) {
		b.lang = "en"
		defer func() { b.lang = "es" }()
		b.post("/lang", url.Values{"lang": {"en"}, "next": {"/enroll"}})
		defer b.post("/lang", url.Values{"lang": {"es"}, "next": {"/enroll"}})
		fields, _ := enrollForm("MX-TAP")
		fields.Set("birth_month", "13")
		code, body, _ := b.upload("/enroll", fields, enrollFiles(t))
		if code != http.StatusBadRequest || !strings.Contains(body, "biographics.birth_date.month out of range") || !strings.Contains(body, "Please correct") {
			t.Fatalf("got %d, want 400 in English\n%s", code, body)
		}
	})
}

// TestEnrollIdentified enrolls the demo's first person again, without
// naming the subject: the 1:N search links the encounter and the result
// shows the evidence.
func TestEnrollIdentified(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	e := mustOpenWith(t, true)
	e.srv = httptest.NewTLSServer(e.handler(false))
	t.Cleanup(e.srv.Close)
	b := e.signIn("oficial.tapachula")
	b.get("/enroll")
	fields, _ := enrollForm("MX-TAP")
	fields.Del("finger_status_3")
	fields.Set("given_0", "Carlos")
	fields.Set("family_0", "Méndez")
	files := map[string][]byte{"iris_right": fixture(t, "iris-001R02.jpg"), "iris_left": fixture(t, "iris-001L02.jpg")}
	for i, id := range []int{101, 102, 103, 104} {
		files[fmt.Sprintf("finger_%d", i+2)] = fixture(t, fmt.Sprintf("finger-%d_2.png", id))
	}
	code, body, _ := b.upload("/enroll", fields, files)
	if code != http.StatusOK || !strings.Contains(body, "Vinculado automáticamente") || !strings.Contains(body, e.subject) {
		t.Fatalf("enroll the same person again: %d, want a link to %s\n%s", code, e.subject, body)
	}
	for _, want := range []string{`id="evidence"`, "Índice derecho", "Iris derecho", "persona distinta de cada"} {
		if !strings.Contains(body, want) {
			t.Errorf("result lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("result page:\n%s", body[strings.Index(body, "<main"):])
	}
}

func TestSubject(t *testing.T) {
	e := MustOpenEnv(t)
	t.Run("Supervisor", func(t *testing.T) {
		b := e.signIn("supervisor")
		code, body := b.get("/subjects/" + e.subject)
		if code != http.StatusOK {
			t.Fatalf("subject: %d\n%s", code, body)
		}
		for _, want := range []string{"Carlos Alberto", "José Luis", "Ramírez", "MX-TAP", "MX-CDMX", "0801-1990-12345", "/samples/smp_", "vinculado por biometría"} {
			if !strings.Contains(body, want) {
				t.Errorf("subject page lacks %q", want)
			}
		}
		if got := count(e.auditActions(e.users["supervisor"].ID), huella.ActionSubjectRead); got != 1 {
			t.Errorf("subject.read events: got %d, want 1", got)
		}
	})
	t.Run("OfficerSeesOwnSiteOnly", func(t *testing.T) {
		b := e.signIn("oficial.tapachula")
		code, body := b.get("/subjects/" + e.subject)
		if code != http.StatusOK {
			t.Fatalf("subject: %d\n%s", code, body)
		}
		if !strings.Contains(body, "Carlos Alberto") || strings.Contains(body, "José Luis") || strings.Contains(body, "0801-1990-12345") {
			t.Errorf("officer at MX-TAP sees the wrong names:\n%s", body)
		}
		if !strings.Contains(body, "solo se muestran fecha, sitio y motivo") {
			t.Errorf("the MX-CDMX encounter is not shown as masked")
		}
	})
}

var imagePattern = regexp.MustCompile(`/samples/(smp_[0-9A-Z]{26})/image`)

func TestImage(t *testing.T) {
	e := MustOpenEnv(t)
	sup := e.signIn("supervisor")
	_, body := sup.get("/subjects/" + e.subject)
	ids := imagePattern.FindAllStringSubmatch(body, -1)
	if len(ids) == 0 {
		t.Fatalf("no images on the subject page")
	}
	t.Run("OK", func(t *testing.T) {
		before := count(e.auditActions(e.users["supervisor"].ID), huella.ActionSampleRead)
		req, _ := http.NewRequest("GET", e.srv.URL+"/samples/"+ids[0][1]+"/image", nil)
		code, data, resp := sup.do(req)
		if code != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") || len(data) < 1000 {
			t.Fatalf("image: %d %s %d bytes", code, resp.Header.Get("Content-Type"), len(data))
		}
		if resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("Cache-Control: got %q", resp.Header.Get("Cache-Control"))
		}
		if got := count(e.auditActions(e.users["supervisor"].ID), huella.ActionSampleRead); got != before+1 {
			t.Errorf("sample.read events: got %d, want %d", got, before+1)
		}
	})
	t.Run("ErrOtherSite", func(t *testing.T) {
		off := e.signIn("oficial.tapachula")
		var forbidden int
		for _, id := range ids {
			code, _ := off.get("/samples/" + id[1] + "/image")
			if code == http.StatusForbidden {
				forbidden++
			}
		}
		if forbidden == 0 || forbidden == len(ids) {
			t.Fatalf("officer at MX-TAP: %d of %d images forbidden, want the MX-CDMX ones only", forbidden, len(ids))
		}
	})
}

func TestSearch(t *testing.T) {
	e := MustOpenEnv(t)
	b := e.signIn("supervisor")
	for _, tc := range []struct{ name, q, want string }{
		{"NameWithoutAccents", "carlos mendez", e.subject},
		{"Alias", "jose luis ramirez", e.subject},
		{"Document", "0801 1990 12345", e.subject},
		{"Passport", "a1234567", "María Fernanda"},
		{"PrefixesAnyOrder", "MEND carl", e.subject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := b.get("/search?q=" + url.QueryEscape(tc.q))
			if code != http.StatusOK || !strings.Contains(body, tc.want) || !strings.Contains(body, `id="search-results"`) {
				t.Fatalf("search %q: %d, want %q\n%s", tc.q, code, tc.want, body)
			}
		})
	}
	for _, q := range []string{"zzzz", "endez", "a b c d e f g h i j k", "--"} {
		t.Run("NoMatch", func(t *testing.T) {
			code, body := b.get("/search?q=" + url.QueryEscape(q))
			if code != http.StatusOK || strings.Contains(body, `id="search-results"`) || !strings.Contains(body, "0 sujetos") {
				t.Fatalf("search %q: %d\n%s", q, code, body)
			}
		})
	}
	t.Run("SubjectID", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/search?q="+e.subject, nil)
		_, _, resp := b.do(req)
		if resp.Request.URL.Path != "/subjects/"+e.subject {
			t.Fatalf("search by subject ID landed on %s", resp.Request.URL.Path)
		}
	})
	t.Run("OfficerSitesOnly", func(t *testing.T) {
		off := e.signIn("oficial.cdmx")
		_, body := off.get("/search?q=maria")
		if strings.Contains(body, "María Fernanda") {
			t.Fatalf("officer at MX-CDMX found a MX-TAP person")
		}
	})
}

func TestPages(t *testing.T) {
	e := MustOpenEnv(t)
	t.Run("Dashboard", func(t *testing.T) {
		b := e.signIn("supervisor")
		_, body := b.get("/dashboard")
		if n := strings.Count(body, "<rect class=\"series-"); n < 4 {
			t.Errorf("dashboard: %d bars, want at least 4", n)
		}
		for _, want := range []string{"HND", "GTM", "SLV", "MX-TAP", "MX-CDMX", "<svg"} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		off := e.signIn("oficial.cdmx")
		_, body = off.get("/dashboard")
		if strings.Contains(body, "MX-TAP") {
			t.Errorf("officer at MX-CDMX sees MX-TAP on the dashboard")
		}
	})
	t.Run("Encounters", func(t *testing.T) {
		b := e.signIn("oficial.tapachula")
		_, body := b.get("/encounters")
		if !strings.Contains(body, "María Fernanda") || strings.Contains(body, "José Luis") {
			t.Errorf("officer's encounter list:\n%s", body)
		}
		today := time.Now().UTC().Format("2006-01-02")
		_, body = b.get("/encounters?from=" + today)
		if strings.Contains(body, "María Fernanda") {
			t.Errorf("from=%s lists an encounter of two days ago", today)
		}
		if got := count(e.auditActions(e.users["oficial.tapachula"].ID), huella.ActionEncounterList); got != 2 {
			t.Errorf("encounter.list events: got %d, want 2", got)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		b := e.signIn("auditor")
		code, body := b.get("/audit")
		if code != http.StatusOK || !strings.Contains(body, "íntegra") || !strings.Contains(body, "Enrolamiento") {
			t.Fatalf("audit: %d\n%s", code, body)
		}
	})
	t.Run("CreateUser", func(t *testing.T) {
		b := e.signIn("admin")
		b.get("/users")
		code, body := b.post("/users", url.Values{"name": {"ana.ruiz"}, "role": {"officer"}, "sites": {"MX-TAP"}})
		m := regexp.MustCompile(`id="new-token" readonly value="(hu_[^"]+)"`).FindStringSubmatch(body)
		if code != http.StatusCreated || m == nil {
			t.Fatalf("create user: %d\n%s", code, body)
		}
		e.tokens["ana.ruiz"] = m[1]
		if code, _ := e.signIn("ana.ruiz").get("/enroll"); code != http.StatusOK {
			t.Errorf("the new officer cannot open /enroll: %d", code)
		}
		code, body = b.post("/users", url.Values{"name": {"sin.sitio"}, "role": {"officer"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "El rol officer necesita al menos un sitio") {
			t.Errorf("officer without a site: %d\n%s", code, body)
		}
	})
	t.Run("Watchlists", func(t *testing.T) {
		ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
		if err := e.store.CreateWatchlist(ctx, &huella.Watchlist{Name: "Órdenes de captura GT", Owner: "GT-PNC", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		_, body := e.signIn("dictaminador").get("/watchlists")
		if !strings.Contains(body, "Órdenes de captura GT") || !strings.Contains(body, "Buscado") || !strings.Contains(body, ">Vigente<") {
			t.Fatalf("watchlists:\n%s", body)
		}
	})
	t.Run("CreateSite", func(t *testing.T) {
		b := e.signIn("admin")
		b.get("/sites")
		code, body := b.post("/sites", url.Values{"code": {"MX-TIJ"}, "name": {"Tijuana"}, "country": {"MEX"}, "time_zone": {"America/Tijuana"}})
		if code != http.StatusCreated || !strings.Contains(body, "Sitio MX-TIJ creado") {
			t.Fatalf("create site: %d\n%s", code, body)
		}
	})
}

func TestLanguage(t *testing.T) {
	e := MustOpenEnv(t)
	b := e.signIn("supervisor")
	if _, body := b.get("/search"); !strings.Contains(body, `<html lang="es">`) || !strings.Contains(body, "Cerrar sesión") {
		t.Fatalf("default language is not Spanish")
	}
	code, body := b.post("/lang", url.Values{"lang": {"en"}, "next": {"/search"}})
	if code != http.StatusOK || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Sign out") {
		t.Fatalf("after switching to English: %d\n%s", code, body)
	}
	t.Run("AcceptLanguage", func(t *testing.T) {
		nb := e.newBrowser()
		nb.lang = "en-GB,en;q=0.8"
		if _, body := nb.get("/signin"); !strings.Contains(body, "Access token") {
			t.Fatalf("Accept-Language en: sign-in page not in English")
		}
	})
	t.Run("ErrOpenRedirect", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/lang", strings.NewReader(url.Values{"lang": {"es"}, "next": {"//evil.example/"}, "csrf": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, _, resp := b.do(req)
		if resp.Request.URL.Host != strings.TrimPrefix(e.srv.URL, "https://") {
			t.Fatalf("redirected off site to %s", resp.Request.URL)
		}
	})
}

// TestCatalogues checks that both languages have every message, and that
// every message the templates name exists.
func TestCatalogues(t *testing.T) {
	cat := map[string]map[string]string{}
	for _, lang := range console.Languages {
		cat[lang] = console.Catalog(lang)
	}
	for key := range cat["es"] {
		if _, ok := cat["en"][key]; !ok && !strings.HasPrefix(key, "domain.") {
			t.Errorf("en lacks %q", key)
		}
	}
	for key := range cat["en"] {
		if _, ok := cat["es"][key]; !ok {
			t.Errorf("es lacks %q", key)
		}
	}
	keyPattern := regexp.MustCompile(`\.T "([a-z_.0-9-]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	if len(files) == 0 {
		t.Fatal("no templates")
	}
	for _, f := range files {
		data := mustRead(t, f)
		for _, m := range keyPattern.FindAllStringSubmatch(data, -1) {
			for _, lang := range console.Languages {
				if _, ok := cat[lang][m[1]]; !ok {
					t.Errorf("%s: %s lacks %q", f, lang, m[1])
				}
			}
		}
	}
}

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	var buf bytes.Buffer
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	io.Copy(&buf, f)
	return buf.String()
}
