package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/natsbus"
)

// StartGalleryEvents keeps this node's galleries in step with the changes
// other processes make (another API node, "huella purge"), and, with
// --matchers, relays the store's gallery events to the JetStream stream
// the matchers follow. Once the galleries are loaded it applies the
// events after the ones the load saw: from the stream with --matchers,
// else from the store's outbox directly.
func (a *App) StartGalleryEvents(ctx context.Context) error {
	var stream *natsbus.GalleryStream
	logger := a.Logger.With("component", "gallery-events")
	if a.matcherConn != nil {
		var err error
		if stream, err = galleryStream(a.matcherConn, a.Config.StreamReplicas); err != nil {
			return err
		}
		published := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huella_gallery_events_published_total", Help: "Gallery change events this node's relay published to the stream.",
		})
		if err := a.HTTP.RegisterMetrics(published); err != nil {
			return err
		}
		relay := &natsbus.GalleryRelay{Stream: stream, Store: a.Store, Logger: logger,
			OnPublished: func(n int) { published.Add(float64(n)) }}
		relay.Open(ctx)
		a.stopRelay = relay.Close
	}
	ctx, cancel := context.WithCancel(ctx)
	a.stopEvents = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		pruneGalleryEvents(ctx, a.Store, stream != nil, natsbus.DefaultGalleryMaxAge, galleryPruneEvery, logger)
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if a.WaitIdentification(ctx) != nil {
			return
		}
		applier := a.Identifier.Applier(a.Store)
		followGallery(ctx, stream, applier, a.Store, logger)
	}()
	return nil
}

// galleryPruneEvery is how often a server prunes the outbox of gallery
// events.
const galleryPruneEvery = time.Hour

// pruneGalleryEvents deletes, now and every every until ctx ends, the
// outbox's events older than keep (the stream's retention): with a relay
// only those it published, so the outbox stays bounded while nothing the
// stream lacks is lost; without one (one box, whose nodes read the outbox
// itself) every event that old. A follower further behind than keep, or a
// matcher's snapshot older, loads its galleries again.
func pruneGalleryEvents(ctx context.Context, store huella.GalleryEventStore, relayed bool, keep, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		upTo, err := store.GalleryEventsSent(ctx)
		if !relayed && err == nil {
			upTo, err = store.GalleryEventHead(ctx)
		}
		var n int64
		if err == nil {
			n, err = store.PruneGalleryEvents(ctx, time.Now().Add(-keep), upTo)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("gallery events not pruned", "err", err)
		case n > 0:
			logger.Info("gallery events pruned", "events", n, "up_to", upTo)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// galleryStream returns the gallery event stream on the NATS of nc, kept
// by replicas servers of a cluster when this node creates it (the relay
// does; 0 or 1: one).
func galleryStream(nc *nats.Conn, replicas int) (*natsbus.GalleryStream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &natsbus.GalleryStream{JS: js, Replicas: replicas}, nil
}

// followGallery applies the gallery events to a's galleries until ctx
// ends: from the stream when there is one, else from the store. When the
// stream no longer holds the events a needs, it catches up from the
// store's outbox (which keeps them) and follows the stream again.
func followGallery(ctx context.Context, stream *natsbus.GalleryStream, a *match.Applier, store huella.GalleryEventStore, logger *slog.Logger) {
	for ctx.Err() == nil {
		var err error
		if stream == nil {
			err = a.FollowStore(ctx, store, 0, logger)
		} else {
			err = stream.Follow(ctx, a.Applied(), a.Apply, match.ErrEventGap, logger)
			if errors.Is(err, natsbus.ErrGalleryGap) || errors.Is(err, match.ErrEventGap) {
				logger.Warn("the stream lacks gallery events; catching up from the store", "applied", a.Applied())
				err = a.CatchUp(ctx, store)
			}
		}
		if err != nil && ctx.Err() == nil {
			logger.Error("gallery events not applied", "applied", a.Applied(), "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}
