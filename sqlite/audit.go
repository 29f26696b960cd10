package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
)

// Limits of ListAuditEvents.
const (
	defaultAuditLimit = 1000
	maxAuditLimit     = 10000
)

// AppendAudit seals the event onto the end of the chain and stores it. An
// event without a Time gets the store's now. EINVALID without an action.
func (s *Store) AppendAudit(ctx context.Context, e *huella.AuditEvent) error {
	if e.Action == "" {
		return huella.Errorf(huella.EINVALID, "audit event action required")
	}
	now := s.now()
	return s.inWriteTx(ctx, func(tx *sql.Tx) error { return appendAudit(ctx, tx, e, now) })
}

// appendAudit seals e after the last stored event and inserts it, inside
// the caller's write transaction: the writer connection serialises every
// append, so the chain cannot fork.
func appendAudit(ctx context.Context, tx *sql.Tx, e *huella.AuditEvent, now time.Time) error {
	if e.Time.IsZero() {
		e.Time = now
	}
	var last *huella.AuditEvent
	var head huella.AuditEvent
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&head.Seq, &head.Hash)
	switch {
	case err == nil:
		last = &head
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: audit head: %w", err)
	}
	e.Seal(last)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, micros(e.Time), e.Actor, string(e.Role), e.Action, e.Object, e.Site, string(e.Purpose), e.Detail, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// ListAuditEvents returns up to limit events with Seq > after, in order
// (limit 0: 1000; at most 10000).
func (s *Store) ListAuditEvents(ctx context.Context, after int64, limit int) ([]*huella.AuditEvent, error) {
	switch {
	case limit < 0:
		return nil, huella.Errorf(huella.EINVALID, "limit must not be negative")
	case limit == 0:
		limit = defaultAuditLimit
	case limit > maxAuditLimit:
		limit = maxAuditLimit
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash
		FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", err)
	}
	defer rows.Close()
	events := []*huella.AuditEvent{}
	for rows.Next() {
		var e huella.AuditEvent
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Action, &e.Object, &e.Site, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("sqlite: audit events: %w", err)
		}
		e.Time = fromMicros(at)
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", err)
	}
	return events, nil
}
