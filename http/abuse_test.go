package http_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestResponseHeaders checks that every kind of response, success and
// error, API and image, is marked not to be cached or sniffed (issue 18,
// finding 8).
func TestResponseHeaders(t *testing.T) {
	e := MustOpenEnv(t)
	sample := e.enrolls["MX-TAP"].Samples[0].ID
	for _, c := range []struct{ user, path string }{
		{"officer", "/v1/encounters/" + e.enrolls["MX-TAP"].ID},
		{"officer", "/v1/samples/" + sample + "/image"},
		{"officer", "/v1/encounters/enc_nope"},
		{"", "/v1/me"},
		{"", "/healthz"},
	} {
		resp, _ := e.do(c.user, "GET", c.path, nil, "")
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", c.path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", c.path, got)
		}
	}
}

// TestListHitsBadFilter: an unknown state or kind is a 400, as for
// deliveries, not an empty list (issue 18, finding 8).
func TestListHitsBadFilter(t *testing.T) {
	e := MustOpenEnv(t)
	for _, q := range []string{"state=bogus", "kind=bogus", "state=PENDING"} {
		resp, body := e.do("supervisor", "GET", "/v1/hits?"+q, nil, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /v1/hits?%s = %d %s, want 400", q, resp.StatusCode, body)
		}
	}
	if resp, body := e.do("supervisor", "GET", "/v1/hits?state=pending&kind=duplicate", nil, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/hits?state=pending = %d %s", resp.StatusCode, body)
	}
}

// TestMetricsProtected: /metrics can require a token, and can move to an
// address of its own (issue 18, finding 8).
func TestMetricsProtected(t *testing.T) {
	t.Run("Token", func(t *testing.T) {
		e := MustOpenEnv(t)
		e.api.MetricsToken = "metrics-secret"
		if resp, _ := e.do("", "GET", "/metrics", nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /metrics without the token = %d, want 401", resp.StatusCode)
		}
		if resp, _ := e.do("officer", "GET", "/metrics", nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /metrics with a user's token = %d, want 401", resp.StatusCode)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer metrics-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "huella_encounters_enrolled_total") {
			t.Errorf("GET /metrics with the token = %d", resp.StatusCode)
		}
	})
	t.Run("Addr", func(t *testing.T) {
		e := MustOpenEnv(t)
		if err := e.api.OpenMetrics("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.api.Close() })
		if resp, _ := e.do("", "GET", "/metrics", nil, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /metrics on the API address = %d, want 404", resp.StatusCode)
		}
		resp, err := http.Get(e.api.MetricsURL())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "huella_encounters_enrolled_total 2") {
			t.Errorf("GET %s = %d", e.api.MetricsURL(), resp.StatusCode)
		}
	})
}

// TestAdministrativeInput: a partner's TLS files only from the configured
// directory, https outside loopback, and watchlists created only for an
// owner the caller may create them for (issue 18, finding 6).
func TestAdministrativeInput(t *testing.T) {
	e := MustOpenEnv(t)
	tlsDir := t.TempDir()
	e.api.PartnerFileDir = tlsDir
	partner := func(code, endpoint, caFile string) string {
		return fmt.Sprintf(`{"code":%q,"name":"Partner","endpoint":%q,"format":"json","ca_file":%q}`, code, endpoint, caFile)
	}
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"OK", partner("GT-OK", "https://p.example.gt/in", filepath.Join(tlsDir, "ca.pem")), http.StatusCreated},
		{"ErrCAFileShadow", partner("GT-SHADOW", "https://p.example.gt/in", "/etc/shadow"), http.StatusBadRequest},
		{"ErrCAFileDotDot", partner("GT-DOTDOT", "https://p.example.gt/in", tlsDir+"/../../etc/shadow"), http.StatusBadRequest},
		{"ErrPlainHTTP", partner("GT-HTTP", "http://p.example.gt/in", ""), http.StatusBadRequest},
		{"ErrPlainHTTPLookalike", partner("GT-LOOK", "http://127.0.0.1.example.gt/in", ""), http.StatusBadRequest},
	} {
		t.Run("Partner"+tt.name, func(t *testing.T) {
			if resp, body := e.do("admin", "POST", "/v1/partners", strings.NewReader(tt.body), "application/json"); resp.StatusCode != tt.want {
				t.Fatalf("POST /v1/partners = %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
	t.Run("ErrPartnerUpdateCAFile", func(t *testing.T) {
		body := `{"name":"Partner","endpoint":"https://p.example.gt/in","format":"json","ca_file":"/etc/shadow"}`
		if resp, b := e.do("admin", "PUT", "/v1/partners/GT-OK", strings.NewReader(body), "application/json"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("PUT /v1/partners/GT-OK = %d %s, want 400", resp.StatusCode, b)
		}
	})
	list := func(owner string) io.Reader {
		return strings.NewReader(fmt.Sprintf(`{"name":"List %d","owner":%q,"category":"wanted"}`, e.next(), owner))
	}
	for _, tt := range []struct {
		name, user, owner string
		want              int
	}{
		{"SupervisorProgram", "supervisor", "", http.StatusCreated},
		{"ErrSupervisorForPartner", "supervisor", "GT-OK", http.StatusForbidden},
		{"ErrSupervisorForNobody", "supervisor", "XX-NONE", http.StatusForbidden},
		{"AdminForPartner", "admin", "GT-OK", http.StatusCreated},
		{"ErrAdminForNobody", "admin", "XX-NONE", http.StatusBadRequest},
		{"ErrPartnerForOther", "partner", "GT-OK", http.StatusForbidden},
	} {
		t.Run("Watchlist"+tt.name, func(t *testing.T) {
			if resp, body := e.do(tt.user, "POST", "/v1/watchlists", list(tt.owner), "application/json"); resp.StatusCode != tt.want {
				t.Fatalf("POST /v1/watchlists as %s for %q = %d %s, want %d", tt.user, tt.owner, resp.StatusCode, body, tt.want)
			}
		})
	}
}
