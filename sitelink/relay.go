package sitelink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
)

// RelayStore is what the relay reads and writes at the site.
type RelayStore interface {
	huella.SiteOutboxStore
	FindEncounter(ctx context.Context, id string) (*huella.Encounter, error)
}

// Relay sends a site's outbox to the center, in outbox order, several
// encounters at once, and records each answer. While the link is down it
// waits and tries again; an encounter the center refuses is tried again
// at the next pass, behind the others.
type Relay struct {
	Store RelayStore
	Blobs huella.BlobStore
	// Send delivers one encounter to the center (Leaf.Send).
	Send func(ctx context.Context, u *Upload) (*huella.CentralIdentification, error)
	// Workers is how many encounters are in flight at once; 4 when zero.
	Workers int
	// Retry is the wait after a pass that sent nothing; 1 s when zero.
	// Kick wakes the relay sooner.
	Retry  time.Duration
	Logger *slog.Logger
	// Pull, when set, asks the center for what to do to the site's copies
	// (Leaf.Pull); PurgeSubject purges a subject at the site
	// (enroll.Service.PurgeSubject). Both set: the relay applies the
	// center's purges, in the center's order, from where it left off.
	// A DownstreamCentral item updates the site's copy of the center's
	// identification of its encounter.
	Pull         func(ctx context.Context, after int64) ([]huella.DownstreamItem, error)
	PurgeSubject func(ctx context.Context, id string, reason huella.PurgeReason) (*huella.Purge, error)
	// PullWatch, when set, asks the center for its watchlist changes
	// (Leaf.PullWatch); RemoveWatchEntry takes an entry off its list at
	// the site (enroll.Service.RemoveWatchEntry). Both set: the relay
	// replicates the center's watchlists, in the center's order, from
	// where it left off. The store's gallery event of each replicated
	// entry puts it in the site's watchlist gallery (match.Applier).
	PullWatch        func(ctx context.Context, after int64) ([]*huella.WatchChange, error)
	RemoveWatchEntry func(ctx context.Context, id, reason string) error
	// OnCentral, when set, is called after each answer is recorded:
	// metrics, and tests.
	OnCentral func(encounterID string, c *huella.CentralIdentification)

	kick   chan struct{}
	bufs   chan []byte // the message buffers not in use, one per worker
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sent   atomic.Int64
}

// maxKeptBuffer is the largest message buffer the relay keeps for the
// next encounter: 13 images of 1.5 MB take 20 MB, and an encounter of
// unusual size should not hold its memory for as long as the relay runs.
const maxKeptBuffer = 64 << 20

// Open starts the relay's loop.
func (r *Relay) Open(ctx context.Context) {
	if r.Workers <= 0 {
		r.Workers = 4
	}
	if r.Retry == 0 {
		r.Retry = time.Second
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	r.kick = make(chan struct{}, 1)
	r.bufs = make(chan []byte, r.Workers)
	ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop(ctx)
	}()
}

// Kick makes the relay look at the outbox now (an encounter was enrolled).
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Sent returns how many encounters this relay has had identified.
func (r *Relay) Sent() int64 { return r.sent.Load() }

// Close stops the loop and waits for it.
func (r *Relay) Close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

func (r *Relay) loop(ctx context.Context) {
	for ctx.Err() == nil {
		sent, err := r.pass(ctx)
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrUnlinked) {
			r.Logger.Warn("site outbox pass failed", "err", err)
		}
		if err := r.downstream(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrUnlinked) {
			r.Logger.Warn("site downstream failed", "err", err)
		}
		if err := r.watch(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrUnlinked) {
			r.Logger.Warn("site watchlist replication failed", "err", err)
		}
		if sent > 0 && err == nil {
			continue // more may have come meanwhile
		}
		select {
		case <-ctx.Done():
		case <-r.kick:
		case <-time.After(r.Retry):
		}
	}
}

// pass goes through the outbox once, in pages, and returns how many
// encounters the center identified. It stops at the first page where the
// center could not be reached.
func (r *Relay) pass(ctx context.Context) (int, error) {
	var after int64
	total := 0
	for {
		items, err := r.Store.PendingUpstream(ctx, after, 8*r.Workers)
		if err != nil || len(items) == 0 {
			return total, err
		}
		after = items[len(items)-1].Seq
		var sent, unlinked atomic.Int64
		work := make(chan huella.UpstreamItem)
		var wg sync.WaitGroup
		for range r.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range work {
					switch err := r.sendOne(ctx, it.EncounterID); {
					case err == nil:
						sent.Add(1)
					case errors.Is(err, ErrUnlinked) || ctx.Err() != nil:
						unlinked.Add(1)
					default:
						r.Logger.Warn("site encounter not identified by the center", "encounter", it.EncounterID,
							"code", huella.ErrorCode(err), "err", err)
						if err := r.Store.FailedUpstream(ctx, it.EncounterID); err != nil {
							r.Logger.Warn("site outbox attempt not counted", "err", err)
						}
					}
				}
			}()
		}
		for _, it := range items {
			if unlinked.Load() > 0 {
				break
			}
			select {
			case work <- it:
			case <-ctx.Done():
			}
		}
		close(work)
		wg.Wait()
		total += int(sent.Load())
		if unlinked.Load() > 0 {
			return total, ErrUnlinked
		}
	}
}

// downstream applies the center's downstream items after the site's
// cursor: a purge of an encounter purges, at the site, the subject that
// holds it (one already gone is done). The cursor moves after each item,
// so a crash repeats at most the item under way, which is harmless.
func (r *Relay) downstream(ctx context.Context) error {
	if r.Pull == nil || r.PurgeSubject == nil {
		return nil
	}
	for {
		after, err := r.Store.DownstreamCursor(ctx)
		if err != nil {
			return err
		}
		items, err := r.Pull(ctx, after)
		if err != nil || len(items) == 0 {
			return err
		}
		for _, it := range items {
			switch it.Kind {
			case huella.DownstreamPurge:
				if err := r.purge(ctx, it); err != nil {
					return err
				}
			case huella.DownstreamCentral:
				if err := r.central(ctx, it); err != nil {
					return err
				}
			}
			if err := r.Store.SetDownstreamCursor(ctx, it.Seq); err != nil {
				return err
			}
		}
	}
}

// central records the center's identification of the site's encounter
// as it stands after an examiner's decision or a merge there. One the
// center no longer holds (purged: its purge item follows) or the site no
// longer holds is done.
func (r *Relay) central(ctx context.Context, it huella.DownstreamItem) error {
	if it.Central == nil {
		return nil
	}
	err := r.Store.UpdateCentral(ctx, it.EncounterID, it.Central)
	switch huella.ErrorCode(err) {
	case "":
		if r.OnCentral != nil {
			r.OnCentral(it.EncounterID, it.Central)
		}
		return nil
	case huella.ENOTFOUND:
		return nil
	default:
		return fmt.Errorf("central identification: %w", err)
	}
}

// watch replicates the center's watchlist changes after the site's
// cursor, which moves after each, so that a crash repeats at most the
// change under way (a replicated entry is stored once; a removal of one
// removed already is done).
func (r *Relay) watch(ctx context.Context) error {
	if r.PullWatch == nil || r.RemoveWatchEntry == nil {
		return nil
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	for {
		after, err := r.Store.WatchCursor(ctx)
		if err != nil {
			return err
		}
		changes, err := r.PullWatch(ctx, after)
		if err != nil || len(changes) == 0 {
			return err
		}
		for _, ch := range changes {
			if ch.Seq <= after {
				return fmt.Errorf("watchlist change %d after %d: out of order", ch.Seq, after)
			}
			switch ch.Op {
			case huella.GalleryWatchAdd:
				err = r.Store.ReplicateWatchEntry(ctx, ch.Watchlist, ch.Entry)
				if huella.ErrorCode(err) == huella.EINVALID {
					// Not one to hold up every later change for: an
					// administrator looks at the center's entry.
					r.Logger.Error("watch entry from the center not replicated", "entry", ch.EntryID, "seq", ch.Seq, "err", err)
					err = nil
				}
			case huella.GalleryWatchRemove:
				err = r.RemoveWatchEntry(ctx, ch.EntryID, "removed at the center")
				if c := huella.ErrorCode(err); c == huella.ENOTFOUND || c == huella.ECONFLICT {
					err = nil
				}
			}
			if err != nil {
				return fmt.Errorf("watchlist change %d: %w", ch.Seq, err)
			}
			if err := r.Store.SetWatchCursor(ctx, ch.Seq); err != nil {
				return err
			}
			after = ch.Seq
		}
	}
}

func (r *Relay) purge(ctx context.Context, it huella.DownstreamItem) error {
	e, err := r.Store.FindEncounter(ctx, it.EncounterID)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	_, err = r.PurgeSubject(ctx, e.SubjectID, it.Reason)
	switch huella.ErrorCode(err) {
	case "", huella.ENOTFOUND:
		return nil
	case huella.ECONFLICT, huella.EINVALID:
		// Merged at the site since, say: an administrator decides.
		r.Logger.Error("purge ordered by the center not applied", "encounter", it.EncounterID, "err", err)
		return nil
	default:
		return fmt.Errorf("purge ordered by the center: %w", err)
	}
}

// sendOne sends one encounter with its images and records the answer.
func (r *Relay) sendOne(ctx context.Context, id string) error {
	e, err := r.Store.FindEncounter(ctx, id)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil // purged since: its outbox row went with it
	}
	if err != nil {
		return err
	}
	// The center identifies for itself: the site's search and state stay here.
	e.Identification, e.Central, e.Officer = nil, nil, ""
	var u *Upload
	if blobs, ok := r.Blobs.(blobAppender); ok {
		// The images are read and opened straight into the message, in
		// a buffer reused from one encounter to the next (one per
		// worker, kept out of a sync.Pool, which every GC empties): a
		// fresh 20 MB message, and two 1.5 MB buffers per image, were
		// a third of the site's CPU (allocating, zeroing and copying).
		var buf []byte
		select {
		case buf = <-r.bufs:
		default:
		}
		if u, err = appendUploadBlobs(ctx, buf[:0], e, blobs); err != nil {
			return err
		}
		defer func() {
			if cap(u.wire) > maxKeptBuffer {
				return
			}
			select {
			case r.bufs <- u.wire:
			default:
			}
		}()
	} else {
		u = &Upload{Encounter: e, Images: make([][]byte, len(e.Samples))}
		for i, smp := range e.Samples {
			if u.Images[i], err = r.Blobs.Get(ctx, smp.ImageRef); err != nil {
				return fmt.Errorf("image of samples[%d]: %w", i, err)
			}
		}
	}
	c, err := r.Send(ctx, u)
	if err != nil {
		return err
	}
	if err := r.Store.SetCentral(ctx, id, c); err != nil {
		return err
	}
	r.sent.Add(1)
	if r.OnCentral != nil {
		r.OnCentral(id, c)
	}
	return nil
}
