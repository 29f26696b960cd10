package http_test

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/internal/tlstest"
	"github.com/huella-abis/huella/sqlite"
)

// mustServer returns an API server on a fresh SQLite store, not yet open.
func mustServer(tb testing.TB) *hhttp.Server {
	tb.Helper()
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "huella.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return hhttp.NewServer(store, nil, nil, slog.New(slog.DiscardHandler))
}

// TestTLS serves HTTPS from PEM files: TLS 1.2 and later only, HSTS on
// every response, plain HTTP refused, a mismatched or missing pair an
// error at start.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := tlstest.MustCertificate(t, dir, "a")
	config, err := hhttp.TLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := mustServer(t)
	srv.TLS = config
	if err := srv.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL %s, want https", srv.URL())
	}
	client := func(maxVersion uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion}}}
	}

	t.Run("OK", func(t *testing.T) {
		resp, err := client(0).Get(srv.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("status %d, TLS %+v: want 200 over TLS 1.2+", resp.StatusCode, resp.TLS)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=63072000") {
			t.Errorf("Strict-Transport-Security %q, want two years", got)
		}
	})
	t.Run("ErrOldTLS", func(t *testing.T) {
		if resp, err := client(tls.VersionTLS11).Get(srv.URL() + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatal("a TLS 1.1 client was served")
		}
	})
	t.Run("ErrPlainHTTP", func(t *testing.T) {
		resp, err := http.Get("http://" + strings.TrimPrefix(srv.URL(), "https://") + "/healthz")
		if err != nil {
			return // refused outright: fine
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS port")
		}
	})
	t.Run("ErrMismatchedPair", func(t *testing.T) {
		_, otherKey, _ := tlstest.MustCertificate(t, dir, "b")
		if _, err := hhttp.TLSConfig(certFile, otherKey); err == nil {
			t.Error("a certificate with another certificate's key was accepted")
		}
		if _, err := hhttp.TLSConfig(filepath.Join(dir, "missing.crt"), keyFile); err == nil {
			t.Error("a missing certificate file was accepted")
		}
	})
}

// TestTrustProxy: a proxy's X-Forwarded-Proto earns HSTS only when the
// server is told to trust its proxy.
func TestTrustProxy(t *testing.T) {
	for _, trust := range []bool{false, true} {
		srv := mustServer(t)
		srv.TrustProxy = trust
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		srv.Handler().ServeHTTP(rec, req)
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != trust {
			t.Errorf("trust proxy %t: HSTS sent %t, want %t", trust, got, trust)
		}
	}
}
