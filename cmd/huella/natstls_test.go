package main

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/tlstest"
)

// TestNATSTLS: the --nats-* flags make a server config for the embedded
// NATS (requiring client certificates with --nats-ca) and a client config
// for an external one, and refuse what cannot work.
func TestNATSTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := tlstest.MustCertificate(t, dir, "nats")
	ca := cert // self-signed: it is its own CA
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	if cfg, err := (&ForwardConfig{}).natsTLS(); cfg != nil || err != nil {
		t.Errorf("no --nats-* flag: %v, %v; want plain NATS", cfg, err)
	}
	embedded, err := (&ForwardConfig{NATSListen: "127.0.0.1:4223", NATSCert: cert, NATSKey: key, NATSCA: ca}).natsTLS()
	if err != nil || len(embedded.Certificates) != 1 || embedded.ClientCAs == nil || embedded.RootCAs != nil || embedded.MinVersion < tls.VersionTLS12 {
		t.Errorf("embedded server with --nats-ca: %+v, %v; want its certificate and the clients' CA", embedded, err)
	}
	external, err := (&ForwardConfig{NATS: "tls://nats.example:4222", NATSCA: ca}).natsTLS()
	if err != nil || external.RootCAs == nil || len(external.Certificates) != 0 || external.ClientCAs != nil {
		t.Errorf("external server with --nats-ca: %+v, %v; want its CA to verify it", external, err)
	}
	for name, c := range map[string]ForwardConfig{
		"ErrCertWithoutKey":    {NATSListen: "127.0.0.1:4223", NATSCert: cert},
		"ErrEmbeddedNoPort":    {NATSCert: cert, NATSKey: key},
		"ErrEmbeddedNoCert":    {NATSListen: "127.0.0.1:4223", NATSCA: ca},
		"ErrCAIsNoCertificate": {NATS: "tls://nats.example:4222", NATSCA: garbage},
		"ErrKeyMissing":        {NATS: "tls://nats.example:4222", NATSCert: cert, NATSKey: filepath.Join(dir, "missing.key")},
	} {
		var ce *ConfigError
		if cfg, err := c.natsTLS(); !errors.As(err, &ce) || cfg != nil {
			t.Errorf("%s: %v, %v; want a ConfigError", name, cfg, err)
		}
	}
}
