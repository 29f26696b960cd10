package http_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/sqlite"
)

// MustCertificate writes a self-signed certificate for 127.0.0.1 and its
// key as PEM files in dir, and returns their paths and a pool that trusts
// the certificate.
func MustCertificate(tb testing.TB, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

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
	certFile, keyFile, pool := MustCertificate(t, dir, "a")
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
		_, otherKey, _ := MustCertificate(t, dir, "b")
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
