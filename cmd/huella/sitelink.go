package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/http/console"
	"github.com/huella-abis/huella/sitelink"
)

// SiteLinkConfig makes serve a center that site nodes join (Leafnodes) or
// a site node joined to one (Site, Hub, HubCreds): docs/sites.md.
type SiteLinkConfig struct {
	// Leafnodes is the address a center accepts the sites' NATS leaf
	// connections on; the sites' public keys are DATA/site-keys/CODE.pub.
	Leafnodes string
	// LeafnodesTLSCert and LeafnodesTLSKey are the PEM certificate and key
	// the center's leaf listener presents; unset, the links are not TLS.
	LeafnodesTLSCert, LeafnodesTLSKey string
	// Site is a site node's own site code; Hub the center's leaf URL,
	// HubCreds the site's credentials file (huella site creds), HubCA the
	// PEM CA that signs the center's leaf certificate (for TLS).
	Site, Hub, HubCreds, HubCA string
}

func (c *Config) registerSiteLinkFlags(fs *flag.FlagSet) {
	s := &c.SiteLinks
	fs.StringVar(&s.Leafnodes, "leafnodes", os.Getenv("HUELLA_LEAFNODES"), "center: accept site nodes' NATS leaf connections on this address, e.g. 0.0.0.0:7422; site keys in DATA/site-keys ($HUELLA_LEAFNODES)")
	fs.StringVar(&s.LeafnodesTLSCert, "leafnodes-tls-cert", os.Getenv("HUELLA_LEAFNODES_TLS_CERT"), "center: PEM certificate (chain) of the leaf listener; empty: no TLS ($HUELLA_LEAFNODES_TLS_CERT)")
	fs.StringVar(&s.LeafnodesTLSKey, "leafnodes-tls-key", os.Getenv("HUELLA_LEAFNODES_TLS_KEY"), "center: the PEM private key of --leafnodes-tls-cert ($HUELLA_LEAFNODES_TLS_KEY)")
	fs.StringVar(&s.Site, "site", os.Getenv("HUELLA_SITE"), "site node: this node's site code; its encounters go to the center at --hub ($HUELLA_SITE)")
	fs.StringVar(&s.Hub, "hub", os.Getenv("HUELLA_HUB"), "site node: the center's leaf URL, nats-leaf://HOST:7422 ($HUELLA_HUB)")
	fs.StringVar(&s.HubCreds, "hub-creds", os.Getenv("HUELLA_HUB_CREDS"), "site node: the site's credentials file from \"huella site creds\" ($HUELLA_HUB_CREDS)")
	fs.StringVar(&s.HubCA, "hub-ca", os.Getenv("HUELLA_HUB_CA"), "site node: PEM CA of the center's leaf certificate; set, the link is TLS ($HUELLA_HUB_CA)")
}

// validate reports the first site link setting that does not hold.
func (s *SiteLinkConfig) validate() error {
	switch {
	case s.Site != "" && (s.Hub == "" || s.HubCreds == ""):
		return &ConfigError{"site", "a site node needs --hub and --hub-creds"}
	case s.Site == "" && (s.Hub != "" || s.HubCreds != "" || s.HubCA != ""):
		return &ConfigError{"hub", "--hub, --hub-creds and --hub-ca are for a site node (--site)"}
	case s.Site != "" && s.Leafnodes != "":
		return &ConfigError{"leafnodes", "a node is a center (--leafnodes) or a site (--site), not both"}
	case (s.LeafnodesTLSCert == "") != (s.LeafnodesTLSKey == ""):
		return &ConfigError{"leafnodes-tls-cert", "--leafnodes-tls-cert and --leafnodes-tls-key go together"}
	}
	return nil
}

// siteKeyDir is where a center keeps the sites' public keys.
func siteKeyDir(data string) string { return filepath.Join(data, "site-keys") }

// readSiteKeys reads DATA/site-keys/CODE.pub, one site each.
func readSiteKeys(data string) ([]sitelink.SiteKey, error) {
	files, err := filepath.Glob(filepath.Join(siteKeyDir(data), "*.pub"))
	if err != nil {
		return nil, err
	}
	var keys []sitelink.SiteKey
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("site key: %w", err)
		}
		keys = append(keys, sitelink.SiteKey{Code: strings.TrimSuffix(filepath.Base(f), ".pub"), PublicKey: strings.TrimSpace(string(b))})
	}
	return keys, nil
}

// siteLinks is what StartSiteLinks runs: a center's hub, or a site's
// leaf and relay.
type siteLinks struct {
	hub   *sitelink.Hub
	leaf  *sitelink.Leaf
	relay *sitelink.Relay
}

func (l *siteLinks) close() {
	if l.relay != nil {
		l.relay.Close()
	}
	if l.leaf != nil {
		l.leaf.Close()
	}
	if l.hub != nil {
		l.hub.Close()
	}
}

// StartSiteLinks makes a center accept its sites (--leafnodes) or a site
// node send its encounters to its center (--site). Identification must
// have started: the center identifies what sites send.
func (a *App) StartSiteLinks(ctx context.Context) error {
	cfg := a.Config.SiteLinks
	if err := cfg.validate(); err != nil {
		return err
	}
	logger := a.Logger.With("component", "sitelink")
	switch {
	case cfg.Leafnodes != "":
		keys, err := readSiteKeys(a.Config.Data)
		if err != nil {
			return err
		}
		var tlsConfig *tls.Config
		if cfg.LeafnodesTLSCert != "" {
			if tlsConfig, err = hhttp.TLSConfig(cfg.LeafnodesTLSCert, cfg.LeafnodesTLSKey); err != nil {
				return err
			}
		}
		hub, err := sitelink.OpenHub(sitelink.HubConfig{Listen: cfg.Leafnodes, Sites: keys, TLS: tlsConfig, Logger: logger})
		if err != nil {
			return err
		}
		a.siteLinks = &siteLinks{hub: hub}
		center := &sitelink.Center{Enroll: a.Enroll, Store: a.Store}
		if err := hub.Serve(ctx, center.Receive); err != nil {
			return err
		}
		if err := hub.ServeDownstream(ctx, center.Downstream); err != nil {
			return err
		}
		if err := hub.ServeWatch(ctx, a.Store.WatchChanges); err != nil {
			return err
		}
		if err := a.HTTP.RegisterMetrics(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "huella_sites_linked", Help: "Site nodes connected to this center now.",
		}, func() float64 { return float64(hub.LinkedSites()) })); err != nil {
			return err
		}
		logger.Info("accepting site nodes", "address", hub.LeafURL(), "sites", len(keys))
	case cfg.Site != "":
		if _, err := a.Store.FindSite(ctx, cfg.Site); err != nil {
			return fmt.Errorf("site %s: %s (add it with huella site add)", cfg.Site, huella.ErrorMessage(err))
		}
		seed, err := sitelink.ReadSeed(cfg.HubCreds)
		if err != nil {
			return err
		}
		var tlsConfig *tls.Config
		if cfg.HubCA != "" {
			pem, err := os.ReadFile(cfg.HubCA)
			if err != nil {
				return fmt.Errorf("hub CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("hub CA %s holds no PEM certificate", cfg.HubCA)
			}
			tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
		}
		leaf, err := sitelink.OpenLeaf(sitelink.LeafConfig{Site: cfg.Site, Hub: cfg.Hub, Seed: seed, TLS: tlsConfig, Logger: logger})
		if err != nil {
			return err
		}
		relay := &sitelink.Relay{Store: a.Store, Blobs: a.Blobs, Send: leaf.Send, Logger: logger,
			Pull: leaf.Pull, PurgeSubject: a.Enroll.PurgeSubject, PullWatch: leaf.PullWatch, RemoveWatchEntry: a.Enroll.RemoveWatchEntry}
		a.siteLinks = &siteLinks{leaf: leaf, relay: relay}
		previous := a.Enroll.OnEnrolled
		a.Enroll.OnEnrolled = func(e *huella.Encounter) {
			if previous != nil {
				previous(e)
			}
			relay.Kick()
		}
		relay.Open(ctx)
		if err := a.registerSiteMetrics(leaf); err != nil {
			return err
		}
		logger.Info("site node", "site", cfg.Site)
	}
	return nil
}

// registerSiteMetrics exports a site node's link state, outbox depth and
// the age of its oldest waiting encounter (its lag behind the center).
func (a *App) registerSiteMetrics(leaf *sitelink.Leaf) error {
	backlog := func() (int, time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, oldest, err := a.Store.UpstreamBacklog(ctx)
		if err != nil {
			return 0, time.Time{}
		}
		return n, oldest
	}
	return a.HTTP.RegisterMetrics(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "huella_site_link_up", Help: "1 while this site node's link to the center is up."},
			func() float64 {
				if leaf.Linked() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "huella_site_outbox_depth", Help: "Encounters of this site waiting for the center's identification."},
			func() float64 { n, _ := backlog(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "huella_site_outbox_lag_seconds", Help: "How long the oldest encounter waiting for the center has waited."},
			func() float64 {
				if _, oldest := backlog(); !oldest.IsZero() {
					return time.Since(oldest).Seconds()
				}
				return 0
			}))
}

// siteLinkStates is the console's view of the site links: a center's of
// every site it accepts, a site node's of its own; nil for a node that is
// neither. (StartSiteLinks runs before the console serves.)
func (a *App) siteLinkStates(ctx context.Context) map[string]console.SiteLink {
	l := a.siteLinks
	switch {
	case l == nil:
		return nil
	case l.hub != nil:
		out := make(map[string]console.SiteLink)
		for code, st := range l.hub.SiteStates() {
			out[code] = console.SiteLink{Linked: st.Linked, LastContact: st.LastContact, Queue: -1}
		}
		return out
	case l.leaf != nil:
		n, oldest, err := a.Store.UpstreamBacklog(ctx)
		if err != nil {
			n, oldest = -1, time.Time{}
		}
		return map[string]console.SiteLink{a.Config.SiteLinks.Site: {Linked: l.leaf.Linked(), Queue: n, Oldest: oldest}}
	}
	return nil
}
