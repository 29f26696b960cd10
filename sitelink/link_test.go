package sitelink_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sitelink"
)

// siteKeys makes a key pair per site code.
func siteKeys(tb testing.TB, codes ...string) (seeds map[string][]byte, keys []sitelink.SiteKey) {
	tb.Helper()
	seeds = make(map[string][]byte)
	for _, code := range codes {
		seed, pub, err := sitelink.NewSiteKey()
		if err != nil {
			tb.Fatal(err)
		}
		seeds[code] = seed
		keys = append(keys, sitelink.SiteKey{Code: code, PublicKey: pub})
	}
	return seeds, keys
}

// MustOpenHub starts a hub on a free loopback port that answers with
// handle.
func MustOpenHub(tb testing.TB, keys []sitelink.SiteKey, handle sitelink.Handler) *sitelink.Hub {
	tb.Helper()
	hub, err := sitelink.OpenHub(sitelink.HubConfig{Listen: "127.0.0.1:0", Sites: keys, Workers: 4})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { hub.Close() })
	if err := hub.Serve(context.Background(), handle); err != nil {
		tb.Fatal(err)
	}
	return hub
}

// MustOpenLeaf starts a site's server joined to url with the seed.
func MustOpenLeaf(tb testing.TB, site, url string, seed []byte) *sitelink.Leaf {
	tb.Helper()
	leaf, err := sitelink.OpenLeaf(sitelink.LeafConfig{Site: site, Hub: url, Seed: seed, Reconnect: 100 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { leaf.Close() })
	return leaf
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not after %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upload is a one-sample encounter of the site with the ID.
func upload(site, id string) *sitelink.Upload {
	return &sitelink.Upload{
		Encounter: &huella.Encounter{ID: id, SiteCode: site, Samples: []*huella.Sample{{Modality: huella.ModalityFace}}},
		Images:    [][]byte{[]byte("not an image: the handler here does not decode")},
	}
}

// TestSiteCredentials checks that a site's nkey lets it send under its own
// subjects only: a node holding MX-TIJ's credentials that calls itself
// MX-MXL reaches nothing of MX-MXL's, nor does a raw publish under
// MX-MXL's subjects, nor a key the center does not know.
func TestSiteCredentials(t *testing.T) {
	seeds, keys := siteKeys(t, "MX-TIJ", "MX-MXL")
	var mu sync.Mutex
	got := map[string]int{}
	hub := MustOpenHub(t, keys, func(_ context.Context, site string, u *sitelink.Upload) (*huella.CentralIdentification, error) {
		mu.Lock()
		defer mu.Unlock()
		got[site]++
		return &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionNewSubject, EncounterID: "c-" + u.Encounter.ID}, nil
	})
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		tij := MustOpenLeaf(t, "MX-TIJ", hub.LeafURL(), seeds["MX-TIJ"])
		waitFor(t, "MX-TIJ linked", 10*time.Second, tij.Linked)
		var c *huella.CentralIdentification
		waitFor(t, "MX-TIJ answered", 10*time.Second, func() bool {
			var err error
			c, err = tij.Send(ctx, upload("MX-TIJ", "enc_1"))
			return err == nil
		})
		if c.EncounterID != "c-enc_1" || c.State != huella.CentralIdentified {
			t.Errorf("got %+v, want the center's identification of enc_1", c)
		}
	})
	t.Run("ErrOtherSite", func(t *testing.T) {
		// MX-TIJ's credentials, MX-MXL's name.
		impostor := MustOpenLeaf(t, "MX-MXL", hub.LeafURL(), seeds["MX-TIJ"])
		waitFor(t, "impostor linked", 10*time.Second, impostor.Linked)
		time.Sleep(300 * time.Millisecond) // interest has had time to spread
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := impostor.Send(sctx, upload("MX-MXL", "enc_2")); err == nil {
			t.Fatal("a site with MX-TIJ's credentials sent into MX-MXL")
		}
		if err := impostor.Conn().Publish(sitelink.EncounterSubject("MX-MXL"), []byte("HSU1")); err != nil {
			t.Fatal(err)
		}
		impostor.Conn().Flush()
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if got["MX-MXL"] != 0 {
			t.Errorf("MX-MXL's handler ran %d times for MX-TIJ's credentials", got["MX-MXL"])
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		stranger, _ := siteKeys(t, "MX-REY")
		leaf := MustOpenLeaf(t, "MX-REY", hub.LeafURL(), stranger["MX-REY"])
		time.Sleep(500 * time.Millisecond)
		if leaf.Linked() {
			t.Fatal("a key the center does not know joined the hub")
		}
		if _, err := leaf.Send(ctx, upload("MX-REY", "enc_3")); !errors.Is(err, sitelink.ErrUnlinked) {
			t.Errorf("send without a link: %v, want ErrUnlinked", err)
		}
	})
}

// proxy is a TCP relay between a site and the hub that a test can cut
// (every connection closed, new ones refused) and heal: a network
// partition on loopback.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	tb.Cleanup(func() { ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *proxy) URL() string { return "nats-leaf://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// Cut closes the connections through the proxy and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// cutOff cuts the link and waits until both ends have seen it: the site
// and the hub. A site that rejoins while the hub still holds its previous
// connection can be sent its own loop-detection interest back, which the
// NATS server takes for a loop and answers by waiting 30 s before the next
// try; a test that heals sooner would measure that wait, not the relay.
func cutOff(tb testing.TB, p *proxy, leaf *sitelink.Leaf, hub *sitelink.Hub) {
	tb.Helper()
	p.Cut()
	waitFor(tb, "cut off", 10*time.Second, func() bool { return !leaf.Linked() && hub.LinkedSites() == 0 })
}

// Heal lets connections through again.
func (p *proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// hostPort is the host:port of a nats-leaf:// URL.
func hostPort(url string) string { return url[len("nats-leaf://"):] }
