package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/oidctest"
	"github.com/huella-abis/huella/internal/tlstest"
)

// writeSignOnConfig writes an --sso-config file for the provider and the
// console at base.
func writeSignOnConfig(tb testing.TB, path string, op *oidctest.Provider, base string, mode os.FileMode) {
	tb.Helper()
	cfg := map[string]any{
		"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"redirect_url": base + "/signin/sso/callback", "scopes": []string{"groups"},
		"rules": []map[string]any{{"value": "huella-supervisors", "role": "supervisor"}},
	}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, data, mode); err != nil {
		tb.Fatal(err)
	}
}

// TestServeSignOn runs the real serve over TLS with --sso-config, and signs
// in to its console through an OpenID provider running in the test.
func TestServeSignOn(t *testing.T) {
	dir := t.TempDir()
	op := oidctest.Start(t, oidctest.User{Subject: "s-sara", Username: "sara.mendez", Password: "pw-sara", Groups: []string{"huella-supervisors"}})
	addr := freeAddr(t)
	base := "https://" + addr
	op.AllowRedirect(base+"/signin/sso/callback", base+"/signin")

	t.Run("ErrConfig", func(t *testing.T) {
		readable := filepath.Join(dir, "readable.json")
		writeSignOnConfig(t, readable, op, base, 0o644)
		unknown := filepath.Join(dir, "unknown.json")
		os.WriteFile(unknown, []byte(`{"issuer": "https://idp.example.org", "roles": []}`), 0o600)
		for name, tc := range map[string]struct{ file, want string }{
			"ErrSecretReadable": {readable, "others may read it"},
			"ErrUnknownField":   {unknown, `unknown field "roles"`},
			"ErrMissing":        {filepath.Join(dir, "none.json"), "no such file"},
		} {
			data := filepath.Join(dir, name)
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--sso-config", tc.file}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "sso-config") {
				t.Errorf("%s: err %v, want one saying %q", name, err, tc.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("%s: the data directory was created (%v)", name, err)
			}
		}
	})

	t.Run("OK", func(t *testing.T) {
		config := filepath.Join(dir, "sso.json")
		writeSignOnConfig(t, config, op, base, 0o600)
		cert, key, pool := tlstest.MustCertificate(t, dir, "huella")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var stdout, stderr bytes.Buffer
		go func() {
			done <- Run(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--addr", addr,
				"--tls-cert", cert, "--tls-key", key, "--sso-config", config}, &stdout, &stderr)
		}()
		t.Cleanup(func() { cancel(); <-done })
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		get := func(u string) (*http.Response, string) {
			t.Helper()
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if resp, err := client.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve not ready:\n%s", stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		resp, body := get(base + "/signin")
		if !strings.Contains(body, `id="signin-sso"`) || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("GET /signin: no single sign-on link or no HSTS\n%s", body)
		}
		_, body = get(base + "/signin/sso?next=%2F")
		m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("not at the provider's login form:\n%s", body)
		}
		resp, err := client.PostForm(op.Issuer+"/login", url.Values{"id": {m[1]}, "username": {"sara.mendez"}, "password": {"pw-sara"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/signin/sso/callback" {
			t.Fatalf("callback: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		if _, body = get(base + "/"); !strings.Contains(body, "sara.mendez") {
			t.Fatalf("GET / after sign-on does not name the user:\n%s", body)
		}
		if strings.Contains(stderr.String(), "sara.mendez") {
			t.Error("serve's log names the person")
		}
	})
}
