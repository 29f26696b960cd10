package natsbus_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/tlstest"
	"github.com/huella-abis/huella/natsbus"
)

// TestTLS: an embedded server that listens on TLS and asks for client
// certificates serves a bus that connects with the CA and its own
// certificate, and refuses one without a certificate and one that does not
// trust the server.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	serverCert, serverKey, serverPool := tlstest.MustCertificate(t, dir, "nats-server")
	clientCert, clientKey, clientPool := tlstest.MustCertificate(t, dir, "huella-site")
	mustPair := func(cert, key string) tls.Certificate {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	server, err := natsbus.Open(context.Background(), natsbus.Config{StoreDir: uniqueDir(t), Listen: "127.0.0.1:-1",
		TLS: &tls.Config{Certificates: []tls.Certificate{mustPair(serverCert, serverKey)}, ClientCAs: clientPool}})
	if err != nil {
		t.Fatalf("embedded server on TLS: %v", err)
	}
	defer server.Close()
	url := server.ClientURL()
	if url[:6] != "tls://" {
		t.Fatalf("client URL %s, want a tls:// URL", url)
	}

	dial := func(cfg *tls.Config, wait time.Duration) (*natsbus.Bus, error) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		b, err := natsbus.Open(ctx, natsbus.Config{URL: url, TLS: cfg, AckWait: 2 * time.Second})
		if err != nil {
			return nil, err
		}
		if err := waitReady(ctx, b); err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	}
	client, err := dial(&tls.Config{RootCAs: serverPool, Certificates: []tls.Certificate{mustPair(clientCert, clientKey)}}, 10*time.Second)
	if err != nil {
		t.Fatalf("a client with the CA and its certificate: %v", err)
	}
	defer client.Close()
	ctx := context.Background()
	if err := client.Publish(ctx, "dlv_tls", []byte("over TLS")); err != nil {
		t.Fatal(err)
	}
	if m := mustNext(t, client); string(m.Data()) != "over TLS" {
		t.Errorf("got %q", m.Data())
	} else {
		m.Ack()
	}

	if b, err := dial(&tls.Config{RootCAs: serverPool}, 2*time.Second); err == nil {
		b.Close()
		t.Error("a client without a certificate reached a server that asks for one")
	}
	if b, err := dial(&tls.Config{Certificates: []tls.Certificate{mustPair(clientCert, clientKey)}}, 2*time.Second); err == nil {
		b.Close()
		t.Error("a client that does not trust the server's certificate connected")
	}
}
