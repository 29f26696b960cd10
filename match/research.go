package match

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/fusion"
)

// DefaultResearchEvery is how often the Researcher tries its queue.
const DefaultResearchEvery = 5 * time.Second

// Researcher searches again, once the whole subject gallery answers, the
// encounters whose search was partial (Identification.Partial), and
// raises a pending duplicate hit on every subject the complete search
// finds at the review threshold that the partial one had not: a shard
// that was down never makes a silent miss. With Queue set the queue is
// the store's, written with each partial enrollment in its transaction, so
// that it outlives a restart of the API node; without it, the queue is in
// this process's memory (Add).
type Researcher struct {
	Identifier *Identifier
	Every      time.Duration // DefaultResearchEvery when zero
	Logger     *slog.Logger
	// OnDone, when set, is told of each completed re-search and the hits
	// it raised, for metrics.
	OnDone func(hits int)
	// Queue, when set, is the store's queue of partial searches: Add then
	// queues nothing (the store did), and Run works the store's queue.
	Queue huella.ResearchQueue

	queued atomic.Int64 // the store queue's length when Run last looked

	mu     sync.Mutex
	queue  []*partialSearch
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// partialSearch is an enrollment waiting for its complete search.
type partialSearch struct {
	encounter, subject string
	probe              []*huella.Template
	known              map[string]bool // candidates the partial search raised hits on
	stored             bool            // in the store's queue, not in memory
}

// researchBatch is how many searches of the store's queue one Run reads.
const researchBatch = 100

// Add queues a stored encounter whose identification was partial; others
// are ignored.
func (r *Researcher) Add(e *huella.Encounter) {
	if e.Identification == nil || !e.Identification.Partial {
		return
	}
	if r.Queue != nil {
		r.queued.Add(1) // the store queued it; Run counts again
		return
	}
	p := &partialSearch{encounter: e.ID, subject: e.SubjectID, probe: Probe(e.Samples), known: map[string]bool{}}
	for _, h := range e.Identification.Hits {
		if h.Kind == huella.HitDuplicate {
			p.known[h.CandidateSubjectID] = true
		}
	}
	r.mu.Lock()
	r.queue = append(r.queue, p)
	r.mu.Unlock()
}

// Pending returns how many encounters wait for their complete search.
func (r *Researcher) Pending() int {
	if r.Queue != nil {
		return int(r.queued.Load())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Open starts the loop that works the queue every Every until Close.
func (r *Researcher) Open(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(huella.NewContextWithPurpose(context.WithoutCancel(ctx), huella.PurposeEnforcement))
	every := r.Every
	if every <= 0 {
		every = DefaultResearchEvery
	}
	if r.Queue != nil {
		if n, err := r.Queue.CountQueuedResearches(ctx); err == nil {
			r.queued.Store(int64(n))
		}
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := r.Run(ctx); err != nil && ctx.Err() == nil {
					r.logger().Warn("re-search of partial searches failed", "err", err)
				}
			}
		}
	}()
}

// Close stops the loop.
func (r *Researcher) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}

// Run works the queue once, oldest first, and returns how many searches
// completed. It stops at the first search still partial (the shard is
// not back yet) and leaves it and the rest queued.
func (r *Researcher) Run(ctx context.Context) (int, error) {
	todo, err := r.todo(ctx)
	if err != nil {
		return 0, err
	}
	x := r.Identifier
	review := fusion.LLRForFMR(x.ReviewFMR)
	done := 0
	for _, p := range todo {
		if len(p.probe) == 0 { // purged since: nothing to search
			if err := r.done(ctx, p); err != nil {
				return done, err
			}
			continue
		}
		cands, complete, err := x.searchSubjects(ctx, p.probe, 10, review)
		if err != nil {
			return done, err
		}
		if !complete {
			return done, nil
		}
		var hits []*huella.Hit
		for _, c := range cands {
			if c.SubjectID == p.subject || p.known[c.SubjectID] || len(hits) == MaxHits {
				continue
			}
			hits = append(hits, &huella.Hit{Kind: huella.HitDuplicate, EncounterID: p.encounter, SubjectID: p.subject,
				CandidateSubjectID: c.SubjectID, Candidate: c, State: huella.HitPending})
		}
		if p.stored {
			// The hits and the queue row's removal in one transaction: of two
			// API nodes working the queue, one raises them.
			err := r.Queue.CompleteResearch(ctx, p.encounter, hits)
			switch huella.ErrorCode(err) {
			case "":
				r.queued.Add(-1)
			case huella.ECONFLICT: // another node completed it
				r.queued.Add(-1)
				continue
			case huella.EINVALID: // the encounter was purged since; nothing to raise
				if err := r.done(ctx, p); err != nil {
					return done, err
				}
			default:
				return done, err
			}
		} else {
			if len(hits) > 0 {
				if err := x.Store.CreateHits(ctx, hits); err != nil && huella.ErrorCode(err) != huella.EINVALID {
					return done, err // EINVALID: the encounter was purged since; nothing to raise
				}
			}
			if err := r.done(ctx, p); err != nil {
				return done, err
			}
		}
		done++
		if r.OnDone != nil {
			r.OnDone(len(hits))
		}
	}
	return done, nil
}

// todo returns the queued searches, oldest first: the store's (a batch
// of them, their probes read back) or the memory's.
func (r *Researcher) todo(ctx context.Context) ([]*partialSearch, error) {
	if r.Queue == nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		return append([]*partialSearch(nil), r.queue...), nil
	}
	n, err := r.Queue.CountQueuedResearches(ctx)
	if err != nil {
		return nil, err
	}
	r.queued.Store(int64(n))
	list, err := r.Queue.QueuedResearches(ctx, researchBatch)
	if err != nil {
		return nil, err
	}
	todo := make([]*partialSearch, 0, len(list))
	for _, q := range list {
		p := &partialSearch{encounter: q.EncounterID, subject: q.SubjectID, known: map[string]bool{}, stored: true}
		for _, c := range q.Known {
			p.known[c] = true
		}
		for i := 0; i < len(q.SampleIDs); i += huella.MaxTemplateIDs {
			ts, err := r.Identifier.Store.FindTemplates(ctx, q.SampleIDs[i:min(i+huella.MaxTemplateIDs, len(q.SampleIDs))])
			if err != nil {
				return nil, err
			}
			p.probe = append(p.probe, ts...)
		}
		todo = append(todo, p)
	}
	return todo, nil
}

// done takes a search off its queue.
func (r *Researcher) done(ctx context.Context, p *partialSearch) error {
	if p.stored {
		if err := r.Queue.ResearchDone(ctx, p.encounter); err != nil {
			return err
		}
		r.queued.Add(-1)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, q := range r.queue {
		if q == p {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			break
		}
	}
	return nil
}

func (r *Researcher) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}
