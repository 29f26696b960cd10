package huella

import (
	"context"
	"time"
)

// GalleryOp names what a GalleryEvent changed.
type GalleryOp string

// Gallery changes. The subject ones name subjects by the ID the subject
// gallery holds them under (merges resolved); the watchlist ones name the
// watch entry.
const (
	// GalleryEnroll: an encounter's templates (SampleIDs) were added to
	// Subject.
	GalleryEnroll GalleryOp = "enroll"
	// GalleryMerge: Subject was merged into Other.
	GalleryMerge GalleryOp = "merge"
	// GalleryUnmerge: Subject, merged into Other, was separated again.
	GalleryUnmerge GalleryOp = "unmerge"
	// GalleryPurge: Subjects (a subject and those merged into it) were
	// erased.
	GalleryPurge GalleryOp = "purge"
	// GalleryWatchAdd: a watch entry with the templates of SampleIDs was
	// put on a watchlist.
	GalleryWatchAdd GalleryOp = "watch-add"
	// GalleryWatchRemove: a watch entry was taken off its watchlist.
	GalleryWatchRemove GalleryOp = "watch-remove"
)

// GalleryEvent is one change to the galleries, written by the store in the
// transaction that makes the change (an outbox), numbered in commit order
// without gaps from 1. It carries IDs only: templates are read from the
// store by sample ID, and no biographic field is ever part of one.
type GalleryEvent struct {
	Seq          int64     `json:"seq"`
	Op           GalleryOp `json:"op"`
	Subject      string    `json:"subject,omitempty"`
	Other        string    `json:"other,omitempty"`
	Subjects     []string  `json:"subjects,omitempty"`
	EncounterID  string    `json:"encounter_id,omitempty"`
	WatchEntryID string    `json:"watch_entry_id,omitempty"`
	SampleIDs    []string  `json:"sample_ids,omitempty"`
	At           time.Time `json:"at"`
}

// MaxGalleryEvents bounds the events of one GalleryEvents call.
const MaxGalleryEvents = 1000

// GalleryEventStore is the outbox of gallery changes and what their
// consumers read besides: every store method that changes a gallery
// (CreateEncounter with templates, DecideHit merging, UnmergeSubject,
// PurgeSubject, CreateWatchEntry, RemoveWatchEntry) appends its
// GalleryEvent in its own transaction. sqlite.Store and postgres.Store
// implement it.
type GalleryEventStore interface {
	// GalleryEvents returns up to limit (at most MaxGalleryEvents) events
	// with Seq > after, in order. EINVALID for a limit out of range.
	GalleryEvents(ctx context.Context, after int64, limit int) ([]*GalleryEvent, error)
	// GalleryEventHead returns the Seq of the last committed event (0:
	// none). A gallery loaded after reading it holds every change up to it.
	GalleryEventHead(ctx context.Context) (int64, error)
	// GalleryEventsSent returns the Seq up to which the relay published
	// the events.
	GalleryEventsSent(ctx context.Context) (int64, error)
	// MarkGalleryEventsSent records that the events up to seq were
	// published; a lower seq than recorded changes nothing.
	MarkGalleryEventsSent(ctx context.Context, seq int64) error
	// PruneGalleryEvents deletes the events with a Seq of upTo or less
	// created before before, and returns how many: the outbox keeps only
	// what a follower may still need (the head and the relay's mark are
	// kept).
	PruneGalleryEvents(ctx context.Context, before time.Time, upTo int64) (int64, error)
	// SubjectTemplates returns the templates of every encounter of the
	// subjects these IDs now stand for (the subject each was merged into,
	// or itself), later captures last, SubjectID set as ForEachTemplate
	// sets it. A purged subject has none. EINVALID for more than
	// MaxTemplateIDs IDs.
	SubjectTemplates(ctx context.Context, subjectIDs []string) ([]*Template, error)
}

// QueuedResearch is an enrollment whose search was partial, waiting in
// the store for its complete search. CreateEncounter queues it in its
// transaction; a purge of its subject drops it.
type QueuedResearch struct {
	EncounterID string
	SubjectID   string
	SampleIDs   []string // the samples with a template: the probe
	// Known are the candidates the partial search raised duplicate hits
	// on: the complete search does not raise them again.
	Known    []string
	QueuedAt time.Time
}

// ResearchQueue is the store's queue of partial searches (match.Researcher),
// so that they outlive the API node that made them.
type ResearchQueue interface {
	// QueuedResearches returns up to limit queued searches, oldest first.
	QueuedResearches(ctx context.Context, limit int) ([]*QueuedResearch, error)
	// CountQueuedResearches returns how many searches are queued.
	CountQueuedResearches(ctx context.Context) (int, error)
	// ResearchDone takes the encounter's search off the queue; one not
	// queued is not an error.
	ResearchDone(ctx context.Context, encounterID string) error
	// CompleteResearch takes the encounter's search off the queue and
	// stores the hits its complete search raised (as CreateHits does), in
	// one transaction. ECONFLICT if it is no longer queued (another node
	// completed it: nothing is stored); EINVALID for a hit on an unknown
	// encounter.
	CompleteResearch(ctx context.Context, encounterID string, hits []*Hit) error
}
