package enroll

import (
	"context"
	"fmt"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/isomap"
	"github.com/huella-abis/huella/match"
)

// probe inspects the images of samples submitted without an encounter and
// extracts their templates. A probe with no usable sample is
// EUNPROCESSABLE: there is nothing to search with.
func (s *Service) probe(ctx context.Context, samples []*huella.Sample, images [][]byte) ([]*huella.Template, []string, error) {
	if s.Identifier == nil {
		return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "biometric search is not enabled")
	}
	if err := s.Identifier.Ready(); err != nil {
		return nil, nil, err
	}
	if len(samples) == 0 || len(samples) != len(images) {
		return nil, nil, huella.Errorf(huella.EINVALID, "a probe needs at least one sample, each with its image")
	}
	samples, images, err := isomap.UnwrapAll(samples, images)
	if err != nil {
		return nil, nil, err
	}
	for i, smp := range samples {
		if err := s.inspect(smp, images[i]); err != nil {
			return nil, nil, huella.Errorf(huella.EINVALID, "samples[%d]: %s", i, huella.ErrorMessage(err))
		}
		smp.ImageRef = placeholderRef
		if err := smp.Validate(); err != nil {
			return nil, nil, huella.Errorf(huella.EINVALID, "samples[%d]: %s", i, huella.ErrorMessage(err))
		}
	}
	recapture := s.Identifier.Extract(ctx, samples, images)
	probe := match.Probe(samples)
	if len(probe) == 0 {
		return nil, recapture, huella.Errorf(huella.EUNPROCESSABLE, "no sample of the probe is usable: %v", recapture)
	}
	return probe, recapture, nil
}

// Identify searches the probe's samples against the subjects and the active
// watchlists without enrolling anything. The caller audits the search.
func (s *Service) Identify(ctx context.Context, samples []*huella.Sample, images [][]byte) (*huella.Identification, error) {
	probe, recapture, err := s.probe(ctx, samples, images)
	if err != nil {
		return nil, err
	}
	id, err := s.Identifier.Identify(ctx, probe)
	if err != nil {
		return nil, err
	}
	id.Recapture = recapture
	return id, nil
}

// Verification is the outcome of a 1:1 comparison with a subject.
type Verification struct {
	Candidate *huella.Candidate `json:"candidate"`
	Match     bool              `json:"match"` // the fused LLR reaches the review threshold (FMR 1e-3)
}

// Verify compares the probe's samples with one subject's templates. The
// caller must be able to read the subject (huella.User.CanReadSubject):
// a 1:1 comparison with a subject seen only at other sites would tell a
// site-scoped caller what the subject view refuses them, so it is
// EFORBIDDEN, as reading the subject is. ENOTFOUND for an unknown subject.
func (s *Service) Verify(ctx context.Context, subjectID string, samples []*huella.Sample, images [][]byte) (*Verification, error) {
	sub, err := s.Store.FindSubject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	if u := huella.ActorFromContext(ctx); u == nil || !u.CanReadSubject(sub) {
		return nil, huella.Errorf(huella.EFORBIDDEN, "the subject has no encounter at a site you work at")
	}
	probe, _, err := s.probe(ctx, samples, images)
	if err != nil {
		return nil, err
	}
	c, err := s.Identifier.VerifySubject(ctx, probe, subjectID)
	if err != nil {
		return nil, err
	}
	return &Verification{Candidate: c, Match: c.LLR >= fusion.LLRForFMR(s.Identifier.ReviewFMR)}, nil
}

// AddWatchEntry stores a watchlist entry with its images and templates,
// adds it to the watchlist gallery and searches it back against every
// enrolled subject (the retro search): candidates above the watchlist
// threshold become pending hits on the subject's latest encounter.
func (s *Service) AddWatchEntry(ctx context.Context, e *huella.WatchEntry, images [][]byte) ([]*huella.Hit, error) {
	probe, _, err := s.probe(ctx, e.Samples, images)
	if err != nil {
		return nil, err
	}
	list, err := s.Identifier.Store.FindWatchlist(ctx, e.WatchlistID)
	if err != nil {
		return nil, err
	}
	if err := e.Validate(s.Now()); err != nil {
		return nil, err
	}
	if err := s.storeWatchEntry(ctx, e, images); err != nil {
		return nil, err
	}
	for _, smp := range e.Samples {
		if smp.Template != nil {
			t := *smp.Template
			t.SampleID, t.SubjectID = smp.ID, e.ID
			if err := s.Identifier.Watchlists.Add(&t); err != nil {
				return nil, err
			}
		}
	}
	if !list.Active(s.Now()) {
		return nil, nil
	}
	cands, err := s.Identifier.SearchSubjects(ctx, probe, match.MaxHits, fusion.LLRForFMR(s.Identifier.WatchlistFMR))
	if err != nil {
		return nil, err
	}
	var hits []*huella.Hit
	for _, c := range cands {
		sub, err := s.Store.FindSubject(ctx, c.SubjectID)
		if err != nil || len(sub.Encounters) == 0 {
			continue // purged since the gallery loaded
		}
		latest := sub.Encounters[len(sub.Encounters)-1]
		wc := *c
		wc.WatchEntryID, wc.SubjectID = e.ID, ""
		hits = append(hits, &huella.Hit{Kind: huella.HitWatchlist, EncounterID: latest.ID, WatchlistID: list.ID,
			WatchEntryID: e.ID, Category: list.Category, Candidate: &wc})
	}
	if len(hits) > 0 {
		if err := s.Identifier.Store.CreateHits(ctx, hits); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// storeWatchEntry stores the entry's images, then the entry.
func (s *Service) storeWatchEntry(ctx context.Context, e *huella.WatchEntry, images [][]byte) error {
	blobLock.RLock() // until the record names the images (purge.go)
	defer blobLock.RUnlock()
	for i, smp := range e.Samples {
		ref, err := s.Blobs.Put(ctx, images[i])
		if err != nil {
			return fmt.Errorf("store image: %w", err)
		}
		smp.ImageRef = ref
	}
	return s.Identifier.Store.CreateWatchEntry(ctx, e)
}

// RemoveWatchEntry takes an entry off its watchlist with a reason, as the
// actor in ctx: the store keeps it marked removed and withdraws its
// pending hits, and the running identifier stops matching it at once.
// Without biometric search only the store is changed. ENOTFOUND;
// ECONFLICT if it was removed already; EINVALID without a reason.
func (s *Service) RemoveWatchEntry(ctx context.Context, id, reason string) error {
	if s.Identifier != nil {
		return s.Identifier.RemoveWatchEntry(ctx, id, reason)
	}
	return s.Store.RemoveWatchEntry(ctx, id, reason)
}
