package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/shard"
)

// registerMatcherFlags binds the flags of "huella serve" that put the
// subject gallery on matcher shards.
func (c *Config) registerMatcherFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Matchers, "matchers", os.Getenv("HUELLA_MATCHERS"), "NATS URL of the matcher shards holding the subject gallery (huella matcher); empty holds it in this process ($HUELLA_MATCHERS)")
	fs.IntVar(&c.MatcherShards, "matcher-shards", envInt("HUELLA_MATCHER_SHARDS", 1), "how many shards the matchers of --matchers split the subjects into ($HUELLA_MATCHER_SHARDS)")
	fs.IntVar(&c.StreamReplicas, "stream-replicas", envInt("HUELLA_STREAM_REPLICAS", 1), "servers of the NATS cluster that keep each stream this node creates (gallery events, deliveries): 3 on a 3-server cluster, so that one may fail ($HUELLA_STREAM_REPLICAS)")
	fs.DurationVar(&c.MatcherDeadline, "matcher-deadline", envDuration("HUELLA_MATCHER_DEADLINE", shard.DefaultDeadline), "a search waits this long for every shard; past it the search is partial and its decision review ($HUELLA_MATCHER_DEADLINE)")
}

// matcherTLS returns the TLS settings of the connection to the matchers'
// NATS: those of --nats-cert, --nats-key and --nats-ca, as towards an
// external NATS server.
func (c *Config) matcherTLS(url string) (*tls.Config, error) {
	fc := c.Forward
	fc.NATS = url
	return fc.natsTLS()
}

// startMatcherClient makes the identifier search the matcher shards when
// --matchers is set, queues partial searches for a complete re-search,
// and adds their metrics.
func (a *App) startMatcherClient(ctx context.Context) error {
	cfg := a.Config
	if cfg.Matchers == "" {
		return nil
	}
	tlsConfig, err := cfg.matcherTLS(cfg.Matchers)
	if err != nil {
		return err
	}
	logger := a.Logger.With("component", "matchers")
	nc, err := shard.Connect(cfg.Matchers, "huella-api", tlsConfig, logger)
	if err != nil {
		return err
	}
	client, err := shard.NewClient(nc, cfg.MatcherShards)
	if err != nil {
		nc.Close()
		return err
	}
	client.Deadline = cfg.MatcherDeadline
	partial := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "huella_identify_partial_total", Help: "Identifications some matcher shard did not answer in time: decided review and queued for a complete re-search.",
	})
	researched := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "huella_research_completed_total", Help: "Complete re-searches of partial identifications.",
	})
	researchHits := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "huella_research_hits_total", Help: "Duplicate hits raised by complete re-searches that the partial search had missed.",
	})
	researcher := &match.Researcher{Identifier: a.Identifier, Logger: logger, Queue: a.Store,
		OnDone: func(hits int) { researched.Inc(); researchHits.Add(float64(hits)) }}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "huella_research_pending", Help: "Partial identifications waiting for their complete re-search.",
	}, func() float64 { return float64(researcher.Pending()) })
	if err := a.HTTP.RegisterMetrics(append(client.Collectors(), partial, researched, researchHits, pending)...); err != nil {
		client.Close()
		nc.Close()
		return err
	}
	a.Identifier.Sharded = client
	a.Identifier.OnPartial = partial.Inc
	counted := a.Enroll.OnEnrolled
	a.Enroll.OnEnrolled = func(e *huella.Encounter) {
		if counted != nil {
			counted(e)
		}
		researcher.Add(e)
	}
	researcher.Open(ctx)
	a.matcherConn = nc
	a.stopMatchers = func() {
		researcher.Close()
		client.Close()
		nc.Close()
	}
	logger.Info("subject gallery on matcher shards", "shards", cfg.MatcherShards)
	return nil
}

// runMatcher runs "huella matcher": one replica of one shard of the
// subject gallery, answering the API nodes' searches over NATS until
// interrupted.
func runMatcher(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlagSet("matcher", "huella matcher --shard I/K --matchers URL [flags]", stderr)
	cfg.registerFlags(fs, false)
	fs.StringVar(&cfg.Matchers, "matchers", os.Getenv("HUELLA_MATCHERS"), "NATS URL the API nodes send searches on ($HUELLA_MATCHERS)")
	snapshots := fs.String("snapshots", os.Getenv("HUELLA_SNAPSHOTS"), "load the shard from the newest snapshot at s3://BUCKET[/PREFIX]?endpoint=… (huella snapshot), then follow the gallery stream from it; the store when there is none ($HUELLA_SNAPSHOTS)")
	spec := fs.String("shard", os.Getenv("HUELLA_SHARD"), "the shard this matcher holds, I/K: subjects whose ID hashes to I of K ($HUELLA_SHARD)")
	fs.StringVar(&cfg.Forward.NATSCert, "nats-cert", os.Getenv("HUELLA_NATS_CERT"), "client certificate (PEM) towards a NATS server that asks for one ($HUELLA_NATS_CERT)")
	fs.StringVar(&cfg.Forward.NATSKey, "nats-key", os.Getenv("HUELLA_NATS_KEY"), "the key of --nats-cert (PEM) ($HUELLA_NATS_KEY)")
	fs.StringVar(&cfg.Forward.NATSCA, "nats-ca", os.Getenv("HUELLA_NATS_CA"), "CA (PEM) the NATS server's certificate must chain to ($HUELLA_NATS_CA)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	s, err := shard.ParseSpec(*spec)
	if err != nil {
		return err
	}
	if cfg.Matchers == "" {
		return &ConfigError{"matchers", "give the NATS URL the API nodes use (--matchers)"}
	}
	tlsConfig, err := cfg.matcherTLS(cfg.Matchers)
	if err != nil {
		return err
	}
	engines, cals, err := identificationEngines()
	if err != nil {
		return err
	}
	cfg.Existing = true // reads the records; never creates data
	logger := newLogger(stderr).With("component", "matcher", "shard", s.String())
	app, err := OpenApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	m := &shard.Matcher{Spec: s, Gallery: gallery.New(engines, cals), Logger: logger}
	m.Gallery.Templates = app.Store // the exact finger stage fetches its templates
	start := time.Now()
	loaded, from := int64(-1), "store"
	if *snapshots != "" {
		var n int
		loaded, n, err = loadSnapshot(ctx, app, m, *snapshots)
		if err != nil {
			logger.Warn("shard not loaded from a snapshot; loading it from the store", "err", err)
			loaded = -1
			m.Gallery = gallery.New(engines, cals)
			m.Gallery.Templates = app.Store
		} else {
			from = "snapshot"
			logger.Info("shard loaded from a snapshot", "templates", n, "subjects", m.Gallery.Len(), "seq", loaded, "seconds", time.Since(start).Seconds())
		}
	}
	if loaded < 0 {
		// The outbox's head before the load: the gallery holds every
		// change up to it, and follows the stream from the next.
		if loaded, err = app.Store.GalleryEventHead(ctx); err != nil {
			return err
		}
		n, err := m.Load(ctx, app.Store)
		if err != nil {
			return err
		}
		logger.Info("shard loaded", "templates", n, "subjects", m.Gallery.Len(), "seq", loaded, "seconds", time.Since(start).Seconds())
	}
	nc, err := shard.Connect(cfg.Matchers, "huella-matcher-"+s.String(), tlsConfig, logger)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := m.Open(nc); err != nil {
		return err
	}
	defer m.Close()
	stream, err := galleryStream(nc, 0)
	if err != nil {
		return err
	}
	applier := &match.Applier{Store: app.Store, Subjects: m.Gallery, Holds: s.Holds}
	applier.SetApplied(loaded)
	followCtx, stopFollowing := context.WithCancel(ctx)
	following := make(chan struct{})
	go func() {
		defer close(following)
		followGallery(followCtx, stream, applier, app.Store, logger.With("component", "gallery-events"))
	}()
	defer func() { stopFollowing(); <-following }()
	fmt.Fprintf(stdout, "Huella matcher %s serving %d subjects (loaded from the %s up to gallery event %d) on %s\n",
		s, m.Gallery.Len(), from, loaded, nc.ConnectedUrlRedacted())
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// loadSnapshot fills m's gallery from the newest snapshot of its shard at
// rawURL and returns the gallery event it holds every change up to.
func loadSnapshot(ctx context.Context, app *App, m *shard.Matcher, rawURL string) (seq int64, n int, err error) {
	objects, err := openSnapshots(ctx, app, rawURL)
	if err != nil {
		return 0, 0, err
	}
	if seq, n, err = m.LoadSnapshot(ctx, objects); err != nil {
		return 0, n, err
	}
	// The changes after the snapshot must still be in the outbox (the
	// stream keeps no more than it): an older snapshot is of no use.
	head, err := app.Store.GalleryEventHead(ctx)
	if err != nil || head == seq {
		return seq, n, err
	}
	next, err := app.Store.GalleryEvents(ctx, seq, 1)
	if err != nil {
		return 0, n, err
	}
	if len(next) == 0 || next[0].Seq != seq+1 {
		return 0, n, fmt.Errorf("the snapshot holds the changes up to %d, and the outbox no longer those after it: take a newer one (huella snapshot)", seq)
	}
	return seq, n, nil
}
