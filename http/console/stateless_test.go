package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/enroll"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/http/console"
	"github.com/huella-abis/huella/internal/pgtest"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/sqlite"
)

// TestTwoNodes: two API nodes, each with its own connection to one store,
// behind one address that hands requests to them in turn (issue 17): a
// session opened through one works on the other, signing out on one ends
// it on both, disabling the user ends it on both, and failed sign-ins
// count against one limit whichever node takes them.
func TestTwoNodes(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		e := mustOpen(t)
		path := e.store.Path()
		runTwoNodes(t, e, func() huella.Database {
			st, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.MustSchema(t, "huella_console_")
		open := func() huella.Database {
			st, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		// Users of the store, made as "huella user add" makes them.
		e := &env{t: t, tokens: map[string]string{}, users: map[string]*huella.User{}, logs: &syncBuffer{}}
		seedStore := open()
		ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
		for _, u := range []*huella.User{{Name: "supervisor", Role: huella.RoleSupervisor}, {Name: "admin", Role: huella.RoleAdmin}} {
			token := strings.Repeat(u.Name[:1], 8) + "-two-nodes-token-" + u.Name
			u.TokenHash = huella.HashToken(token)
			if err := seedStore.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			e.tokens[u.Name], e.users[u.Name] = token, u
		}
		key, err := blob.LoadOrCreateKey(filepath.Join(t.TempDir(), "data.key"))
		if err != nil {
			t.Fatal(err)
		}
		if e.blobs, err = blob.NewFileStore(filepath.Join(t.TempDir(), "blobs"), key); err != nil {
			t.Fatal(err)
		}
		runTwoNodes(t, e, open)
	})
}

// runTwoNodes serves two nodes over stores from open behind one TLS
// address (e.srv) and runs the checks.
func runTwoNodes(t *testing.T, e *env, open func() huella.Database) {
	var stores [2]huella.Database
	var backends [2]*url.URL
	var served [2]atomic.Int64
	for i := range stores {
		stores[i] = open()
		logger := slog.New(slog.NewJSONHandler(e.logs, nil))
		enroller := enroll.NewService(stores[i], e.blobs)
		api := hhttp.NewServer(stores[i], e.blobs, enroller, logger)
		api.TrustProxy = true
		c, err := console.New(console.Config{Store: stores[i], Blobs: e.blobs, Enroll: enroller,
			Adjudicate: api.Adjudicate, Logger: logger, TrustProxy: true})
		if err != nil {
			t.Fatal(err)
		}
		api.Console = c
		i := i
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served[i].Add(1)
			api.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		backends[i], _ = url.Parse(srv.URL)
	}
	var turn atomic.Int64
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(backends[turn.Add(1)%2])
		pr.SetXForwarded()
		pr.Out.Header.Set("X-Forwarded-Proto", "https")
	}}
	e.srv = httptest.NewTLSServer(proxy)
	t.Cleanup(e.srv.Close)

	signedIn := func(b *browser) bool {
		code, body := b.get("/")
		return code == http.StatusOK && !strings.Contains(body, `action="/signin"`)
	}
	// onNode asks one node, not the proxy, for the home page with the
	// session's cookie, and reports whether it is signed in.
	onNode := func(i int, cookie string) bool {
		req, _ := http.NewRequest("GET", backends[i].String()+"/", nil)
		req.AddCookie(&http.Cookie{Name: "huella_session", Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf strings.Builder
		_, _ = io.Copy(&buf, resp.Body)
		return resp.StatusCode == http.StatusOK && !strings.Contains(buf.String(), `action="/signin"`)
	}
	sessionCookie := func(b *browser) string {
		u, _ := url.Parse(e.srv.URL)
		for _, c := range b.client.Jar.Cookies(u) {
			if c.Name == "huella_session" {
				return c.Value
			}
		}
		t.Fatal("no session cookie")
		return ""
	}

	t.Run("SignInOneUseOther", func(t *testing.T) {
		b := e.signIn("supervisor") // the form from one node, the sign-in by the other
		for range 4 {
			if !signedIn(b) {
				t.Fatal("a session opened through one node is refused by the other")
			}
		}
		ck := sessionCookie(b)
		if !onNode(0, ck) || !onNode(1, ck) {
			t.Fatal("a node refuses the session")
		}
		if served[0].Load() == 0 || served[1].Load() == 0 {
			t.Fatalf("requests served by the nodes: %d and %d, want both", served[0].Load(), served[1].Load())
		}
		if code, _ := b.post("/signout", url.Values{}); code != http.StatusOK {
			t.Fatalf("sign out: %d", code)
		}
		if onNode(0, ck) || onNode(1, ck) {
			t.Error("a node still serves a session signed out on the other")
		}
		if _, err := stores[1].FindSession(context.Background(), ck); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("FindSession after sign-out: %v, want ENOTFOUND", err)
		}
	})
	t.Run("DisabledEndsEverywhere", func(t *testing.T) {
		b := e.signIn("supervisor")
		ck := sessionCookie(b)
		ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
		if _, err := stores[0].SetUserDisabled(ctx, e.users["supervisor"].ID, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stores[0].SetUserDisabled(ctx, e.users["supervisor"].ID, false) })
		if _, err := stores[1].FindSession(context.Background(), ck); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("a disabled user's session is still stored: %v", err)
		}
		if onNode(0, ck) || onNode(1, ck) {
			t.Error("a disabled user's session still works on a node")
		}
	})
	t.Run("RateLimitShared", func(t *testing.T) {
		b := e.newBrowser()
		b.get("/signin")
		for i := range console.MaxFailedSignIns {
			code, _ := b.post("/signin", url.Values{"token": {"not-a-token"}, "next": {"/"}})
			if code != http.StatusUnauthorized {
				t.Fatalf("failed sign-in %d: %d, want 401", i+1, code)
			}
		}
		// The limit now holds on both nodes, even for the right token.
		for range 2 {
			code, body := b.post("/signin", url.Values{"token": {e.tokens["admin"]}, "next": {"/"}})
			if code != http.StatusTooManyRequests {
				t.Fatalf("sign-in past the limit: %d, want 429\n%s", code, body)
			}
		}
		n, err := stores[0].Attempts(context.Background(), "console-signin:127.0.0.1", console.SignInWindow)
		if err != nil || n != console.MaxFailedSignIns {
			t.Errorf("failed sign-ins counted: %d, %v; want %d", n, err, console.MaxFailedSignIns)
		}
	})
}
