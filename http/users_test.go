package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// throwawayUser adds an officer at the site, for calls that change a user,
// and returns its ID.
func (e *env) throwawayUser(site string) string {
	name := fmt.Sprintf("throwaway%d", e.next())
	e.addUser(name, huella.RoleOfficer, site)
	return e.users[name].ID
}

// TestUserTokens: tokens expire, rotate and are disabled with their users,
// at once, through the API; an administrator lists them by last use.
func TestUserTokens(t *testing.T) {
	e := MustOpenEnv(t)
	create := func(t *testing.T, body string) (int, []byte) {
		t.Helper()
		resp, b := e.do("admin", "POST", "/v1/users", strings.NewReader(body), "application/json")
		return resp.StatusCode, b
	}
	type created struct {
		User  huella.User `json:"user"`
		Token string      `json:"token"`
	}
	status := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	code, body := create(t, `{"name":"ana.ruiz","role":"officer","sites":["MX-TAP"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var ana created
	if err := json.Unmarshal(body, &ana); err != nil {
		t.Fatal(err)
	}
	if life := ana.User.TokenExpiresAt.Sub(ana.User.TokenIssuedAt); life != huella.DefaultTokenLifetime {
		t.Errorf("a person's token lasts %v, want %v", life, huella.DefaultTokenLifetime)
	}
	if got := status(ana.Token); got != http.StatusOK {
		t.Fatalf("the new token: %d", got)
	}

	t.Run("Lifetimes", func(t *testing.T) {
		for _, tt := range []struct {
			body string
			want int
		}{
			{`{"name":"pnc-system","role":"partner","partner":"TEST-PARTNER","expires_in_days":365}`, http.StatusCreated},
			{`{"name":"long.officer","role":"officer","sites":["MX-TAP"],"expires_in_days":365}`, http.StatusBadRequest},
			{`{"name":"long.system","role":"partner","partner":"TEST-PARTNER","expires_in_days":1000}`, http.StatusBadRequest},
			{`{"name":"neg.officer","role":"officer","sites":["MX-TAP"],"expires_in_days":-1}`, http.StatusBadRequest},
		} {
			if code, body := create(t, tt.body); code != tt.want {
				t.Errorf("%s: %d %s, want %d", tt.body, code, body, tt.want)
			}
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		resp, body := e.do("admin", "POST", "/v1/users/"+ana.User.ID+"/token", nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("rotate: %d %s", resp.StatusCode, body)
		}
		var rotated created
		if err := json.Unmarshal(body, &rotated); err != nil {
			t.Fatal(err)
		}
		if got := status(ana.Token); got != http.StatusUnauthorized {
			t.Errorf("the old token after rotation: %d, want 401", got)
		}
		if got := status(rotated.Token); got != http.StatusOK {
			t.Errorf("the rotated token: %d, want 200", got)
		}
		ana.Token = rotated.Token
		resp, _ = e.do("admin", "POST", "/v1/users/"+ana.User.ID+"/token", strings.NewReader(`{"expires_in_days":91}`), "application/json")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a person's token for 91 days: %d, want 400", resp.StatusCode)
		}
		if got := status(ana.Token); got != http.StatusOK {
			t.Errorf("a refused rotation changed the token: %d", got)
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		if resp, body := e.do("admin", "POST", "/v1/users/"+ana.User.ID+"/disable", nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("disable: %d %s", resp.StatusCode, body)
		}
		if got := status(ana.Token); got != http.StatusUnauthorized {
			t.Errorf("a disabled user's token: %d, want 401", got)
		}
		if resp, body := e.do("admin", "POST", "/v1/users/"+ana.User.ID+"/enable", nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("enable: %d %s", resp.StatusCode, body)
		}
		if got := status(ana.Token); got != http.StatusOK {
			t.Errorf("a re-enabled user's token: %d, want 200", got)
		}
		resp, _ := e.do("admin", "POST", "/v1/users/"+e.users["admin"].ID+"/disable", nil, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("an administrator disabling themself: %d, want 400", resp.StatusCode)
		}
		resp, _ = e.do("admin", "POST", "/v1/users/usr_NOBODY/disable", nil, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("disabling an unknown user: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("LastUsed", func(t *testing.T) {
		resp, body := e.do("admin", "GET", "/v1/users?sort=last-used", nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var users []huella.User
		if err := json.Unmarshal(body, &users); err != nil {
			t.Fatal(err)
		}
		seenNever := false
		for i, u := range users {
			if u.TokenUsedAt.IsZero() {
				seenNever = true
			} else if seenNever || (i > 0 && u.TokenUsedAt.After(users[i-1].TokenUsedAt)) {
				t.Fatalf("users not by last use, most recent first, never used last: %s at %d", u.Name, i)
			}
		}
		if users[0].TokenUsedAt.IsZero() {
			t.Error("no token's use was recorded")
		}
		if resp, _ := e.do("admin", "GET", "/v1/users?sort=age", nil, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("sort=age: %d, want 400", resp.StatusCode)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		now := e.api.Now
		t.Cleanup(func() { e.api.Now = now })
		e.api.Now = func() time.Time { return time.Now().Add(huella.DefaultTokenLifetime + time.Hour) }
		if got := status(ana.Token); got != http.StatusUnauthorized {
			t.Errorf("a token past its expiry: %d, want 401", got)
		}
	})
}
