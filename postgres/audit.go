package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
	"github.com/jackc/pgx/v5"
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
	return s.inTx(ctx, func(tx pgx.Tx) error { return appendAudit(ctx, tx, e, now) })
}

// appendAudit seals e after the chain's head and inserts it, inside the
// caller's transaction. Locking the head row serialises appends until the
// transaction ends, so the chain cannot fork; callers append last, just
// before commit, to hold the lock briefly.
func appendAudit(ctx context.Context, tx pgx.Tx, e *huella.AuditEvent, now time.Time) error {
	if e.Time.IsZero() {
		e.Time = now
	}
	var head huella.AuditEvent
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
		return fmt.Errorf("postgres: audit head: %w", err)
	}
	var last *huella.AuditEvent
	if head.Seq > 0 {
		last = &head
	}
	e.Seal(last)
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO audit_events (seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.Time, e.Actor, string(e.Role), e.Action, e.Object, e.Site, string(e.Purpose), e.Detail, e.PrevHash, e.Hash)
	batch.Queue(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, e.Seq, e.Hash)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
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
	rows, err := s.pool.Query(ctx, `SELECT seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash
		FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.AuditEvent, error) {
		var e huella.AuditEvent
		err := row.Scan(&e.Seq, &e.Time, &e.Actor, &e.Role, &e.Action, &e.Object, &e.Site, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash)
		e.Time = e.Time.UTC()
		return &e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit events: %w", err)
	}
	return events, nil
}
