package forward_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test partner CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key signed by the CA, as PEM.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMutualTLS: a partner whose server certificate comes from its own CA
// and which requires our client certificate receives deliveries when the
// partner's TLS settings name both, and none without our certificate.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "partner.example", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue(t, "huella", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)

	h := newHarness(t, embeddedBus, nil, nil)
	srv := httptest.NewUnstartedServer(h.sim)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	ctx := storetest.Context()
	p, err := h.store.FindPartner(ctx, "GT-PNC")
	if err != nil {
		t.Fatal(err)
	}
	p.Endpoint = srv.URL + "/deliveries"
	p.CAFile = writeFile(t, dir, "ca.pem", ca.pem)
	if err := h.store.UpdatePartner(ctx, p); err != nil { // no client certificate yet
		t.Fatal(err)
	}
	h.convict(1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _ := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{})
		if len(list) == 1 && list[0].Attempts > 0 {
			if list[0].State == huella.DeliveryDelivered || list[0].LastError == "" {
				t.Fatalf("delivered without our client certificate: %+v", list[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt without a client certificate")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.ClientCertFile = writeFile(t, dir, "client.pem", clientCert)
	p.ClientKeyFile = writeFile(t, dir, "client.key", clientKey)
	if err := h.store.UpdatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	delivered := h.waitDelivered(1, 15*time.Second)
	h.checkOnceInEffect(delivered)
}
