package huella

import (
	"context"
	"crypto/sha256"
	"time"
)

// Session is a browser signed in to the console. It lives in the store, not
// in an API node's memory, so that any node serves any request and a node's
// restart signs no one out. The store keeps the hash of the session's ID
// (SessionIDHash), never the ID the browser's cookie carries.
type Session struct {
	// ID is the secret the browser holds; CreateSession stores its hash.
	ID string
	// UserID is the user signed in. TokenHash is the hash of the token
	// signed in with (nil for single sign-on): the user is looked up by it
	// again on every request, so that a rotated token ends the session.
	UserID    string
	TokenHash []byte
	// CSRF is the token the session's forms carry.
	CSRF string
	// Private holds what the console keeps for the session and only it
	// reads (the provider's ID token, the last enrollment's outcome),
	// sealed by the console with a key made from ID, so the store holds
	// nothing it could open. Nil when empty.
	Private []byte
	// StartedAt is the sign-in, SeenAt the last request (to within the
	// console's touch interval).
	StartedAt, SeenAt time.Time
}

// SessionIDHash is what a store keeps and looks up in place of a session's
// ID: its SHA-256.
func SessionIDHash(id string) []byte {
	h := sha256.Sum256([]byte("huella session\x00" + id))
	return h[:]
}

// SessionStore keeps the console's sessions and the counters of the rate
// limits, so that API nodes share them.
type SessionStore interface {
	// CreateSession stores a new session (ID, UserID, CSRF, StartedAt
	// and SeenAt set), and first removes every session seen before
	// idleBefore or started before startedBefore. EINVALID without an ID,
	// user or CSRF token.
	CreateSession(ctx context.Context, s *Session, idleBefore, startedBefore time.Time) error
	// FindSession returns the session with the ID, or ENOTFOUND. The
	// caller decides whether it has expired.
	FindSession(ctx context.Context, id string) (*Session, error)
	// TouchSession records a request of the session at the time, and
	// replaces its Private data when private is not nil (an empty slice
	// clears it). A session gone is ENOTFOUND.
	TouchSession(ctx context.Context, id string, at time.Time, private []byte) error
	// DeleteSession ends the session; ending one that is gone is not an
	// error.
	DeleteSession(ctx context.Context, id string) error
	// CountAttempt adds one to the counter named key in the fixed window
	// of the length that holds now, and returns the count in that window
	// (1 for the first). Stores keep a hash of key, not key.
	CountAttempt(ctx context.Context, key string, window time.Duration) (int, error)
	// Attempts returns the counter named key in the window that holds now,
	// without adding to it.
	Attempts(ctx context.Context, key string, window time.Duration) (int, error)
}
