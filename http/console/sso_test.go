package console_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/huella-abis/huella"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/http/console"
	"github.com/huella-abis/huella/internal/oidctest"
)

// signOnRules map the test provider's groups and claims to Huella's roles.
var signOnRules = []console.SignOnRule{
	{Value: "huella-officers-tapachula", Role: huella.RoleOfficer, Sites: []string{"MX-TAP"}},
	{Value: "huella-supervisors", Role: huella.RoleSupervisor},
	{Claim: "huella_admin", Value: "true", Role: huella.RoleAdmin},
}

// ssoEnv is the console with single sign-on through a real OpenID provider
// running in the test process.
type ssoEnv struct {
	*env
	op *oidctest.Provider
}

// mustOpenSSO serves the console over TLS (for the Go client's cookie jar)
// or over plain HTTP on 127.0.0.1 (for Chromium, which keeps Secure
// cookies there).
func mustOpenSSO(tb testing.TB, overTLS bool) *ssoEnv {
	tb.Helper()
	e := mustOpen(tb)
	op := oidctest.Start(tb,
		oidctest.User{Subject: "s-ana", Username: "ana.ruiz", Password: "pw-ana", Groups: []string{"staff", "huella-officers-tapachula"}},
		oidctest.User{Subject: "s-sara", Username: "sara.mendez", Password: "pw-sara", Groups: []string{"huella-supervisors"}},
		oidctest.User{Subject: "s-root", Username: "root", Password: "pw-root", Claims: map[string]any{"huella_admin": true}},
		oidctest.User{Subject: "s-nadie", Username: "nadie", Password: "pw-nadie", Groups: []string{"staff"}},
	)
	var sso *console.SignOn
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	api := hhttp.NewServer(e.store, e.blobs, e.enroller, logger)
	e.srv.Config.Handler = api.Handler()
	if overTLS {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	tb.Cleanup(e.srv.Close)
	sso = &console.SignOn{
		Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		RedirectURL: e.srv.URL + "/signin/sso/callback", Scopes: []string{"groups"},
		Rules: signOnRules, Label: "Test IdP",
	}
	if err := sso.Validate(); err != nil {
		tb.Fatal(err)
	}
	op.AllowRedirect(sso.RedirectURL, e.srv.URL+"/signin")
	c, err := console.New(console.Config{Store: e.store, Blobs: e.blobs, Enroll: e.enroller,
		Adjudicate: api.Adjudicate, Logger: logger, PartnerFileDir: "/etc/huella", SignOn: sso})
	if err != nil {
		tb.Fatal(err)
	}
	api.Console, e.adjudicate = c, api.Adjudicate
	e.srv.Config.Handler = api.Handler()
	return &ssoEnv{env: e, op: op}
}

// ssoUser returns the Huella user of the provider's account.
func (e *ssoEnv) ssoUser(subject string) *huella.User {
	e.t.Helper()
	users, err := e.store.ListUsers(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range users {
		if u.Identity == huella.SignOnIdentity(e.op.Issuer, subject) {
			return u
		}
	}
	e.t.Fatalf("no user for the account %s", subject)
	return nil
}

var refreshPattern = regexp.MustCompile(`http-equiv="refresh" content="0; url=([^"]+)"`)

var loginIDPattern = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signOn follows the console's single sign-on link to the provider's login
// form, signs in there, and returns the console's answer to the callback.
func (e *ssoEnv) signOn(b *browser, username, password string) (int, string) {
	e.t.Helper()
	code, body := b.get("/signin")
	if code != http.StatusOK || !strings.Contains(body, `id="signin-sso"`) {
		e.t.Fatalf("GET /signin: %d, no single sign-on link\n%s", code, body)
	}
	code, body = b.get("/signin/sso?next=%2Fdashboard")
	m := loginIDPattern.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		e.t.Fatalf("GET /signin/sso did not reach the provider's login form: %d\n%s", code, body)
	}
	form := url.Values{"id": {m[1]}, "username": {username}, "password": {password}}
	req, _ := http.NewRequest("POST", e.op.Issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body, _ = b.do(req)
	return code, body
}

func TestSignOn(t *testing.T) {
	e := mustOpenSSO(t, true)
	t.Run("OK", func(t *testing.T) {
		b := e.newBrowser()
		code, body := e.signOn(b, "ana.ruiz", "pw-ana")
		if code != http.StatusOK || !strings.Contains(body, `url=/dashboard`) {
			t.Fatalf("callback: %d\n%s", code, body)
		}
		code, body = b.get("/dashboard")
		if code != http.StatusOK || !strings.Contains(body, "ana.ruiz") {
			t.Fatalf("GET /dashboard after sign-on: %d, want 200 naming ana.ruiz\n%s", code, body)
		}
		// PKCE with S256, and the groups asked for.
		auths := e.op.Authorizations()
		last := auths[len(auths)-1]
		if last.CodeChallenge == "" || last.CodeChallengeMethod != "S256" || last.Nonce == "" {
			t.Errorf("authorization request: challenge %q method %q nonce %q, want S256 PKCE and a nonce",
				last.CodeChallenge, last.CodeChallengeMethod, last.Nonce)
		}
		if !slices.Contains(last.Scopes, "groups") || !slices.Contains(last.Scopes, "openid") {
			t.Errorf("scopes %v, want openid and groups", last.Scopes)
		}
		// The person is a Huella user now, linked to the account, and the
		// sign-on is audited under that user.
		ana := e.ssoUser("s-ana")
		if ana.Name != "ana.ruiz" || ana.Role != huella.RoleOfficer || !slices.Equal(ana.Sites, []string{"MX-TAP"}) {
			t.Errorf("user made at sign-on: %+v", ana)
		}
		if got := e.auditActions(ana.ID); count(got, huella.ActionUserSignOn) != 1 {
			t.Errorf("audit by the user: %v, want one %s", got, huella.ActionUserSignOn)
		}
		admin := e.signIn("admin")
		if _, body := admin.get("/users"); !strings.Contains(body, "ana.ruiz <span class=\"code small\">"+ana.ID+"</span> <span class=\"tag\">") {
			t.Errorf("the users page does not show ana.ruiz as a single sign-on user")
		}
		if strings.Contains(e.logs.String(), "ana.ruiz") {
			t.Error("the log names the person")
		}
	})
	t.Run("RoleMapping", func(t *testing.T) {
		for _, tc := range []struct {
			user, password string
			open, refused  string // a page the role opens, and one it may not
		}{
			{"ana.ruiz", "pw-ana", "/enroll", "/users"},
			{"sara.mendez", "pw-sara", "/encounters", "/enroll"},
			{"root", "pw-root", "/users", "/enroll"},
		} {
			b := e.newBrowser()
			if code, body := e.signOn(b, tc.user, tc.password); code != http.StatusOK {
				t.Fatalf("%s: callback %d\n%s", tc.user, code, body)
			}
			if code, body := b.get(tc.open); code != http.StatusOK {
				t.Errorf("%s: GET %s: %d, want 200\n%s", tc.user, tc.open, code, body)
			}
			if code, _ := b.get(tc.refused); code != http.StatusForbidden {
				t.Errorf("%s: GET %s: %d, want 403", tc.user, tc.refused, code)
			}
		}
	})
	t.Run("RoleChange", func(t *testing.T) {
		e.op.SetGroups("s-ana", "huella-supervisors")
		t.Cleanup(func() { e.op.SetGroups("s-ana", "staff", "huella-officers-tapachula") })
		b := e.newBrowser()
		if code, body := e.signOn(b, "ana.ruiz", "pw-ana"); code != http.StatusOK {
			t.Fatalf("callback %d\n%s", code, body)
		}
		if code, _ := b.get("/enroll"); code != http.StatusForbidden {
			t.Errorf("GET /enroll as a supervisor now: %d, want 403", code)
		}
		if u := e.ssoUser("s-ana"); u.Role != huella.RoleSupervisor || u.Sites != nil {
			t.Errorf("after the provider moved her: %s at %v, want supervisor at every site", u.Role, u.Sites)
		}
		e.op.SetGroups("s-ana", "staff")
		if code, _ := e.signOn(e.newBrowser(), "ana.ruiz", "pw-ana"); code != http.StatusForbidden {
			t.Errorf("sign-on with no Huella group left: %d, want 403", code)
		}
	})
	t.Run("ErrNoRole", func(t *testing.T) {
		b := e.newBrowser()
		code, body := e.signOn(b, "nadie", "pw-nadie")
		if code != http.StatusForbidden || !strings.Contains(body, "Huella") || !strings.Contains(body, `action="/signin"`) {
			t.Fatalf("unmapped account: %d, want 403 and the sign-in page\n%s", code, body)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/dashboard", nil)
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if code, _, resp := b.do(req); code != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
			t.Errorf("GET /dashboard after a refused sign-on: %d, want a redirect to /signin", code)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		b := e.newBrowser()
		if code, body := e.signOn(b, "sara.mendez", "pw-sara"); code != http.StatusOK {
			t.Fatalf("callback %d\n%s", code, body)
		}
		if code, _ := b.get("/encounters"); code != http.StatusOK {
			t.Fatalf("GET /encounters: %d", code)
		}
		sara := e.ssoUser("s-sara")
		admin := huella.NewContextWithActor(context.Background(), e.users["admin"])
		if _, err := e.store.SetUserDisabled(admin, sara.ID, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.store.SetUserDisabled(admin, sara.ID, false) })
		if code, body := b.get("/encounters"); code != http.StatusOK || !strings.Contains(body, `action="/signin"`) {
			t.Errorf("GET /encounters once disabled: %d, want the sign-in page", code)
		}
		code, body := e.signOn(e.newBrowser(), "sara.mendez", "pw-sara")
		if code != http.StatusForbidden || !strings.Contains(body, `action="/signin"`) {
			t.Errorf("sign-on of a disabled user: %d, want 403 and the sign-in page", code)
		}
	})
	t.Run("ErrState", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin")
		code, _ := b.get("/signin/sso/callback?code=abc&state=forged")
		if code != http.StatusBadRequest {
			t.Errorf("callback without the browser's state: %d, want 400", code)
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		b := e.newBrowser()
		if code, body := e.signOn(b, "sara.mendez", "pw-sara"); code != http.StatusOK {
			t.Fatalf("callback %d\n%s", code, body)
		}
		b.get("/dashboard") // the session's CSRF token
		code, body := b.post("/signout", url.Values{})
		m := refreshPattern.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), e.op.Issuer+"/") {
			t.Fatalf("sign out: %d, want a page that moves on to the provider\n%s", code, body)
		}
		req, _ := http.NewRequest("GET", html.UnescapeString(m[1]), nil)
		code, body, _ = b.do(req)
		if code != http.StatusOK || !strings.Contains(body, `action="/signin"`) {
			t.Fatalf("sign out: %d, want the sign-in page after the provider\n%s", code, body)
		}
		if !slices.Contains(e.op.Terminated(), "s-sara") {
			t.Errorf("the provider's session did not end: %v", e.op.Terminated())
		}
		if code, body := b.get("/dashboard"); code != http.StatusOK || !strings.Contains(body, `action="/signin"`) {
			t.Errorf("GET /dashboard after sign-out: %d, want the sign-in page", code)
		}
	})
}

func TestSignOnMapClaims(t *testing.T) {
	s := &console.SignOn{SitesClaim: "huella_sites", Rules: []console.SignOnRule{
		{Value: "examiners-north", Role: huella.RoleExaminer, Sites: []string{"MX-TAP"}},
		{Value: "examiners-south", Role: huella.RoleExaminer, Sites: []string{"MX-CDMX"}},
		{Value: "supervisors", Role: huella.RoleSupervisor},
		{Claim: "department", Value: "audit", Role: huella.RoleAuditor},
	}}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		role   huella.Role
		sites  []string
	}{
		{"OK", map[string]any{"groups": []any{"examiners-north"}}, huella.RoleExaminer, []string{"MX-TAP"}},
		{"SitesUnion", map[string]any{"groups": []any{"examiners-south", "examiners-north"}}, huella.RoleExaminer, []string{"MX-CDMX", "MX-TAP"}},
		{"SitesClaim", map[string]any{"groups": []any{"examiners-north"}, "huella_sites": []any{"MX-CDMX"}}, huella.RoleExaminer, []string{"MX-CDMX", "MX-TAP"}},
		{"FirstRuleWins", map[string]any{"groups": []any{"supervisors", "examiners-north"}}, huella.RoleExaminer, []string{"MX-TAP"}},
		{"UnscopedNoSites", map[string]any{"groups": []any{"supervisors"}, "huella_sites": "MX-TAP"}, huella.RoleSupervisor, nil},
		{"OtherClaim", map[string]any{"department": "audit"}, huella.RoleAuditor, nil},
		{"ErrNoRole", map[string]any{"groups": []any{"staff"}, "department": "it"}, "", nil},
		{"ErrNoClaims", map[string]any{}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, sites, err := s.MapClaims(tc.claims)
			if tc.role == "" {
				if huella.ErrorCode(err) != huella.EFORBIDDEN {
					t.Fatalf("got %s %v %v, want EFORBIDDEN", role, sites, err)
				}
				return
			}
			if err != nil || role != tc.role || !slices.Equal(sites, tc.sites) {
				t.Fatalf("got %s %v %v, want %s %v", role, sites, err, tc.role, tc.sites)
			}
		})
	}
}

func TestSignOnValidate(t *testing.T) {
	ok := func() *console.SignOn {
		return &console.SignOn{Issuer: "https://idp.example.org/realms/huella", ClientID: "huella",
			RedirectURL: "https://huella.example.org/signin/sso/callback", Rules: signOnRules}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("OK: %v", err)
	}
	for name, change := range map[string]func(*console.SignOn){
		"ErrIssuerHTTP":    func(s *console.SignOn) { s.Issuer = "http://idp.example.org" },
		"ErrClientID":      func(s *console.SignOn) { s.ClientID = "" },
		"ErrRedirect":      func(s *console.SignOn) { s.RedirectURL = "https://huella.example.org/callback" },
		"ErrNoRules":       func(s *console.SignOn) { s.Rules = nil },
		"ErrPartner":       func(s *console.SignOn) { s.Rules = []console.SignOnRule{{Value: "x", Role: huella.RolePartner}} },
		"ErrOfficerNoSite": func(s *console.SignOn) { s.Rules = []console.SignOnRule{{Value: "x", Role: huella.RoleOfficer}} },
		"ErrBadSite": func(s *console.SignOn) {
			s.Rules = []console.SignOnRule{{Value: "x", Role: huella.RoleOfficer, Sites: []string{"tap"}}}
		},
	} {
		s := ok()
		change(s)
		if err := s.Validate(); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

// TestBrowserSignOn signs in through the provider in headless Chromium:
// the provider is another site (localhost against 127.0.0.1), so the
// session cookie, SameSite=Strict, must survive the way back from it.
func TestBrowserSignOn(t *testing.T) {
	e := mustOpenSSO(t, false)
	s := newBrowserSession(t, e.srv.URL)
	s.run("sign on",
		chromedp.Navigate(s.url+"/signin"),
		chromedp.Click(chromedp.CSS("#signin-sso")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "ana.ruiz"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "pw-ana"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS("header nav")),
	)
	contains(t, "header after sign-on", s.text("header"), "ana.ruiz")
	s.screenshot("sso-signed-in", false)
	s.signOut()
	if got := e.op.Terminated(); !slices.Contains(got, "s-ana") {
		t.Errorf("the provider's session did not end: %v", got)
	}
	s.open("/dashboard", "#token")
}
