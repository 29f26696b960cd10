package huella

import (
	"context"
	"time"
)

// ActionEncounterCentral is the audit action of a site node recording the
// center's identification of one of its encounters.
const ActionEncounterCentral = "encounter.central"

// Central identification states of an encounter enrolled at a site node.
const (
	CentralPending    = "pending"    // in the site outbox, not yet identified by the center
	CentralIdentified = "identified" // the center enrolled it and sent its decision back
)

// CentralIdentification is what a site node knows of the center's
// identification of one of its encounters: pending until the center has
// enrolled it against the national gallery, then the center's decision.
// Encounters of a node that is not a site carry none.
type CentralIdentification struct {
	State string `json:"state"` // CentralPending or CentralIdentified
	// Decision, SubjectID and EncounterID are the center's: its decision,
	// the subject it linked or created and the encounter's ID there.
	Decision     Decision  `json:"decision,omitempty"`
	SubjectID    string    `json:"subject_id,omitempty"`
	EncounterID  string    `json:"encounter_id,omitempty"`
	Hits         int       `json:"hits,omitempty"` // hits the center raised, pending its examiners
	IdentifiedAt time.Time `json:"identified_at,omitzero"`
}

// UpstreamItem is one encounter in a site node's outbox: Seq orders the
// outbox (a sequence, not a clock, so that skew reorders nothing).
type UpstreamItem struct {
	Seq         int64
	EncounterID string
	Attempts    int
}

// Kinds of downstream items.
const (
	// DownstreamPurge asks a site to purge its copy of an encounter the
	// center purged.
	DownstreamPurge = "purge"
	// DownstreamCentral tells a site that the center's identification of
	// one of its encounters changed after the first answer: an examiner
	// decided one of its hits, or its subject was merged or unmerged. The
	// item carries the center's identification as it stands when read.
	DownstreamCentral = "central"
)

// DownstreamItem is one thing the center asks a site to do to its copies,
// in the center's sequence order.
type DownstreamItem struct {
	Seq         int64       `json:"seq"`
	Kind        string      `json:"kind"`         // DownstreamPurge or DownstreamCentral
	EncounterID string      `json:"encounter_id"` // the encounter's ID at the site
	Reason      PurgeReason `json:"reason,omitempty"`
	// Central is, for DownstreamCentral, the center's identification now;
	// nil when the center no longer holds the encounter.
	Central *CentralIdentification `json:"central,omitempty"`
}

// WatchChange is one change to the center's watchlists that every site
// replicates, in the center's gallery event order (Seq), so that a site
// raises watchlist hits while its link is down. A site holds templates
// only: an added entry carries its watchlist, its reference and its
// samples' templates, never the owner's biographic record or images.
type WatchChange struct {
	Seq int64     `json:"seq"`
	Op  GalleryOp `json:"op"` // GalleryWatchAdd or GalleryWatchRemove
	// EntryID is the watch entry's ID at the center, kept at the site.
	EntryID string `json:"entry_id"`
	// Watchlist and Entry are set for an addition: the entry's samples
	// (IDs as at the center, no image) with their Template.
	Watchlist *Watchlist  `json:"watchlist,omitempty"`
	Entry     *WatchEntry `json:"entry,omitempty"`
}

// SiteOutboxStore is a site node's queue of encounters for the center,
// written in each encounter's own transaction so that nothing enrolled is
// left out and nothing is queued that was rolled back.
type SiteOutboxStore interface {
	// KeepSiteOutbox makes every encounter created from now on enter the
	// outbox in its transaction, and encounters read carry their Central
	// state. A site node calls it right after opening the store.
	KeepSiteOutbox()
	// PendingUpstream returns up to limit encounters the center has not
	// identified yet with Seq > after, in Seq order.
	PendingUpstream(ctx context.Context, after int64, limit int) ([]UpstreamItem, error)
	// FailedUpstream counts a failed attempt to send the encounter.
	// Bookkeeping, not audited. An encounter not in the outbox is ignored.
	FailedUpstream(ctx context.Context, encounterID string) error
	// SetCentral records the center's identification of the encounter
	// and audits it (ActionEncounterCentral). Recording it again changes
	// nothing. ENOTFOUND if the encounter is not in the outbox.
	SetCentral(ctx context.Context, encounterID string, c *CentralIdentification) error
	// UpstreamBacklog counts the encounters waiting for the center and
	// returns when the oldest of them was queued (zero when none).
	UpstreamBacklog(ctx context.Context) (n int, oldest time.Time, err error)

	// SiteDownstream returns, at the center, up to limit items for the
	// site with Seq > after, in Seq order. A purge of an encounter a site
	// sent writes one in the purge's transaction.
	SiteDownstream(ctx context.Context, site string, after int64, limit int) ([]DownstreamItem, error)
	// DownstreamCursor returns, at a site, the Seq of the last downstream
	// item applied (0: none); SetDownstreamCursor moves it. Bookkeeping,
	// not audited: each item's own change is.
	DownstreamCursor(ctx context.Context) (int64, error)
	SetDownstreamCursor(ctx context.Context, seq int64) error
	// UpdateCentral records, at a site, the center's identification of
	// one of its encounters again, after an examiner's decision or a
	// merge at the center, and audits it (ActionEncounterCentral). The
	// same identification again changes nothing. ENOTFOUND if the
	// encounter is not in the outbox; EINVALID if it is not identified.
	UpdateCentral(ctx context.Context, encounterID string, c *CentralIdentification) error

	// WatchChanges returns, at the center, up to limit (at most
	// MaxGalleryEvents) watchlist changes with Seq > after, in order. An
	// addition of an entry removed since is left out (its removal
	// follows). EINVALID for a limit out of range.
	WatchChanges(ctx context.Context, after int64, limit int) ([]*WatchChange, error)
	// ReplicateWatchEntry stores, at a site, the center's watch entry
	// with the center's IDs, its watchlist first if the site has not got
	// it, the samples' templates sealed, and the gallery event that puts
	// it in the watchlist gallery, audited as a watch entry's creation.
	// An entry the site holds already changes nothing. EINVALID.
	ReplicateWatchEntry(ctx context.Context, list *Watchlist, e *WatchEntry) error
	// WatchCursor returns, at a site, the Seq of the last watchlist
	// change applied (0: none); SetWatchCursor moves it. Bookkeeping.
	WatchCursor(ctx context.Context) (int64, error)
	SetWatchCursor(ctx context.Context, seq int64) error
}
