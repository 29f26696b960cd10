package huella

import (
	"context"
	"slices"
	"time"
)

// Audit actions of identification and adjudication.
const (
	ActionIdentify         = "identify"
	ActionVerify           = "verify"
	ActionHitCreate        = "hit.create"
	ActionHitRead          = "hit.read"
	ActionHitDecide        = "hit.decide"
	ActionWatchlistCreate  = "watchlist.create"
	ActionWatchEntryCreate = "watch_entry.create"
	ActionWatchEntryList   = "watch_entry.list"
	ActionWatchEntryRemove = "watch_entry.remove"
	ActionSubjectMerge     = "subject.merge"
	ActionSubjectUnmerge   = "subject.unmerge"
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
	Hits       []*Hit       `json:"hits,omitempty"`       // pending examiner decisions: watchlist matches and possible duplicates
	Recapture  []string     `json:"recapture,omitempty"`  // samples with no usable biometric, and why
	// Partial: part of a sharded subject gallery did not answer in time, so
	// the decision is review and a complete search follows.
	Partial bool `json:"partial,omitempty"`
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

// HitKind says what a hit would mean if confirmed.
type HitKind string

// Hit kinds.
const (
	HitWatchlist HitKind = "watchlist" // the person may be on a partner's watchlist
	HitDuplicate HitKind = "duplicate" // the person may be a subject enrolled before
)

// HitState is where a hit stands in adjudication.
type HitState string

// Hit states.
const (
	HitPending   HitState = "pending"
	HitConfirmed HitState = "confirmed"
	HitRejected  HitState = "rejected"
	// HitWithdrawn closes a watchlist hit without a decision: its entry was
	// removed from the list while the hit was pending, so there is no
	// longer anything to confirm.
	HitWithdrawn HitState = "withdrawn"
)

// Hit is a candidate that needs an examiner: a watchlist match, or a
// possible earlier enrollment of the same person between the review and
// auto-link thresholds. Only a confirmed hit acts: a confirmed duplicate
// merges the two subjects, a confirmed watchlist hit is forwarded.
type Hit struct {
	ID                 string            `json:"id"`
	Kind               HitKind           `json:"kind"`
	EncounterID        string            `json:"encounter_id"`                   // the probe encounter
	SubjectID          string            `json:"subject_id"`                     // the probe encounter's subject
	Site               string            `json:"site"`                           // the probe encounter's site
	CandidateSubjectID string            `json:"candidate_subject_id,omitempty"` // for duplicates
	WatchlistID        string            `json:"watchlist_id,omitempty"`
	WatchEntryID       string            `json:"watch_entry_id,omitempty"`
	Category           WatchlistCategory `json:"category,omitempty"`
	Candidate          *Candidate        `json:"candidate"`
	State              HitState          `json:"state"`
	Examiner           string            `json:"examiner,omitempty"` // user ID of who decided
	Reason             string            `json:"reason,omitempty"`
	DecidedAt          time.Time         `json:"decided_at,omitempty"`
	// Under the two-person rule a confirmation takes two examiners: the
	// first one's is recorded here while the hit stays pending.
	FirstExaminer    string    `json:"first_examiner,omitempty"`
	FirstReason      string    `json:"first_reason,omitempty"`
	FirstConfirmedAt time.Time `json:"first_confirmed_at,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// ValidateDecision reports whether an examiner's decision on a hit is
// well-formed: it confirms or rejects, and says why.
func ValidateDecision(state HitState, reason string) error {
	if state != HitConfirmed && state != HitRejected {
		return Errorf(EINVALID, "a decision confirms or rejects")
	}
	if reason == "" {
		return Errorf(EINVALID, "a decision needs a reason")
	}
	return checkText("reason", reason, 1000)
}

// WatchEntry is a person on a watchlist: the owner's reference, what is
// known of them, and the biometric samples to search with.
type WatchEntry struct {
	ID          string      `json:"id"`
	WatchlistID string      `json:"watchlist_id"`
	Reference   string      `json:"reference"` // the owner's case or record number
	Biographics Biographics `json:"biographics"`
	Samples     []*Sample   `json:"samples,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	// A removed entry (a withdrawn notice, a quashed conviction) is kept
	// for the audit trail and subject access reports, but is no longer
	// searched for.
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	RemovedBy     string    `json:"removed_by,omitempty"` // user ID
	RemovalReason string    `json:"removal_reason,omitempty"`
}

// Removed reports whether the entry was taken off its watchlist.
func (w *WatchEntry) Removed() bool { return !w.RemovedAt.IsZero() }

// ValidateRemoval reports whether the reason to remove a watchlist entry
// is well-formed: removing needs one, as a decision does.
func ValidateRemoval(reason string) error {
	if reason == "" {
		return Errorf(EINVALID, "removing a watchlist entry needs a reason")
	}
	return checkText("reason", reason, 1000)
}

// Validate reports the first rule the entry breaks. An entry without a
// biometric sample cannot be searched for, so it is refused.
func (w *WatchEntry) Validate(now time.Time) error {
	if w.WatchlistID == "" {
		return Errorf(EINVALID, "watchlist_id required")
	}
	if w.Reference == "" || len(w.Reference) > 100 {
		return Errorf(EINVALID, "reference required (at most 100 characters)")
	}
	if len(w.Samples) == 0 {
		return Errorf(EINVALID, "a watchlist entry needs at least one biometric sample")
	}
	for i, s := range w.Samples {
		if err := s.Validate(); err != nil {
			return Errorf(EINVALID, "samples[%d]: %s", i, ErrorMessage(err))
		}
	}
	if len(w.Biographics.Names) == 0 {
		return nil // biometrics alone are enough
	}
	return w.Biographics.Validate(now)
}

// HitFilter selects hits. Zero fields do not filter.
type HitFilter struct {
	State HitState
	Kind  HitKind
	// SubjectID selects the hits about a subject (and the subjects merged
	// into it): as the probe's subject or as the duplicate candidate.
	SubjectID string
	Sites     []string // hits of probe encounters at these sites
	Limit     int      // at most this many (0: 100, at most 1000), oldest first
	Offset    int
	After     *PageKey // the hits after this one (created at, then ID)
}

// GalleryKind names one of the two galleries.
type GalleryKind string

// Galleries.
const (
	GallerySubjects   GalleryKind = "subjects"   // every enrolled subject
	GalleryWatchlists GalleryKind = "watchlists" // every entry of an active watchlist
)

// MaxTemplateIDs bounds the samples of one FindTemplates call.
const MaxTemplateIDs = 1000

// IdentityStore keeps what identification needs beyond Store: templates,
// watchlists and their entries, hits and their decisions, merges. Stores
// implement it beside Store. CreateEncounter also stores each sample's
// Template and the encounter's Identification with its hits, in its one
// transaction.
type IdentityStore interface {
	// ForEachTemplate calls fn with every template of the gallery, in no
	// particular order: for subjects with SubjectID set to the subject the
	// template now belongs to (merges resolved), for watchlists with
	// SubjectID set to the watch entry's ID.
	ForEachTemplate(ctx context.Context, kind GalleryKind, fn func(*Template) error) error
	// FindTemplates returns the stored templates of the samples with these
	// IDs, enrolled or of watch entries, in no particular order and
	// without SubjectID; a sample without a template is left out. EINVALID
	// for more than MaxTemplateIDs IDs.
	FindTemplates(ctx context.Context, sampleIDs []string) ([]*Template, error)

	// CreateWatchlist stores a new watchlist. EINVALID.
	CreateWatchlist(ctx context.Context, w *Watchlist) error
	// FindWatchlist returns the watchlist, or ENOTFOUND.
	FindWatchlist(ctx context.Context, id string) (*Watchlist, error)
	// ListWatchlists returns every watchlist, by name.
	ListWatchlists(ctx context.Context) ([]*Watchlist, error)
	// CreateWatchEntry stores an entry with its samples and their templates.
	// EINVALID; ENOTFOUND for an unknown watchlist.
	CreateWatchEntry(ctx context.Context, e *WatchEntry) error
	// FindWatchEntry returns the entry with its samples, or ENOTFOUND. A
	// removed entry is found too, with who removed it, when and why.
	FindWatchEntry(ctx context.Context, id string) (*WatchEntry, error)
	// ListWatchEntries returns a watchlist's entries, removed ones
	// included, oldest first, without their samples. ENOTFOUND for an
	// unknown watchlist.
	ListWatchEntries(ctx context.Context, watchlistID string) ([]*WatchEntry, error)
	// PageWatchEntries returns up to limit (0: 100, at most 1000) of a
	// watchlist's entries as ListWatchEntries orders them, those after the
	// key (created at, then ID) when it is not nil. ENOTFOUND for an
	// unknown watchlist, EINVALID for a negative limit.
	PageWatchEntries(ctx context.Context, watchlistID string, after *PageKey, limit int) ([]*WatchEntry, error)
	// RemoveWatchEntry takes an entry off its watchlist as the actor in
	// ctx, with a reason. The entry is kept, marked removed, and leaves the
	// watchlist gallery; in the same transaction its pending hits are
	// withdrawn (HitWithdrawn, with the remover and the reason) so that no
	// examiner acts on a withdrawn entry, and the removal is audited.
	// Later watchlist hits on a removed entry are stored withdrawn.
	// ENOTFOUND; ECONFLICT if it was removed already; EINVALID without a
	// reason.
	RemoveWatchEntry(ctx context.Context, id, reason string) error

	// CreateHits stores hits found outside an enrollment (the retro search
	// of a new watchlist entry). EINVALID.
	CreateHits(ctx context.Context, hits []*Hit) error
	// FindHit returns the hit, or ENOTFOUND.
	FindHit(ctx context.Context, id string) (*Hit, error)
	// ListHits returns the hits matching the filter, oldest first.
	ListHits(ctx context.Context, f HitFilter) ([]*Hit, error)
	// DecideHit confirms or rejects a pending hit as the actor in ctx, with
	// a reason, and in the same transaction acts on a confirmation: a
	// duplicate merges the probe's subject into the candidate's, a
	// watchlist hit is recorded for forwarding (ForwardStore's
	// ConfirmForForwarding) with its deliveries planned. ENOTFOUND;
	// ECONFLICT if the hit was already decided; EINVALID; EFORBIDDEN when
	// the examiner confirming is the one whose first confirmation it has.
	DecideHit(ctx context.Context, id string, state HitState, reason string) (*Hit, error)
	// RecordFirstConfirmation records the first of the two confirmations
	// the two-person rule asks for, by the actor in ctx; the hit stays
	// pending. ENOTFOUND; ECONFLICT if it was decided or first-confirmed
	// already; EINVALID without a reason.
	RecordFirstConfirmation(ctx context.Context, id string, reason string) (*Hit, error)
	// UnmergeSubject undoes the merge of a subject; history is kept.
	// ENOTFOUND if it is not merged.
	UnmergeSubject(ctx context.Context, id string) error
}

// Matcher is the 1:N search over every enrolled subject and watchlist
// entry, across modalities. Implemented by gallery.Gallery.
type Matcher interface {
	// Identify searches the probe's templates and returns the candidates
	// whose fused LLR reaches minLLR, best first, at most k.
	Identify(ctx context.Context, probe []*Template, k int, minLLR float64) ([]*Candidate, error)
}
