// Package adjudicate is the examiner's side of identification: the queue of
// pending hits, the side-by-side view of a hit, and decisions, which act
// only when an examiner confirms.
package adjudicate

import (
	"context"
	"log/slog"
	"slices"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/match"
)

// Store is what adjudication reads and writes.
type Store interface {
	huella.Store
	huella.IdentityStore
}

// Service runs adjudication for the user in the context.
type Service struct {
	Store      Store
	Identifier *match.Identifier // kept in step with merges; nil when not identifying
	// Blobs holds the images, from which a hit's view compares the fingers
	// minutia by minutia; nil leaves the minutiae out of the view.
	Blobs huella.BlobStore
	// TwoPersonRule makes a confirmation take two examiners: the first
	// confirmation is recorded and the hit stays pending until another
	// examiner confirms (or anyone rejects).
	TwoPersonRule bool
	// Logger records a gallery that failed to follow a merge or an
	// unmerge (the store has it, with its gallery event: the galleries follow it from there). Nil discards.
	Logger *slog.Logger
}

// Queue returns the hits in the filter that the actor may decide or see:
// site-scoped users see only hits of encounters at their sites.
func (s *Service) Queue(ctx context.Context, f huella.HitFilter) ([]*huella.Hit, error) {
	u := huella.ActorFromContext(ctx)
	if u.Role.SiteScoped() {
		sites := f.Sites
		if sites == nil {
			sites = u.Sites
		}
		for _, site := range sites {
			if !u.CanAccessSite(site) {
				return nil, huella.Errorf(huella.EFORBIDDEN, "you do not work at site %s", site)
			}
		}
		f.Sites = sites
	}
	return s.Store.ListHits(ctx, f)
}

// View is what an examiner compares side by side: the hit with its
// per-modality and fused scores, the probe encounter, the candidate (a
// subject's history, or a watchlist entry), and the fingers both sides
// have, minutia by minutia.
type View struct {
	Hit        *huella.Hit         `json:"hit"`
	Probe      *huella.Encounter   `json:"probe"`
	Subject    *huella.Subject     `json:"candidate_subject,omitempty"`
	WatchEntry *huella.WatchEntry  `json:"candidate_watch_entry,omitempty"`
	Watchlist  *huella.Watchlist   `json:"watchlist,omitempty"`
	Fingers    []*FingerComparison `json:"fingers,omitempty"`
}

// Hit returns the side-by-side view of one hit. The caller audits the read.
func (s *Service) Hit(ctx context.Context, id string) (*View, error) {
	v, candidate, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Blobs != nil {
		if v.Fingers, err = CompareFingers(ctx, s.Store, s.Blobs, v.Probe.Samples, candidate); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Sample returns a sample of a hit's view, for its image: one of the probe
// encounter's, or of the candidate's as the view shows it (CandidateFor),
// with the hit. EFORBIDDEN for a hit the actor may not see; ENOTFOUND for
// a sample the view does not hold. The caller audits the read.
func (s *Service) Sample(ctx context.Context, hitID, sampleID string) (*huella.Sample, *huella.Hit, error) {
	v, candidate, err := s.view(ctx, hitID)
	if err != nil {
		return nil, nil, err
	}
	for _, smp := range append(slices.Clone(v.Probe.Samples), candidate...) {
		if smp.ID == sampleID {
			return smp, v.Hit, nil
		}
	}
	return nil, nil, huella.Errorf(huella.ENOTFOUND, "the image is not part of this hit")
}

// view returns the hit's view without the finger comparisons, and the
// candidate's samples in it, newest first.
func (s *Service) view(ctx context.Context, id string) (*View, []*huella.Sample, error) {
	h, err := s.Find(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	v := &View{Hit: h}
	if v.Probe, err = s.Store.FindEncounter(ctx, h.EncounterID); err != nil {
		return nil, nil, err
	}
	var candidate []*huella.Sample
	switch h.Kind {
	case huella.HitDuplicate:
		sub, err := s.Store.FindSubject(ctx, h.CandidateSubjectID)
		if err != nil {
			return nil, nil, err
		}
		v.Subject = CandidateFor(huella.ActorFromContext(ctx), h, sub)
		candidate = CandidateSamples(v.Subject)
	case huella.HitWatchlist:
		if v.WatchEntry, err = s.Store.FindWatchEntry(ctx, h.WatchEntryID); err != nil {
			return nil, nil, err
		}
		if v.Watchlist, err = s.Store.FindWatchlist(ctx, h.WatchlistID); err != nil {
			return nil, nil, err
		}
		candidate = v.WatchEntry.Samples
	}
	return v, candidate, nil
}

// CandidateFor returns a duplicate hit's candidate subject as the user
// sees it in the hit's view. An examiner must compare the candidate's
// biometrics wherever they were taken, but sees other sites' biographics
// only as far as the subject view shows them. So an encounter at a site
// the user does not work at shows when, where and why
// (huella.RedactedEncounter) and, while the hit is pending, its finger,
// iris and face samples (the images to compare); never its names,
// documents, history, scars, marks and tattoos or identification. Once the
// hit is decided, nothing is left to compare: such an encounter shows as
// in the subject view. Encounters at the user's sites show whole.
func CandidateFor(u *huella.User, h *huella.Hit, sub *huella.Subject) *huella.Subject {
	out := *sub
	out.Encounters = make([]*huella.Encounter, len(sub.Encounters))
	for i, e := range sub.Encounters {
		if u.CanAccessSite(e.SiteCode) {
			out.Encounters[i] = e
			continue
		}
		r := huella.RedactedEncounter(e)
		if h.State == huella.HitPending {
			for _, smp := range e.Samples {
				if smp.Modality != huella.ModalitySMT {
					r.Samples = append(r.Samples, smp)
				}
			}
		}
		out.Encounters[i] = r
	}
	return &out
}

// CandidateSamples returns the samples of a subject's encounters, newest
// encounter first: its images are the freshest, and the gallery searched
// with its templates.
func CandidateSamples(subject *huella.Subject) []*huella.Sample {
	var out []*huella.Sample
	for i := len(subject.Encounters) - 1; i >= 0; i-- {
		out = append(out, subject.Encounters[i].Samples...)
	}
	return out
}

// Find returns the hit if the actor may see it: site-scoped users only
// hits of encounters at their sites.
func (s *Service) Find(ctx context.Context, id string) (*huella.Hit, error) {
	h, err := s.Store.FindHit(ctx, id)
	if err != nil {
		return nil, err
	}
	if !huella.ActorFromContext(ctx).CanAccessSite(h.Site) {
		return nil, huella.Errorf(huella.EFORBIDDEN, "the hit is at a site you do not work at")
	}
	return h, nil
}

// Decide confirms or rejects a pending hit with a reason. Only examiners
// decide, at their sites; under the two-person rule the first confirmation
// is only recorded. A confirmed duplicate merges the subjects in the store
// and in the gallery.
func (s *Service) Decide(ctx context.Context, id string, state huella.HitState, reason string) (*huella.Hit, error) {
	if huella.ActorFromContext(ctx).Role != huella.RoleExaminer {
		return nil, huella.Errorf(huella.EFORBIDDEN, "only examiners decide hits")
	}
	pending, err := s.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.TwoPersonRule && state == huella.HitConfirmed && pending.FirstExaminer == "" {
		return s.Store.RecordFirstConfirmation(ctx, id, reason)
	}
	h, err := s.Store.DecideHit(ctx, id, state, reason)
	if err != nil {
		return nil, err
	}
	if h.State == huella.HitConfirmed && h.Kind == huella.HitDuplicate && s.Identifier != nil {
		// The store merged the subjects; the gallery follows. Should this
		// fail, the merge's gallery event brings it all the same.
		if err := s.Identifier.MergeSubjects(h.SubjectID, h.CandidateSubjectID); err != nil {
			s.logger().ErrorContext(ctx, "gallery merge failed", "hit", h.ID, "err", err)
		}
	}
	return h, nil
}

// Unmerge separates a subject merged by a confirmed duplicate.
func (s *Service) Unmerge(ctx context.Context, subjectID string) error {
	if err := s.Store.UnmergeSubject(ctx, subjectID); err != nil {
		return err
	}
	if s.Identifier != nil {
		if err := s.Identifier.UnmergeSubject(subjectID); err != nil {
			s.logger().ErrorContext(ctx, "gallery unmerge failed", "subject", subjectID, "err", err)
		}
	}
	return nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
