package http

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a fresh self-signed certificate and key to the files.
func writePair(t *testing.T, certFile, keyFile string, mod time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "huella"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCertReload: a renewed certificate is served after the next check of
// its files, not before; a half-written renewal keeps the old one.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	start := time.Now()
	writePair(t, certFile, keyFile, start.Add(-time.Hour))
	now := start
	l := &certLoader{certFile: certFile, keyFile: keyFile, now: func() time.Time { return now }}
	if err := l.load(); err != nil {
		t.Fatal(err)
	}
	serial := func() *big.Int {
		c, err := l.getCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber
	}
	first := serial()
	writePair(t, certFile, keyFile, start)
	now = start.Add(time.Second)
	if serial().Cmp(first) != 0 {
		t.Fatal("the renewal was served before the next check")
	}
	now = now.Add(certReloadInterval)
	renewed := serial()
	if renewed.Cmp(first) == 0 {
		t.Fatal("the renewal was not served after the check interval")
	}
	// Half a renewal: a new certificate whose key is not there yet.
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	os.Chtimes(keyFile, start.Add(time.Hour), start.Add(time.Hour))
	now = now.Add(certReloadInterval)
	if serial().Cmp(renewed) != 0 {
		t.Fatal("a broken pair replaced the served certificate")
	}
}
