package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/huella-abis/huella"
)

// Defaults of the gallery event stream.
const (
	DefaultGalleryStream  = "HUELLA_GALLERY"
	DefaultGallerySubject = "huella.gallery.v1.events"
	// DefaultGalleryMaxAge is how long the stream keeps an event: a
	// process that was away longer loads its galleries again from the
	// store rather than catch up.
	DefaultGalleryMaxAge = 7 * 24 * time.Hour
	// DefaultRelayEvery is how often the relay looks for new events.
	DefaultRelayEvery = 100 * time.Millisecond
)

// ErrGalleryGap is returned by FollowGallery when the stream no longer
// holds the events after the follower's seq (kept past their age, or the
// stream was made again): the follower must load its galleries again.
var ErrGalleryGap = errors.New("gallery stream no longer holds the events needed: load the galleries again")

// GalleryStream names the JetStream stream that carries the store's
// gallery events (huella.GalleryEvent), one message each, in the outbox's
// order. The stream's sequence is the event's Seq: the relay creates the
// stream starting at the first event it has not sent, and publishes each
// event only if the stream's last sequence is the one before it, with the
// Seq as Nats-Msg-Id too. So a relay restarted, or several API nodes each
// running one, never publish an event twice nor out of order, and a
// follower starts at the sequence after the one its galleries hold.
type GalleryStream struct {
	JS       jetstream.JetStream
	Stream   string        // DefaultGalleryStream when empty
	Subject  string        // DefaultGallerySubject when empty
	MaxAge   time.Duration // DefaultGalleryMaxAge when zero
	Replicas int           // stream replicas on a cluster; 1 when zero
}

func (g *GalleryStream) names() (stream, subject string) {
	stream, subject = g.Stream, g.Subject
	if stream == "" {
		stream = DefaultGalleryStream
	}
	if subject == "" {
		subject = DefaultGallerySubject
	}
	return stream, subject
}

// ensure returns the stream, creating it to begin at firstSeq when it does
// not exist.
func (g *GalleryStream) ensure(ctx context.Context, firstSeq uint64) (jetstream.Stream, error) {
	name, subject := g.names()
	st, err := g.JS.Stream(ctx, name)
	if err == nil {
		return st, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("gallery stream: %w", err)
	}
	maxAge, replicas := g.MaxAge, g.Replicas
	if maxAge == 0 {
		maxAge = DefaultGalleryMaxAge
	}
	if replicas == 0 {
		replicas = 1
	}
	st, err = g.JS.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, MaxAge: maxAge, Replicas: replicas,
		Duplicates: DefaultDuplicates, FirstSeq: firstSeq, Description: "Huella gallery changes, in commit order"})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return g.JS.Stream(ctx, name) // another relay made it first
	}
	if err != nil {
		return nil, fmt.Errorf("gallery stream: %w", err)
	}
	return st, nil
}

// GalleryRelay publishes the store's gallery events to the stream, in
// order, and marks them sent. Every process that writes runs one (serve);
// several at once are safe (GalleryStream). Open starts it; Close stops it.
type GalleryRelay struct {
	Stream *GalleryStream
	Store  huella.GalleryEventStore
	Every  time.Duration // DefaultRelayEvery when zero
	Logger *slog.Logger
	// OnPublished, when set, is told how many events each round published.
	OnPublished func(n int)

	cancel context.CancelFunc
	done   chan struct{}
}

// Relay publishes the events not sent yet, up to MaxGalleryEvents, and
// returns how many it published. Events another relay published first
// are marked sent, not published again.
func (r *GalleryRelay) Relay(ctx context.Context) (int, error) {
	sent, err := r.Store.GalleryEventsSent(ctx)
	if err != nil {
		return 0, err
	}
	st, err := r.Stream.ensure(ctx, uint64(sent)+1)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("gallery stream: %w", err)
	}
	if last := int64(info.State.LastSeq); last > sent {
		// Published by another relay, or by this one before its mark.
		head, err := r.Store.GalleryEventHead(ctx)
		if err != nil {
			return 0, err
		}
		sent = min(last, head)
		if err := r.Store.MarkGalleryEventsSent(ctx, sent); err != nil {
			return 0, err
		}
	}
	list, err := r.Store.GalleryEvents(ctx, sent, huella.MaxGalleryEvents)
	if err != nil {
		return 0, err
	}
	_, subject := r.Stream.names()
	n := 0
	for _, ev := range list {
		data, err := json.Marshal(ev)
		if err != nil {
			return n, err
		}
		_, err = r.Stream.JS.Publish(ctx, subject, data, jetstream.WithMsgID(strconv.FormatInt(ev.Seq, 10)),
			jetstream.WithExpectLastSequence(uint64(ev.Seq-1)))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			break // another relay is ahead: the next round marks what it sent
		}
		if err != nil {
			if n > 0 {
				r.Store.MarkGalleryEventsSent(ctx, ev.Seq-1)
			}
			return n, fmt.Errorf("publish gallery event %d: %w", ev.Seq, err)
		}
		n++
		sent = ev.Seq
	}
	if n > 0 {
		if err := r.Store.MarkGalleryEventsSent(ctx, sent); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Open starts relaying every Every until Close.
func (r *GalleryRelay) Open(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	every := r.Every
	if every <= 0 {
		every = DefaultRelayEvery
	}
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	go func() {
		defer close(r.done)
		t := time.NewTicker(every)
		defer t.Stop()
		failing := false
		for {
			n, err := r.Relay(ctx)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				logger.Warn("gallery events not relayed; trying again", "err", err)
				failing = true
			case err == nil:
				failing = false
			}
			if r.OnPublished != nil && n > 0 {
				r.OnPublished(n)
			}
			if n == huella.MaxGalleryEvents {
				continue // more waiting
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the relay and waits for it.
func (r *GalleryRelay) Close() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
}

// Follow calls apply with each event of the stream after the seq after,
// in order, until ctx ends (it then returns nil). It waits for the stream
// to exist (a relay makes it). An apply error is tried again every second
// (the store may be away), except one that errors.Is stop, which Follow
// returns. When the stream no longer holds the event after after, it
// returns ErrGalleryGap.
func (g *GalleryStream) Follow(ctx context.Context, after int64, apply func(context.Context, *huella.GalleryEvent) error,
	stop error, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name, _ := g.names()
	var st jetstream.Stream
	for warned := false; ; warned = true {
		var err error
		if st, err = g.JS.Stream(ctx, name); err == nil {
			break
		}
		if !warned {
			logger.Warn("gallery stream not there yet (is JetStream enabled, a relay running?); waiting", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("gallery stream: %w", err)
	}
	if first := info.State.FirstSeq; info.State.Msgs > 0 && first > uint64(after)+1 ||
		info.State.Msgs == 0 && info.State.LastSeq > uint64(after) {
		return fmt.Errorf("%w (stream %s starts at %d, galleries hold up to %d)", ErrGalleryGap, name, first, after)
	}
	cons, err := g.JS.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: uint64(after) + 1})
	if err != nil {
		return fmt.Errorf("gallery stream: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("gallery stream: %w", err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		msg, err := it.Next()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			logger.Warn("gallery stream read failed", "err", err)
			continue
		}
		ev, err := DecodeGalleryEvent(msg.Data())
		if err != nil {
			return fmt.Errorf("gallery stream: message %d: %w", streamSeq(msg), err)
		}
		if want := streamSeq(msg); want != 0 && uint64(ev.Seq) != want {
			return fmt.Errorf("gallery stream: message %d holds event %d", want, ev.Seq)
		}
		for {
			err := apply(ctx, ev)
			if err == nil {
				break
			}
			if stop != nil && errors.Is(err, stop) {
				return err
			}
			logger.Warn("gallery event not applied; trying again", "seq", ev.Seq, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

// Info returns the stream's first and last sequence, for tests and
// status.
func (g *GalleryStream) Info(ctx context.Context) (first, last uint64, err error) {
	name, _ := g.names()
	st, err := g.JS.Stream(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// streamSeq returns the stream sequence of a message, or 0 when its
// metadata cannot be read.
func streamSeq(msg jetstream.Msg) uint64 {
	meta, err := msg.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
}

// maxGalleryEventIDs bounds the IDs one event may list: more than a
// purge (a subject and those merged into it) or an encounter's samples
// ever hold.
const maxGalleryEventIDs = huella.MaxTemplateIDs

// DecodeGalleryEvent reads one message of the gallery stream. Anything but
// a JSON gallery event with a seq of 1 or more, a known op and at most
// maxGalleryEventIDs IDs in each list is EINVALID.
func DecodeGalleryEvent(data []byte) (*huella.GalleryEvent, error) {
	var ev huella.GalleryEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, huella.Errorf(huella.EINVALID, "not a gallery event: %v", err)
	}
	switch {
	case ev.Seq < 1:
		return nil, huella.Errorf(huella.EINVALID, "gallery event without a seq")
	case len(ev.Subjects) > maxGalleryEventIDs || len(ev.SampleIDs) > maxGalleryEventIDs:
		return nil, huella.Errorf(huella.EINVALID, "gallery event %d lists more than %d IDs", ev.Seq, maxGalleryEventIDs)
	}
	switch ev.Op {
	case huella.GalleryEnroll, huella.GalleryMerge, huella.GalleryUnmerge, huella.GalleryPurge,
		huella.GalleryWatchAdd, huella.GalleryWatchRemove:
	default:
		return nil, huella.Errorf(huella.EUNSUPPORTED, "gallery event %d: unknown op %q (a newer writer?)", ev.Seq, ev.Op)
	}
	return &ev, nil
}
