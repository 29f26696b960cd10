package huella

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// ActionSubjectPurge is the audit action of a purge. Its event names the
// subject, the reason's category and what was erased, by count: never a
// name or any other personal value.
const ActionSubjectPurge = "subject.purge"

// PurgeReason is why a subject's records are erased. It is a category, not
// free text, so that the audit event that outlives the records can say why
// without carrying anything personal.
type PurgeReason string

// Purge reasons.
const (
	PurgeCourtOrder      PurgeReason = "court-order"             // a court or tribunal ordered the erasure
	PurgeDataProtection  PurgeReason = "data-protection-request" // the person exercised a right to erasure
	PurgeEnrollmentError PurgeReason = "enrollment-error"        // the record should never have been made
	PurgeRetention       PurgeReason = "retention"               // the retention period ended (huella purge --older-than)
)

// PurgeReasons lists every purge reason.
var PurgeReasons = []PurgeReason{PurgeCourtOrder, PurgeDataProtection, PurgeEnrollmentError, PurgeRetention}

// Validate reports a missing or unknown reason, as an EINVALID error.
func (r PurgeReason) Validate() error {
	if r == "" {
		return Errorf(EINVALID, "a purge needs a reason: one of court-order, data-protection-request, enrollment-error, retention")
	}
	if !slices.Contains(PurgeReasons, r) {
		return Errorf(EINVALID, "unknown purge reason: use court-order, data-protection-request, enrollment-error or retention")
	}
	return nil
}

// Purge is what a purge erased. The counts are those of the audit event;
// Subjects and Blobs tell the caller what to drop outside the store.
type Purge struct {
	SubjectID string      `json:"subject_id"`
	Reason    PurgeReason `json:"reason"`
	// Subjects are the IDs erased: the subject and those merged into it.
	// The running galleries drop each of them.
	Subjects    []string `json:"subjects"`
	Encounters  int      `json:"encounters"`
	Samples     int      `json:"samples"`
	Templates   int      `json:"templates"`
	SMTs        int      `json:"smts"`
	Hits        int      `json:"hits"`         // hits about the subjects, deleted
	PendingHits int      `json:"pending_hits"` // of which were still in the examiners' queue
	// Deliveries counts the undelivered deliveries about the subjects,
	// parked as dead: a purged record is not sent. Delivery rows keep
	// their bookkeeping (partner, state, attempts) and hold no personal data.
	Deliveries int `json:"deliveries_parked"`
	// Blobs are the references of the images and original transactions
	// no remaining record names, to delete once the store has committed.
	Blobs []string `json:"-"`
}

// AuditDetail is the Detail of the purge's audit event: the reason and
// the counts, nothing personal.
func (p *Purge) AuditDetail() string {
	return fmt.Sprintf("reason=%s subjects=%d encounters=%d samples=%d templates=%d smts=%d hits=%d pending_hits=%d deliveries_parked=%d blobs=%d",
		p.Reason, len(p.Subjects), p.Encounters, p.Samples, p.Templates, p.SMTs, p.Hits, p.PendingHits, p.Deliveries, len(p.Blobs))
}

// Expired is the outcome of a retention search: the subjects whose last
// encounter was captured before the cut-off, and how many such subjects
// are held back.
type Expired struct {
	Subjects []string `json:"subjects"` // to purge, oldest last encounter first
	// HeldPendingHit counts subjects with a hit still in the examiners'
	// queue (as the probe or as the candidate): a decision is owed first.
	HeldPendingHit int `json:"held_pending_hit"`
	// HeldConviction counts subjects with a declared conviction at any
	// encounter: criminal-record retention is set by other law, so they
	// are purged only on order, one by one.
	HeldConviction int `json:"held_conviction"`
}

// PurgeStore erases people's records, as privacy law and the program's
// retention rules ask. sqlite.Store and postgres.Store implement it beside
// Store; like ForwardStore it is separate so that stores grow it without
// breaking Store's other implementations.
type PurgeStore interface {
	// PurgeSubject erases the subject and every subject merged into it, in
	// one transaction: their encounters with biographics, samples,
	// templates, SMTs, finger absences, identifications and name-search
	// index rows; the hits about them (pending ones leave the examiners'
	// queue); the confirmations that forwarded them. Undelivered
	// deliveries about them are parked dead; delivery rows and the audit
	// trail are kept, and one ActionSubjectPurge event is appended. The
	// returned Purge lists the blobs no record names any more. EINVALID
	// for a missing or unknown reason; ENOTFOUND for an unknown subject;
	// ECONFLICT for a subject merged into another (purge that one, or
	// unmerge first).
	PurgeSubject(ctx context.Context, id string, reason PurgeReason) (*Purge, error)
	// ExpiredSubjects returns the subjects (merged ones counting with the
	// subject they were merged into) whose last encounter was captured
	// before before, less those held: with a pending hit, or with a
	// declared conviction.
	ExpiredSubjects(ctx context.Context, before time.Time) (*Expired, error)
	// ForEachBlobRef calls fn with every blob reference a record holds:
	// sample images, watchlist entry images and original transactions.
	// A reference may come more than once.
	ForEachBlobRef(ctx context.Context, fn func(ref string) error) error
}
