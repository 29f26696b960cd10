package huella

import (
	"context"
	"slices"
	"time"
)

// Decision is what enrollment concluded about who the person is. No
// decision acts on a person by itself: a link is made automatically only
// above the FMR 1e-6 threshold, anything less certain waits for an examiner.
type Decision string

// Decisions.
const (
	DecisionNewSubject Decision = "new-subject" // no candidate reached the review threshold
	DecisionLinked     Decision = "linked"      // one candidate above the auto-link threshold
	DecisionReview     Decision = "review"      // candidates between the thresholds: an examiner decides
)

// ModalityScore is one comparison behind a candidate: the engine's raw
// score and the log-likelihood ratio it is calibrated to.
type ModalityScore struct {
	Modality Modality `json:"modality"`
	Position int      `json:"position,omitempty"` // finger FGP code
	Eye      Eye      `json:"eye,omitempty"`
	Score    float64  `json:"score"` // raw engine score (similarity)
	LLR      float64  `json:"llr"`   // natural-log likelihood ratio, genuine versus impostor
}

// Candidate is a subject or watchlist entry that a probe matched.
type Candidate struct {
	SubjectID    string          `json:"subject_id,omitempty"`
	WatchEntryID string          `json:"watch_entry_id,omitempty"`
	LLR          float64         `json:"llr"` // fused: the sum over the modalities both sides have
	FMR          float64         `json:"fmr"` // bound on the false match rate at this score: exp(-LLR)
	Scores       []ModalityScore `json:"scores"`
}

// Identification is the outcome of a 1:N search at enrollment.
type Identification struct {
	Decision   Decision     `json:"decision"`
	Candidates []*Candidate `json:"candidates,omitempty"` // best first
	Hits       []*Hit       `json:"hits,omitempty"`       // watchlist candidates, pending review
}

// WatchlistCategory says why a partner wants to know of a person.
type WatchlistCategory string

// Watchlist categories.
const (
	CategoryConviction WatchlistCategory = "conviction"
	CategoryWanted     WatchlistCategory = "wanted"
	CategoryGang       WatchlistCategory = "gang"
	CategoryTerrorism  WatchlistCategory = "terrorism"
	CategoryOther      WatchlistCategory = "other"
)

// WatchlistCategories lists every category.
var WatchlistCategories = []WatchlistCategory{CategoryConviction, CategoryWanted, CategoryGang, CategoryTerrorism, CategoryOther}

// Watchlist is a list of people a partner agency or the program wants to be
// told of when they are enrolled.
type Watchlist struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"` // partner code, or "PROGRAM"
	Category   WatchlistCategory `json:"category"`
	ValidFrom  time.Time         `json:"valid_from"`
	ValidUntil time.Time         `json:"valid_until,omitempty"` // zero: open-ended
	CreatedAt  time.Time         `json:"created_at"`
}

// Validate reports the first rule the watchlist breaks.
func (w *Watchlist) Validate() error {
	switch {
	case w.Name == "" || len(w.Name) > 200:
		return Errorf(EINVALID, "watchlist name required (at most 200 characters)")
	case w.Owner == "" || len(w.Owner) > 64:
		return Errorf(EINVALID, "watchlist owner required")
	case !slices.Contains(WatchlistCategories, w.Category):
		return Errorf(EINVALID, "category must be conviction, wanted, gang, terrorism or other")
	case !w.ValidUntil.IsZero() && !w.ValidUntil.After(w.ValidFrom):
		return Errorf(EINVALID, "valid_until must be after valid_from")
	}
	return nil
}

// Active reports whether the watchlist is in force at t.
func (w *Watchlist) Active(t time.Time) bool {
	return !t.Before(w.ValidFrom) && (w.ValidUntil.IsZero() || t.Before(w.ValidUntil))
}

// HitState is where a watchlist hit stands in adjudication.
type HitState string

// Hit states.
const (
	HitPending   HitState = "pending"
	HitConfirmed HitState = "confirmed"
	HitRejected  HitState = "rejected"
)

// Hit is a watchlist candidate of an encounter, waiting for or decided by
// an examiner. Only a confirmed hit is ever forwarded.
type Hit struct {
	ID           string            `json:"id"`
	EncounterID  string            `json:"encounter_id"`
	WatchlistID  string            `json:"watchlist_id"`
	WatchEntryID string            `json:"watch_entry_id"`
	Category     WatchlistCategory `json:"category"`
	Candidate    *Candidate        `json:"candidate"`
	State        HitState          `json:"state"`
	Examiner     string            `json:"examiner,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	DecidedAt    time.Time         `json:"decided_at,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
}

// Matcher is the 1:N search over every enrolled subject and watchlist
// entry, across modalities. Implemented by gallery.Gallery.
type Matcher interface {
	// Identify searches the probe's templates and returns the candidates
	// whose fused LLR reaches minLLR, best first, at most k.
	Identify(ctx context.Context, probe []*Template, k int, minLLR float64) ([]*Candidate, error)
}
