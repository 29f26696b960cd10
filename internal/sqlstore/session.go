package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"time"

	"github.com/huella-abis/huella"
)

// maxRateWindow is the longest window CountAttempt is given: counters whose
// window began longer ago are swept.
const maxRateWindow = 24 * time.Hour

// SessionSweep deletes the expired sessions: those idle since before its
// first argument or started before its second. Migration 19 indexes both
// times, so it reads only the rows it deletes.
const SessionSweep = `DELETE FROM console_sessions WHERE seen_at < ? OR started_at < ?`

// CreateSession stores a new session, after sweeping the expired ones.
func (s *Store) CreateSession(ctx context.Context, sess *huella.Session, idleBefore, startedBefore time.Time) error {
	if sess.ID == "" || sess.UserID == "" || sess.CSRF == "" {
		return huella.Errorf(huella.EINVALID, "a session needs an ID, a user and a CSRF token")
	}
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		return tx.ExecBatch(ctx, []Statement{
			{Query: SessionSweep,
				Args: []any{s.d.Time(idleBefore), s.d.Time(startedBefore)}},
			{Query: `INSERT INTO console_sessions (id_hash, user_id, token_hash, csrf, private, started_at, seen_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				Args: []any{huella.SessionIDHash(sess.ID), sess.UserID, nilIfEmpty(sess.TokenHash), sess.CSRF,
					nilIfEmpty(sess.Private), s.d.Time(sess.StartedAt), s.d.Time(sess.SeenAt)}},
		})
	})
}

// FindSession returns the session with the ID, or ENOTFOUND.
func (s *Store) FindSession(ctx context.Context, id string) (*huella.Session, error) {
	sess := &huella.Session{ID: id}
	err := s.db.Read().QueryRow(ctx, `SELECT user_id, token_hash, csrf, private, started_at, seen_at
		FROM console_sessions WHERE id_hash = ?`, huella.SessionIDHash(id)).Scan(&sess.UserID, &sess.TokenHash,
		&sess.CSRF, &sess.Private, s.d.ScanTime(&sess.StartedAt, false), s.d.ScanTime(&sess.SeenAt, false))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, s.errorf("find session", err)
	}
	sess.TokenHash, sess.Private = nilIfEmpty(sess.TokenHash), nilIfEmpty(sess.Private)
	return sess, nil
}

// TouchSession records a request of the session, and replaces its private
// data when private is not nil.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time, private []byte) error {
	query, args := `UPDATE console_sessions SET seen_at = ? WHERE id_hash = ?`, []any{s.d.Time(at), huella.SessionIDHash(id)}
	if private != nil {
		query = `UPDATE console_sessions SET seen_at = ?, private = ? WHERE id_hash = ?`
		args = []any{s.d.Time(at), nilIfEmpty(private), huella.SessionIDHash(id)}
	}
	n, err := s.db.Write().Exec(ctx, query, args...)
	if err != nil {
		return s.errorf("touch session", err)
	}
	if n == 0 {
		return huella.Errorf(huella.ENOTFOUND, "no such session")
	}
	return nil
}

// DeleteSession ends the session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.Write().Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, huella.SessionIDHash(id)); err != nil {
		return s.errorf("delete session", err)
	}
	return nil
}

// CountAttempt adds one to the counter in the window that holds now and
// returns it. The first count of a window also sweeps the counters of
// windows long past.
func (s *Store) CountAttempt(ctx context.Context, key string, window time.Duration) (int, error) {
	if window <= 0 || window > maxRateWindow {
		return 0, huella.Errorf(huella.EINVALID, "a rate window must be positive and at most %v", maxRateWindow)
	}
	now := s.now()
	start := now.Truncate(window)
	var n int
	err := s.db.Write().QueryRow(ctx, `INSERT INTO rate_limits (key_hash, window_start, n) VALUES (?, ?, 1)
		ON CONFLICT (key_hash) DO UPDATE SET
			n = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.n + 1 ELSE 1 END,
			window_start = excluded.window_start
		RETURNING n`, rateKey(key), s.d.Time(start)).Scan(&n)
	if err != nil {
		return 0, s.errorf("count attempt", err)
	}
	if n == 1 {
		if _, err := s.db.Write().Exec(ctx, `DELETE FROM rate_limits WHERE window_start < ?`, s.d.Time(now.Add(-maxRateWindow))); err != nil {
			return 0, s.errorf("sweep rate limits", err)
		}
	}
	return n, nil
}

// Attempts returns the counter in the window that holds now.
func (s *Store) Attempts(ctx context.Context, key string, window time.Duration) (int, error) {
	if window <= 0 || window > maxRateWindow {
		return 0, huella.Errorf(huella.EINVALID, "a rate window must be positive and at most %v", maxRateWindow)
	}
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT n FROM rate_limits WHERE key_hash = ? AND window_start = ?`,
		rateKey(key), s.d.Time(s.now().Truncate(window))).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, s.errorf("attempts", err)
	}
	return n, nil
}

// rateKey is what a rate limit's counter is stored under: the hash of its
// name, which may hold a client's address.
func rateKey(key string) []byte {
	h := sha256.Sum256([]byte("huella rate\x00" + key))
	return h[:]
}
