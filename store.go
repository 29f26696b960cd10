package huella

import (
	"context"
	"io"
	"time"
)

// Store keeps Huella's records. Every method that changes something also
// appends its audit event (built with NewAuditEvent from ctx) in the same
// transaction, so that no change goes unaudited and no audit event tells of
// a change that was rolled back. Implementations: sqlite.Store (the
// default) and postgres.Store, held to one contract suite (storetest).
type Store interface {
	// CreateSite stores a new site. EINVALID if it does not validate,
	// ECONFLICT if the code is taken.
	CreateSite(ctx context.Context, s *Site) error
	// FindSite returns the site with the code, or ENOTFOUND.
	FindSite(ctx context.Context, code string) (*Site, error)
	// ListSites returns every site, by code.
	ListSites(ctx context.Context) ([]*Site, error)

	// CreateUser stores a new user and sets its ID and CreatedAt; a token
	// not issued yet (zero TokenIssuedAt) is issued now for
	// DefaultTokenLifetime. EINVALID, ECONFLICT if the name is taken; an
	// unknown site is EINVALID.
	CreateUser(ctx context.Context, u *User) error
	// FindUser returns the user with the ID, or ENOTFOUND.
	FindUser(ctx context.Context, id string) (*User, error)
	// FindUserByTokenHash returns the enabled user whose token hashes to
	// hash, or EUNAUTHORIZED; the caller checks the token's expiry. It is
	// not audited: it is authentication.
	FindUserByTokenHash(ctx context.Context, hash []byte) (*User, error)
	// ListUsers returns every user, by name.
	ListUsers(ctx context.Context) ([]*User, error)
	// SetUserDisabled disables or re-enables the user, and returns it.
	// A disabled user's token stops working at once. ENOTFOUND.
	SetUserDisabled(ctx context.Context, id string, disabled bool) (*User, error)
	// RotateToken gives the user the token hash, valid until expiresAt,
	// and returns it; the old token stops working at once. ENOTFOUND,
	// ECONFLICT if the hash is taken, EINVALID if expiresAt is not ahead.
	RotateToken(ctx context.Context, id string, hash []byte, expiresAt time.Time) (*User, error)
	// SignOnUser returns the user who stands for the single sign-on account
	// u.Identity, with the sign-on audited (ActionUserSignOn, by that user):
	// at the account's first sign-on the user is created from u (as
	// CreateUser does); later it gets u's role and sites when they differ
	// (ActionUserUpdate), keeping its name. A disabled user is returned as
	// it is, nothing written: the caller refuses it. EINVALID (an unknown
	// site too), ECONFLICT if the name is another user's.
	SignOnUser(ctx context.Context, u *User) (*User, error)
	// RecordTokenUse records that the user's token was used at the time.
	// Bookkeeping, not audited; an unknown user is ignored.
	RecordTokenUse(ctx context.Context, id string, at time.Time) error

	// CreateEncounter stores the encounter with its samples and SMTs in one
	// transaction, creating a new subject when SubjectID is empty, and sets
	// every ID and CreatedAt. With Idempotency set, the key is stored with
	// the encounter, unique per officer. EINVALID if it does not validate
	// or names an unknown site; ENOTFOUND if SubjectID names no subject;
	// ECONFLICT if the officer used the idempotency key before.
	CreateEncounter(ctx context.Context, e *Encounter) error
	// FindEncounterByIdempotencyKey returns the encounter the officer
	// created with the idempotency key, as FindEncounter does and with its
	// Idempotency set, or ENOTFOUND. It is not audited: the caller
	// answers a retry of its own request with it.
	FindEncounterByIdempotencyKey(ctx context.Context, officer, key string) (*Encounter, error)
	// FindEncounter returns the encounter with its samples and SMTs, or ENOTFOUND.
	FindEncounter(ctx context.Context, id string) (*Encounter, error)
	// ListEncounters returns the encounters matching the filter, newest
	// first, with their samples and SMTs.
	ListEncounters(ctx context.Context, f EncounterFilter) ([]*Encounter, error)
	// FindSubject returns the subject with its encounters, oldest first, or ENOTFOUND.
	FindSubject(ctx context.Context, id string) (*Subject, error)
	// FindSample returns the sample and the encounter it belongs to (without
	// its samples), or ENOTFOUND.
	FindSample(ctx context.Context, id string) (*Sample, *Encounter, error)
	// EncounterStats counts the encounters matching the filter by site, by
	// nationality and by month of capture.
	EncounterStats(ctx context.Context, f EncounterFilter) (*EncounterStats, error)

	// AppendAudit seals the event onto the end of the chain and stores it.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAuditEvents returns up to limit events with Seq > after, in order.
	ListAuditEvents(ctx context.Context, after int64, limit int) ([]*AuditEvent, error)

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// EncounterFilter selects encounters. Zero fields do not filter.
type EncounterFilter struct {
	Sites     []string  // any of these sites (nil: every site)
	SubjectID string    // of this subject
	From, To  time.Time // captured at From or later, and before To
	// Name selects encounters with a name (given or alias) in which every
	// word of Name begins a word, ignoring case and accents (NameWords).
	Name string
	// Document selects encounters with a document whose number has this
	// DocumentKey.
	Document string
	Limit    int // at most this many (0: a default of 100, at most 1000)
	Offset   int
	// After, when set, starts the page after this encounter in the list's
	// order (captured at, then ID, newest first): a cursor that holds
	// while encounters are added or purged.
	After *PageKey
}

// PageKey marks where a page of a list ordered by a time and then by ID
// ended: the next page holds the items that come after it in the list's
// order. Unlike an offset it stays right while items are added to the
// list or leave it (a hit decided, a delivery delivered).
type PageKey struct {
	At time.Time // the sort time of the page's last item
	ID string    // the ID of the page's last item
}

// Validate reports a filter the stores refuse, as an EINVALID error.
func (f *EncounterFilter) Validate() error {
	words := len(NameWords(f.Name))
	switch {
	case f.Limit < 0:
		return Errorf(EINVALID, "limit must not be negative")
	case f.Offset < 0:
		return Errorf(EINVALID, "offset must not be negative")
	case !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From):
		return Errorf(EINVALID, "to is before from")
	case f.Name != "" && words == 0:
		return Errorf(EINVALID, "name must hold a letter or a digit")
	case words > MaxNameWords:
		return Errorf(EINVALID, "name must have at most %d words", MaxNameWords)
	case f.Document != "" && DocumentKey(f.Document) == "":
		return Errorf(EINVALID, "document must hold a letter or a digit")
	}
	return nil
}

// EncounterStats counts encounters along three dimensions.
type EncounterStats struct {
	Total         int            `json:"total"`
	BySite        map[string]int `json:"by_site"`
	ByNationality map[string]int `json:"by_nationality"` // "" for unknown
	ByMonth       map[string]int `json:"by_month"`       // "2026-11", in UTC
}

// BlobStore keeps sample images and original transactions, encrypted at
// rest. Blobs are content-addressed: the reference is a keyed hash of the
// plaintext, so equal images are stored once and references reveal nothing
// without the key. Implementations: blob.FileStore (the default).
type BlobStore interface {
	// Put stores data durably (synced to disk before it returns) and returns
	// its reference. ETOOLARGE over the store's limit.
	Put(ctx context.Context, data []byte) (ref string, err error)
	// PutAll stores several blobs durably, as one unit of syncing: all are
	// on disk when it returns. ETOOLARGE over the store's limit.
	PutAll(ctx context.Context, blobs [][]byte) (refs []string, err error)
	// Get returns the plaintext of the blob, or ENOTFOUND. A blob whose
	// ciphertext fails authentication is EINTERNAL, never returned.
	Get(ctx context.Context, ref string) ([]byte, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, ref string) error
	io.Closer
}

// Database is the whole of what a store keeps: records, identification,
// forwarding, retention and the keys that seal them. sqlite.Store and postgres.Store implement it;
// cmd/huella opens one and hands it to the services and adapters, each of
// which declares the narrow part it uses (enroll.Store, adjudicate.Store),
// so that no code asks a store at run time what it can do.
type Database interface {
	Store
	IdentityStore
	ForwardStore
	PurgeStore
	KeyStore
	Reencrypter
	SiteOutboxStore
	SessionStore
	GalleryEventStore
	ResearchQueue
	// SealWith makes the store seal its personal fields with c and search
	// by c's tokens. The application calls it right after opening the
	// store (whose keys c unwraps), before any other call.
	SealWith(c FieldCipher)
}
