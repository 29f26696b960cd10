package sqlstore

import (
	"context"
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
	return s.db.InWriteTx(ctx, func(tx Tx) error { return AppendAudit(ctx, s.d, tx, e, now) })
}

// AppendAudit seals e after the chain's head and inserts it, inside the
// caller's write transaction. The dialect's LockAuditHead serialises
// appends until the transaction ends, so the chain cannot fork; callers
// append last, just before commit, to hold the lock briefly.
func AppendAudit(ctx context.Context, d Dialect, tx Tx, e *huella.AuditEvent, now time.Time) error {
	if e.Time.IsZero() {
		e.Time = now
	}
	seq, hash, err := d.LockAuditHead(ctx, tx)
	if err != nil {
		return fmt.Errorf("%s: audit head: %w", d.Name(), err)
	}
	var last *huella.AuditEvent
	if seq > 0 {
		last = &huella.AuditEvent{Seq: seq, Hash: hash}
	}
	e.Seal(last)
	batch := append([]Statement{{
		Query: `INSERT INTO audit_events (seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{e.Seq, d.Time(e.Time), e.Actor, string(e.Role), e.Action, e.Object, e.Site, string(e.Purpose), e.Detail, e.PrevHash, e.Hash},
	}}, d.MoveAuditHead(e)...)
	if err := tx.ExecBatch(ctx, batch); err != nil {
		return fmt.Errorf("%s: append audit: %w", d.Name(), err)
	}
	return nil
}

// appendAudit is AppendAudit in the store's dialect.
func (s *Store) appendAudit(ctx context.Context, tx Tx, e *huella.AuditEvent, now time.Time) error {
	return AppendAudit(ctx, s.d, tx, e, now)
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
	rows, err := s.db.Read().Query(ctx, `SELECT seq, time, actor, role, action, object, site, purpose, detail, prev_hash, hash
		FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, s.errorf("audit events", err)
	}
	defer rows.Close()
	events := []*huella.AuditEvent{}
	for rows.Next() {
		var e huella.AuditEvent
		if err := rows.Scan(&e.Seq, s.d.ScanTime(&e.Time, false), &e.Actor, &e.Role, &e.Action, &e.Object, &e.Site, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, s.errorf("audit events", err)
		}
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("audit events", err)
	}
	return events, nil
}
