package natsbus_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/natstest"
	"github.com/huella-abis/huella/natsbus"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// MustJetStream starts a NATS server with JetStream on a free loopback
// port, stopped when the test ends, and returns a connection to it.
func MustJetStream(t *testing.T) (*natsserver.Server, jetstream.JetStream) {
	t.Helper()
	ns := natstest.JetStream(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return ns, js
}

// enrollN stores n encounters with templates, one gallery event each.
func enrollN(t *testing.T, s *sqlite.Store, n int) []*huella.Encounter {
	t.Helper()
	var out []*huella.Encounter
	for i := range n {
		e := storetest.Encounter("MX-TAP", storetest.Date(2026, 5, 1+i, 9))
		for j, smp := range e.Samples {
			smp.Template = storetest.Template(smp, string(rune('a'+i))+string(rune('a'+j)))
		}
		out = append(out, storetest.MustCreateEncounter(t, s, e))
	}
	return out
}

// collector is a follower's apply that keeps the events it was given.
type collector struct {
	mu   sync.Mutex
	seqs []int64
}

func (c *collector) apply(_ context.Context, ev *huella.GalleryEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seqs = append(c.seqs, ev.Seq)
	return nil
}

func (c *collector) waitFor(t *testing.T, n int, within time.Duration) []int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		got := append([]int64(nil), c.seqs...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func inOrder(seqs []int64, from, to int64) bool {
	if int64(len(seqs)) != to-from+1 {
		return false
	}
	for i, s := range seqs {
		if s != from+int64(i) {
			return false
		}
	}
	return true
}

// TestGalleryRelay: two relays over one real SQLite store publish each
// event once, in order, with the stream's sequence equal to the event's;
// a relay restarted publishes nothing again; a follower started at a seq
// gets the events after it, a follower stopped and started again at its
// last seq catches up on what it missed, and one whose events the stream
// lost is told so.
func TestGalleryRelay(t *testing.T) {
	ns, js := MustJetStream(t)
	s := mustOpenSQLite(t)
	storetest.MustCreateSite(t, s, "MX-TAP")
	enrollN(t, s, 3)
	ctx := context.Background()
	stream := &natsbus.GalleryStream{JS: js}
	relays := []*natsbus.GalleryRelay{{Stream: stream, Store: s}, {Stream: stream, Store: s}}
	var wg sync.WaitGroup
	for _, r := range relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Relay(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, r := range relays { // the one that lost the race marks what the other sent
		if _, err := r.Relay(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if first, last, err := stream.Info(ctx); err != nil || first != 1 || last != 3 {
		t.Fatalf("stream holds %d to %d, %v; want 1 to 3", first, last, err)
	}
	if sent, err := s.GalleryEventsSent(ctx); err != nil || sent != 3 {
		t.Fatalf("sent = %d, %v; want 3", sent, err)
	}
	restarted := &natsbus.GalleryRelay{Stream: stream, Store: s}
	if n, err := restarted.Relay(ctx); err != nil || n != 0 {
		t.Errorf("a restarted relay published %d, %v; want 0", n, err)
	}

	t.Run("FollowFromSeq", func(t *testing.T) {
		c := &collector{}
		fctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- stream.Follow(fctx, 1, c.apply, nil, nil) }()
		if got := c.waitFor(t, 2, 5*time.Second); !inOrder(got, 2, 3) {
			t.Fatalf("follower from 1 got %v, want 2 and 3", got)
		}
		// Live: an event relayed reaches the follower at once.
		relay := &natsbus.GalleryRelay{Stream: stream, Store: s, Every: 20 * time.Millisecond}
		relay.Open(ctx)
		defer relay.Close()
		start := time.Now()
		enrollN(t, s, 1)
		if got := c.waitFor(t, 3, 5*time.Second); !inOrder(got, 2, 4) {
			t.Fatalf("follower got %v, want 2 to 4", got)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("an event took %v from commit to follower, want under a second", took)
		}
		// Stopped (a matcher killed), then events, then started again at
		// its last seq: it catches up.
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		enrollN(t, s, 2)
		again := &collector{}
		go func() { done <- stream.Follow(ctx, 4, again.apply, nil, nil) }()
		if got := again.waitFor(t, 2, 5*time.Second); !inOrder(got, 5, 6) {
			t.Fatalf("restarted follower got %v, want 5 and 6", got)
		}
	})

	t.Run("ErrGap", func(t *testing.T) {
		// The stream is lost and made again by the relay, from the first
		// event not sent: a follower needing earlier events is told.
		name := natsbus.DefaultGalleryStream
		// A relay closed mid-round may not have marked what it published:
		// the next round marks it from the stream.
		if _, err := (&natsbus.GalleryRelay{Stream: stream, Store: s}).Relay(ctx); err != nil {
			t.Fatal(err)
		}
		if sent, err := s.GalleryEventsSent(ctx); err != nil || sent != 6 {
			t.Fatalf("sent = %d, %v; want 6", sent, err)
		}
		if err := js.DeleteStream(ctx, name); err != nil {
			t.Fatal(err)
		}
		natstest.WaitStreamDeleted(t, ns, name)
		enrollN(t, s, 1)
		if n, err := (&natsbus.GalleryRelay{Stream: stream, Store: s}).Relay(ctx); err != nil || n != 1 {
			t.Fatalf("relay to the remade stream: %d, %v; want 1", n, err)
		}
		if first, last, err := stream.Info(ctx); err != nil || first != 7 || last != 7 {
			t.Fatalf("remade stream holds %d to %d, %v; want 7 to 7", first, last, err)
		}
		err := stream.Follow(ctx, 2, (&collector{}).apply, nil, nil)
		if !errors.Is(err, natsbus.ErrGalleryGap) {
			t.Errorf("follower from 2 on a stream from 7: %v, want ErrGalleryGap", err)
		}
		c := &collector{}
		fctx, stop := context.WithCancel(ctx)
		defer stop()
		go stream.Follow(fctx, 6, c.apply, nil, nil)
		if got := c.waitFor(t, 1, 5*time.Second); !inOrder(got, 7, 7) {
			t.Errorf("follower from 6 got %v, want 7", got)
		}
	})
}

// mustOpenSQLite opens a fresh SQLite store, closed when the test ends.
func mustOpenSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
