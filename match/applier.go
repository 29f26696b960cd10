package match

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/gallery"
)

// ErrEventGap is returned by Applier.Apply for an event that is not the
// next one: events were lost between the outbox and this process (a
// stream that no longer holds them), and the galleries must be loaded
// again from the store.
var ErrEventGap = errors.New("gallery events missing: load the galleries again")

// GalleryReader is what an Applier reads from the store: the templates an
// event names by sample ID, and those of the subjects a merge or an
// unmerge changes.
type GalleryReader interface {
	FindTemplates(ctx context.Context, sampleIDs []string) ([]*huella.Template, error)
	SubjectTemplates(ctx context.Context, subjectIDs []string) ([]*huella.Template, error)
}

// Applier applies the gallery events (huella.GalleryEvent) of the store's
// outbox, in order, to one process's galleries: a matcher's shard, or an
// API node's subject gallery (when it holds one) and watchlist gallery. An
// event at or below the last applied one is skipped, so that a gallery
// loaded at a seq (SetApplied) takes the stream from there.
type Applier struct {
	Store GalleryReader
	// Subjects is the subject gallery to keep; nil when this process
	// holds none (an API node whose subjects are on matchers).
	Subjects *gallery.Gallery
	// Holds, when set, says which subjects Subjects keeps (a shard's).
	Holds func(subjectID string) bool
	// Watchlists is the watchlist gallery to keep; nil on a matcher.
	Watchlists *gallery.Gallery
	// OnWatchRemoved, when set, is told of each watch entry taken off its
	// list (the identifier forgets its list).
	OnWatchRemoved func(entryID string)
	// Enrolled, when set, reports an enrollment this process added to its
	// galleries itself: its event is not applied again.
	Enrolled func(encounterID string) bool

	applied atomic.Int64
}

// SetApplied records that the galleries hold every event up to seq (they
// were loaded after the store's head was seq).
func (a *Applier) SetApplied(seq int64) { a.applied.Store(seq) }

// Applied returns the seq of the last event the galleries hold.
func (a *Applier) Applied() int64 { return a.applied.Load() }

// Apply applies one event. Templates are read from the store: one purged
// since is not there, and a later event removes its subject anyway. An
// event after a gap is ErrEventGap, applying nothing.
func (a *Applier) Apply(ctx context.Context, ev *huella.GalleryEvent) error {
	last := a.applied.Load()
	if ev.Seq <= last {
		return nil
	}
	if ev.Seq != last+1 {
		return fmt.Errorf("event %d after %d: %w", ev.Seq, last, ErrEventGap)
	}
	if err := a.apply(ctx, ev); err != nil {
		return fmt.Errorf("apply gallery event %d (%s): %w", ev.Seq, ev.Op, err)
	}
	a.applied.Store(ev.Seq)
	return nil
}

func (a *Applier) holds(subjectID string) bool { return a.Holds == nil || a.Holds(subjectID) }

func (a *Applier) apply(ctx context.Context, ev *huella.GalleryEvent) error {
	switch ev.Op {
	case huella.GalleryEnroll:
		if a.Subjects == nil || !a.holds(ev.Subject) || len(ev.SampleIDs) == 0 || a.Enrolled != nil && a.Enrolled(ev.EncounterID) {
			return nil
		}
		ts, err := a.Store.FindTemplates(ctx, ev.SampleIDs)
		if err != nil {
			return err
		}
		for _, t := range ts {
			t.SubjectID = ev.Subject
			if err := a.Subjects.Add(t); err != nil {
				return err
			}
		}
	case huella.GalleryMerge, huella.GalleryUnmerge:
		if a.Subjects == nil {
			return nil
		}
		subjects := []string{ev.Subject, ev.Other}
		ts, err := a.Store.SubjectTemplates(ctx, subjects)
		if err != nil {
			return err
		}
		kept := ts[:0]
		for _, t := range ts {
			if a.holds(t.SubjectID) {
				kept = append(kept, t)
			}
		}
		return a.Subjects.Replace(subjects, kept)
	case huella.GalleryPurge:
		if a.Subjects == nil {
			return nil
		}
		for _, id := range ev.Subjects {
			a.Subjects.Remove(id)
		}
	case huella.GalleryWatchAdd:
		if a.Watchlists == nil || len(ev.SampleIDs) == 0 {
			return nil
		}
		ts, err := a.Store.FindTemplates(ctx, ev.SampleIDs)
		if err != nil {
			return err
		}
		for _, t := range ts {
			t.SubjectID = ev.WatchEntryID
			if err := a.Watchlists.Add(t); err != nil {
				return err
			}
		}
	case huella.GalleryWatchRemove:
		if a.Watchlists == nil {
			return nil
		}
		a.Watchlists.Remove(ev.WatchEntryID)
		if a.OnWatchRemoved != nil {
			a.OnWatchRemoved(ev.WatchEntryID)
		}
	default:
		// A newer writer's operation: skipping it would silently diverge.
		return huella.Errorf(huella.EUNSUPPORTED, "unknown gallery operation %q", ev.Op)
	}
	return nil
}

// CatchUp applies every event the store's outbox holds after the last
// applied one, and returns.
func (a *Applier) CatchUp(ctx context.Context, events huella.GalleryEventStore) error {
	for {
		list, err := events.GalleryEvents(ctx, a.Applied(), huella.MaxGalleryEvents)
		if err != nil {
			return err
		}
		for _, ev := range list {
			if err := a.Apply(ctx, ev); err != nil {
				return err
			}
		}
		if len(list) < huella.MaxGalleryEvents {
			return nil
		}
	}
}

// DefaultFollowEvery is how often FollowStore reads the outbox.
const DefaultFollowEvery = 200 * time.Millisecond

// FollowStore applies the store's outbox to the galleries every every
// (DefaultFollowEvery when zero) until ctx ends: how a process with no
// event stream (one box, no --matchers) learns of the changes other
// processes make, such as "huella purge". It returns ErrEventGap, or nil
// when ctx ends; other errors are logged and tried again.
func (a *Applier) FollowStore(ctx context.Context, events huella.GalleryEventStore, every time.Duration, logger *slog.Logger) error {
	if every <= 0 {
		every = DefaultFollowEvery
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			list, err := events.GalleryEvents(ctx, a.Applied(), huella.MaxGalleryEvents)
			if err == nil {
				for _, ev := range list {
					if err = a.Apply(ctx, ev); err != nil {
						break
					}
				}
			}
			if errors.Is(err, ErrEventGap) {
				return err
			}
			if err != nil && ctx.Err() == nil {
				logger.Warn("gallery events not applied; trying again", "err", err)
			}
			if err != nil || len(list) < huella.MaxGalleryEvents {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
