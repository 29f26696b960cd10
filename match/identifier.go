// Package match is Huella's biometric search: it extracts the templates of
// an encounter's samples with each modality's engine, searches them 1:N
// against the subjects' gallery and every active watchlist, fuses the
// modalities into calibrated likelihood ratios, and turns the candidates
// into a decision (link, new subject, or hits for an examiner) under the
// thresholds below. Enrollment, adjudication, the console and the
// commands use it; it persists nothing but the hits it raises.
package match

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
)

// Default thresholds, as false match rates of the fused decision.
const (
	DefaultAutoLinkFMR  = 1e-6 // link to an existing subject without review
	DefaultReviewFMR    = 1e-3 // below auto-link and above this: an examiner decides
	DefaultWatchlistFMR = 1e-3 // a watchlist candidate becomes a hit
	// MaxHits bounds the hits one encounter raises of each kind.
	MaxHits = 5
)

// Identifier is the biometric side of enrollment: template extraction and
// the 1:N searches against the subjects and the active watchlists.
type Identifier struct {
	Engines    map[huella.Modality]engine.Engine
	Subjects   *gallery.Gallery
	Watchlists *gallery.Gallery
	Store      huella.IdentityStore
	Now        func() time.Time

	AutoLinkFMR, ReviewFMR, WatchlistFMR float64
	// OnIdentified, when set, is told how long each 1:N search of a probe
	// took (both galleries), for metrics.
	OnIdentified func(probe []*huella.Template, took time.Duration)
	// Sharded, when set, holds the subject gallery on matcher processes
	// in place of Subjects (which then stays empty). A search that part
	// of it did not answer is partial: its decision is review.
	Sharded ShardedSearch
	// OnPartial, when set, is told of each partial search, for metrics.
	OnPartial func()

	loaded atomic.Bool
	// loadedSeq is the store's gallery event head read before Load: the
	// galleries hold every event up to it.
	loadedSeq atomic.Int64
	mu        sync.Mutex
	entries   map[string]*huella.Watchlist // watch entry ID -> its list
	// The latest enrollments added to the subject gallery, numbered, so
	// that an enrollment can find those its search could not see (Missed).
	seq    uint64
	recent []enrolled // the last recentEnrollments, oldest first
}

// recentEnrollments is how many of the latest enrollments the identifier
// remembers for Missed: far more than can be enrolled while one search
// runs.
const recentEnrollments = 4096

// enrolled is an encounter added to the subject gallery, in order.
type enrolled struct {
	seq       uint64
	encounter string
	subject   string
}

// Ready returns EUNAVAILABLE until Load has filled the galleries: a search
// before then would miss earlier enrollments.
func (x *Identifier) Ready() error {
	if !x.loaded.Load() {
		return huella.Errorf(huella.EUNAVAILABLE, "the galleries are still loading")
	}
	return nil
}

// NewIdentifier returns an identifier with the default thresholds. Only
// engines with a calibration take part: scores that cannot be turned into
// likelihood ratios cannot be fused.
func NewIdentifier(store huella.IdentityStore, engines []engine.Engine, calibrations fusion.Set) *Identifier {
	engines = slices.DeleteFunc(slices.Clone(engines), func(e engine.Engine) bool { return calibrations[string(e.Modality())] == nil })
	x := &Identifier{
		Engines:      make(map[huella.Modality]engine.Engine),
		Subjects:     gallery.New(engines, calibrations),
		Watchlists:   gallery.New(engines, calibrations),
		Store:        store,
		Now:          time.Now,
		AutoLinkFMR:  DefaultAutoLinkFMR,
		ReviewFMR:    DefaultReviewFMR,
		WatchlistFMR: DefaultWatchlistFMR,
		entries:      make(map[string]*huella.Watchlist),
	}
	for _, e := range engines {
		x.Engines[e.Modality()] = e
	}
	if store != nil {
		// The finger slots keep only their descriptors and fetch the exact
		// stage's templates from the store (engine.OnDemand).
		x.Subjects.Templates, x.Watchlists.Templates = store, store
	}
	return x
}

// Load fills both galleries from the store and returns how many templates
// each received.
// With Sharded set, the subjects are the matchers' to load.
func (x *Identifier) Load(ctx context.Context) (subjects, watch int, err error) {
	if events, ok := x.Store.(huella.GalleryEventStore); ok {
		head, err := events.GalleryEventHead(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("load galleries: %w", err)
		}
		x.loadedSeq.Store(head)
	}
	if x.Sharded == nil {
		err = x.Store.ForEachTemplate(ctx, huella.GallerySubjects, func(t *huella.Template) error {
			subjects++
			return x.Subjects.Add(t)
		})
		if err != nil {
			return 0, 0, fmt.Errorf("load subject gallery: %w", err)
		}
	}
	err = x.Store.ForEachTemplate(ctx, huella.GalleryWatchlists, func(t *huella.Template) error {
		watch++
		return x.Watchlists.Add(t)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load watchlist gallery: %w", err)
	}
	x.loaded.Store(true)
	return subjects, watch, nil
}

// Extract makes the template of every sample an engine handles, on all
// cores, and returns why each unusable sample could not be used (the
// officer is asked to recapture it). Usable samples get their Template
// and Quality.
func (x *Identifier) Extract(ctx context.Context, samples []*huella.Sample, images [][]byte) []string {
	recapture := make([]string, len(samples))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, s := range samples {
		eng, ok := x.Engines[s.Modality]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			data, q, err := eng.Extract(ctx, s, images[i])
			if err != nil {
				zero := 0
				s.Quality = &zero
				recapture[i] = fmt.Sprintf("samples[%d]: %s", i, huella.ErrorMessage(err))
				return
			}
			name, version := eng.Algorithm()
			s.Quality = &q
			s.Template = &huella.Template{Modality: s.Modality, Position: s.Position, Eye: s.Eye,
				Algorithm: name, Version: version, Quality: q, Data: data}
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(recapture, func(r string) bool { return r == "" })
}

// Probe returns the templates of the samples that have one.
func Probe(samples []*huella.Sample) []*huella.Template {
	var out []*huella.Template
	for _, s := range samples {
		if s.Template != nil {
			out = append(out, s.Template)
		}
	}
	return out
}

// Identify searches the probe against the subjects and the active
// watchlists and decides: link above the auto-link threshold (and only if
// no other subject reaches it), review between the thresholds, new subject
// below. Watchlist candidates above their threshold become pending hits.
// A search of sharded subjects that part of the gallery did not answer is
// Partial, and its decision review whatever it found: never a new subject
// or a link on a partial view (the caller queues it for a complete search).
func (x *Identifier) Identify(ctx context.Context, probe []*huella.Template) (*huella.Identification, error) {
	id := &huella.Identification{Decision: huella.DecisionNewSubject}
	if len(probe) == 0 {
		return id, nil
	}
	if x.OnIdentified != nil {
		defer func(start time.Time) { x.OnIdentified(probe, time.Since(start)) }(time.Now())
	}
	review := fusion.LLRForFMR(x.ReviewFMR)
	autoLink := fusion.LLRForFMR(x.AutoLinkFMR)
	cands, complete, err := x.searchSubjects(ctx, probe, 10, review)
	if err != nil {
		return nil, err
	}
	id.Candidates = cands
	switch {
	case !complete:
		id.Decision, id.Partial = huella.DecisionReview, true
		for _, c := range cands[:min(len(cands), MaxHits)] {
			id.Hits = append(id.Hits, &huella.Hit{Kind: huella.HitDuplicate, CandidateSubjectID: c.SubjectID, Candidate: c, State: huella.HitPending})
		}
		if x.OnPartial != nil {
			x.OnPartial()
		}
	case len(cands) > 0 && cands[0].LLR >= autoLink && (len(cands) == 1 || cands[1].LLR < autoLink):
		id.Decision = huella.DecisionLinked
	case len(cands) > 0:
		id.Decision = huella.DecisionReview
		for _, c := range cands[:min(len(cands), MaxHits)] {
			id.Hits = append(id.Hits, &huella.Hit{Kind: huella.HitDuplicate, CandidateSubjectID: c.SubjectID, Candidate: c, State: huella.HitPending})
		}
	}
	watch, err := x.Watchlists.Identify(ctx, probe, MaxHits*2, fusion.LLRForFMR(x.WatchlistFMR))
	if err != nil {
		return nil, err
	}
	now := x.Now()
	for _, c := range watch {
		list, err := x.watchlistOf(ctx, c.SubjectID)
		if err != nil {
			return nil, err
		}
		if list == nil || !list.Active(now) {
			continue
		}
		c := *c
		c.WatchEntryID, c.SubjectID = c.SubjectID, ""
		id.Hits = append(id.Hits, &huella.Hit{Kind: huella.HitWatchlist, WatchlistID: list.ID, WatchEntryID: c.WatchEntryID,
			Category: list.Category, Candidate: &c, State: huella.HitPending})
		if len(id.Hits) >= 2*MaxHits {
			break
		}
	}
	return id, nil
}

// watchlistOf returns the watchlist of an entry, cached.
func (x *Identifier) watchlistOf(ctx context.Context, entryID string) (*huella.Watchlist, error) {
	x.mu.Lock()
	w, ok := x.entries[entryID]
	x.mu.Unlock()
	if ok {
		return w, nil
	}
	e, err := x.Store.FindWatchEntry(ctx, entryID)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if e.Removed() {
		w = nil // removed by another process since the gallery loaded
	} else if w, err = x.Store.FindWatchlist(ctx, e.WatchlistID); err != nil {
		return nil, err
	}
	x.mu.Lock()
	x.entries[entryID] = w
	x.mu.Unlock()
	return w, nil
}

// RemoveWatchEntry takes an entry off its watchlist in the store (which
// withdraws its pending hits) and out of the watchlist gallery, so that
// the next probe no longer matches it. A search already under way when
// it is removed may still find it: the store keeps such a hit withdrawn.
func (x *Identifier) RemoveWatchEntry(ctx context.Context, id, reason string) error {
	if err := x.Store.RemoveWatchEntry(ctx, id, reason); err != nil {
		return err
	}
	x.Watchlists.Remove(id)
	x.mu.Lock()
	x.entries[id] = nil // no longer on a list: Identify skips it
	x.mu.Unlock()
	return nil
}

// Enrolled adds a stored encounter's templates to the subject gallery.
// With Sharded set, they go to the matchers of the subject's shard.
func (x *Identifier) Enrolled(e *huella.Encounter) error {
	var added []*huella.Template
	for _, s := range e.Samples {
		if s.Template == nil {
			continue
		}
		t := *s.Template
		t.SampleID, t.SubjectID = s.ID, e.SubjectID
		if x.Sharded != nil {
			added = append(added, &t)
		} else if err := x.Subjects.Add(&t); err != nil {
			return err
		}
	}
	if len(added) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), shardUpdateTimeout)
		err := x.Sharded.Add(ctx, added)
		cancel()
		if err != nil {
			return err
		}
	}
	x.mu.Lock()
	x.seq++
	if len(x.recent) == recentEnrollments {
		x.recent = slices.Delete(x.recent, 0, recentEnrollments/4)
	}
	x.recent = append(x.recent, enrolled{seq: x.seq, encounter: e.ID, subject: e.SubjectID})
	x.mu.Unlock()
	return nil
}

// enrolledHere reports whether Enrolled added the encounter, among the
// latest ones.
func (x *Identifier) enrolledHere(encounterID string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := len(x.recent) - 1; i >= 0; i-- {
		if x.recent[i].encounter == encounterID {
			return true
		}
	}
	return false
}

// Mark returns the position in the sequence of enrollments added to the
// subject gallery. A search begun after Mark sees every enrollment up to
// it; Missed finds the ones after it.
func (x *Identifier) Mark() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.seq
}

// Missed closes the race between concurrent enrollments of one person:
// each searches before the other is in the gallery, so both would become
// new subjects. Called after e is stored and Enrolled, with the Mark taken
// before e's search, it compares e with the other subjects enrolled after
// the mark and before e itself (so that of two such enrollments only the
// later one looks back), and returns a pending duplicate hit for each at
// the review threshold or above. The caller stores them.
func (x *Identifier) Missed(ctx context.Context, e *huella.Encounter, mark uint64) ([]*huella.Hit, error) {
	x.mu.Lock()
	var own uint64
	for i := len(x.recent) - 1; i >= 0 && own == 0; i-- {
		if x.recent[i].encounter == e.ID {
			own = x.recent[i].seq
		}
	}
	var subjects []string
	for _, r := range x.recent {
		if r.seq > mark && r.seq < own && r.subject != e.SubjectID && !slices.Contains(subjects, r.subject) {
			subjects = append(subjects, r.subject)
		}
	}
	x.mu.Unlock()
	probe := Probe(e.Samples)
	if len(probe) == 0 {
		return nil, nil
	}
	review := fusion.LLRForFMR(x.ReviewFMR)
	var hits []*huella.Hit
	for _, subject := range subjects {
		c, err := x.VerifySubject(ctx, probe, subject)
		switch {
		case huella.ErrorCode(err) == huella.ENOTFOUND:
			continue // purged since
		case err != nil:
			return nil, err
		case c.SubjectID == e.SubjectID:
			continue // merged into e's subject since
		}
		if c.LLR >= review && len(hits) < MaxHits {
			hits = append(hits, &huella.Hit{Kind: huella.HitDuplicate, EncounterID: e.ID, SubjectID: e.SubjectID, Site: e.SiteCode,
				CandidateSubjectID: c.SubjectID, Candidate: c, State: huella.HitPending})
		}
	}
	return hits, nil
}

// Purged drops purged subjects from the subject gallery, so that the next
// probe no longer matches them. A restarted identifier never loads them:
// they are gone from the store.
//
// With Sharded set they are dropped from the matchers at once, best
// effort; every matcher drops them for sure when it applies the purge's
// gallery event (Applier), which the store wrote with the purge.
func (x *Identifier) Purged(subjects []string) {
	for _, id := range subjects {
		x.Subjects.Remove(id)
	}
	if x.Sharded != nil && len(subjects) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), shardUpdateTimeout)
		defer cancel()
		_ = x.Sharded.Remove(ctx, subjects) // best effort: the event stream is the guarantee
	}
}

// Applier returns an Applier of the store's gallery events to this
// identifier's galleries (the subject gallery only when it holds one),
// starting after the events its Load saw.
func (x *Identifier) Applier(store GalleryReader) *Applier {
	a := &Applier{Store: store, Watchlists: x.Watchlists, OnWatchRemoved: func(id string) {
		x.mu.Lock()
		x.entries[id] = nil // no longer on a list: Identify skips it
		x.mu.Unlock()
	}}
	if x.Sharded == nil {
		a.Subjects = x.Subjects
	}
	a.Enrolled = x.enrolledHere
	a.SetApplied(x.loadedSeq.Load())
	return a
}
