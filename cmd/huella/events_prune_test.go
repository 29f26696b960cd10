package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// pruneStore is a GalleryEventStore that records the prunes asked of it.
type pruneStore struct {
	huella.GalleryEventStore // nil: only the methods below are called
	sent, head               int64
	upTo                     []int64
	before                   []time.Time
}

func (s *pruneStore) GalleryEventsSent(ctx context.Context) (int64, error) { return s.sent, nil }
func (s *pruneStore) GalleryEventHead(ctx context.Context) (int64, error)  { return s.head, nil }
func (s *pruneStore) PruneGalleryEvents(ctx context.Context, before time.Time, upTo int64) (int64, error) {
	s.upTo, s.before = append(s.upTo, upTo), append(s.before, before)
	return 0, nil
}

// TestPruneGalleryEvents checks the bound the server prunes the outbox to:
// with a relay, the events it published; without, every event; in both
// cases only those older than the stream's retention.
func TestPruneGalleryEvents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		relayed bool
		want    int64
	}{
		{"Relayed", true, 40},
		{"OneBox", false, 55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &pruneStore{sent: 40, head: 55}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				pruneGalleryEvents(ctx, s, tc.relayed, 7*24*time.Hour, 10*time.Millisecond, slog.New(slog.DiscardHandler))
			}()
			time.Sleep(50 * time.Millisecond)
			cancel()
			<-done
			if len(s.upTo) < 2 {
				t.Fatalf("pruned %d times in 50 ms every 10 ms, want it to repeat", len(s.upTo))
			}
			if s.upTo[0] != tc.want {
				t.Errorf("pruned up to %d, want %d", s.upTo[0], tc.want)
			}
			if age := time.Since(s.before[0]); age < 7*24*time.Hour-time.Minute || age > 7*24*time.Hour+time.Minute {
				t.Errorf("pruned events older than %v, want the stream's 7 days", age)
			}
		})
	}
}
