package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestUserAdmin: an administrator disables, enables and gives a new token
// to a user from the console; a disabled user's and a rotated token's open
// sessions end at once, and stay ended.
func TestUserAdmin(t *testing.T) {
	e := MustOpenEnv(t)
	admin := e.signIn("admin")
	target := e.users["supervisor"]
	signedIn := func(b *browser) bool {
		_, body := b.get("/")
		return !strings.Contains(body, `action="/signin"`)
	}

	t.Run("Disable", func(t *testing.T) {
		sup := e.signIn("supervisor")
		admin.get("/users")
		code, body := admin.post("/users/"+target.ID+"/disable", url.Values{})
		if code != http.StatusOK || !strings.Contains(body, `id="user-saved"`) {
			t.Fatalf("disable: %d\n%s", code, body)
		}
		if u, _ := e.store.FindUser(context.Background(), target.ID); !u.Disabled {
			t.Fatal("the user is not disabled")
		}
		if signedIn(sup) {
			t.Fatal("a disabled user's open session still works")
		}
		admin.get("/users")
		if code, body := admin.post("/users/"+target.ID+"/enable", url.Values{}); code != http.StatusOK {
			t.Fatalf("enable: %d\n%s", code, body)
		}
		if signedIn(sup) {
			t.Error("a session ended by disabling came back when the user was enabled again")
		}
		if !signedIn(e.signIn("supervisor")) {
			t.Error("a re-enabled user cannot sign in")
		}
	})
	t.Run("ErrDisableSelf", func(t *testing.T) {
		admin.get("/users")
		code, body := admin.post("/users/"+e.users["admin"].ID+"/disable", url.Values{})
		if code != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
			t.Fatalf("an administrator disabling themself: %d\n%s", code, body)
		}
		if !signedIn(admin) {
			t.Fatal("the administrator was signed out")
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		sup := e.signIn("supervisor")
		admin.get("/users")
		code, body := admin.post("/users/"+target.ID+"/token", url.Values{})
		if code != http.StatusOK {
			t.Fatalf("rotate: %d\n%s", code, body)
		}
		m := regexp.MustCompile(`id="new-token" readonly value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no new token shown:\n%s", body)
		}
		if signedIn(sup) {
			t.Fatal("a session of the rotated token still works")
		}
		old := e.tokens["supervisor"]
		e.tokens["supervisor"] = m[1]
		t.Cleanup(func() { e.tokens["supervisor"] = old })
		if !signedIn(e.signIn("supervisor")) {
			t.Error("the new token does not sign in")
		}
		_, list := admin.get("/users?sort=last-used")
		if !strings.Contains(list, `href="/users"`) {
			t.Errorf("the list by last use offers no way back to the list by name:\n%s", list)
		}
	})
	t.Run("ErrNotAdmin", func(t *testing.T) {
		off := e.signIn("oficial.tapachula")
		if code, _ := off.post("/users/"+target.ID+"/disable", url.Values{}); code != http.StatusForbidden {
			t.Errorf("an officer disabling a user: %d, want 403", code)
		}
	})
}
