package sitelink_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/tlstest"
	"github.com/huella-abis/huella/sitelink"
)

// TestTLS: over a TLS leaf listener a site that trusts the center's
// certificate links and is answered; one that does not trust it never
// links.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := tlstest.MustCertificate(t, dir, "huella-center")
	_, _, otherPool := tlstest.MustCertificate(t, dir, "someone-else")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	seeds, keys := siteKeys(t, "MX-TIJ")
	hub, err := sitelink.OpenHub(sitelink.HubConfig{Listen: "127.0.0.1:0", Sites: keys,
		TLS: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	if err := hub.Serve(context.Background(), func(_ context.Context, _ string, u *sitelink.Upload) (*huella.CentralIdentification, error) {
		return &huella.CentralIdentification{State: huella.CentralIdentified, EncounterID: "c-" + u.Encounter.ID}, nil
	}); err != nil {
		t.Fatal(err)
	}
	open := func(roots *tls.Config) *sitelink.Leaf {
		leaf, err := sitelink.OpenLeaf(sitelink.LeafConfig{Site: "MX-TIJ", Hub: hub.LeafURL(), Seed: seeds["MX-TIJ"],
			TLS: roots, Reconnect: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { leaf.Close() })
		return leaf
	}
	t.Run("ErrUntrusted", func(t *testing.T) {
		leaf := open(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: otherPool})
		time.Sleep(500 * time.Millisecond)
		if leaf.Linked() {
			t.Fatal("a site that does not trust the center's certificate linked")
		}
	})
	t.Run("OK", func(t *testing.T) {
		leaf := open(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool})
		waitFor(t, "linked over TLS", 10*time.Second, leaf.Linked)
		var c *huella.CentralIdentification
		waitFor(t, "answered over TLS", 10*time.Second, func() bool {
			c, err = leaf.Send(context.Background(), upload("MX-TIJ", "enc_tls"))
			return err == nil
		})
		if c.EncounterID != "c-enc_tls" {
			t.Errorf("got %+v", c)
		}
	})
}
