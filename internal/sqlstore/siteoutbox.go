package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/huella-abis/huella"
)

// KeepSiteOutbox makes CreateEncounter queue every encounter in
// site_outbox and reads fill Central (huella.SiteOutboxStore).
func (s *Store) KeepSiteOutbox() { s.siteOutbox = true }

// PendingUpstream returns up to limit encounters still pending at the
// center with seq > after, in seq order.
func (s *Store) PendingUpstream(ctx context.Context, after int64, limit int) ([]huella.UpstreamItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.Read().Query(ctx, `SELECT seq, encounter_id, attempts FROM site_outbox
		WHERE central_state = ? AND seq > ? ORDER BY seq LIMIT ?`, huella.CentralPending, after, limit)
	if err != nil {
		return nil, s.errorf("site outbox", err)
	}
	defer rows.Close()
	var list []huella.UpstreamItem
	for rows.Next() {
		var it huella.UpstreamItem
		if err := rows.Scan(&it.Seq, &it.EncounterID, &it.Attempts); err != nil {
			return nil, s.errorf("site outbox", err)
		}
		list = append(list, it)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("site outbox", err)
	}
	return list, nil
}

// FailedUpstream counts a failed attempt to send the encounter.
func (s *Store) FailedUpstream(ctx context.Context, encounterID string) error {
	if _, err := s.db.Write().Exec(ctx, `UPDATE site_outbox SET attempts = attempts + 1 WHERE encounter_id = ?`, encounterID); err != nil {
		return s.errorf("site outbox attempt", err)
	}
	return nil
}

// SetCentral records the center's identification of the encounter, with
// its audit event, once: a second answer for an encounter already
// identified changes nothing.
func (s *Store) SetCentral(ctx context.Context, encounterID string, c *huella.CentralIdentification) error {
	if c == nil || c.State != huella.CentralIdentified {
		return huella.Errorf(huella.EINVALID, "a central identification must be in state %s", huella.CentralIdentified)
	}
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		var state, site string
		err := tx.QueryRow(ctx, `SELECT o.central_state, e.site_code FROM site_outbox o JOIN encounters e ON e.id = o.encounter_id
			WHERE o.encounter_id = ?`+s.d.Lock("UPDATE"), encounterID).Scan(&state, &site)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return huella.Errorf(huella.ENOTFOUND, "encounter %s is not in the site outbox", encounterID)
		case err != nil:
			return s.errorf("site outbox", err)
		case state == huella.CentralIdentified:
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE site_outbox SET central_state = ?, central_decision = ?, central_subject_id = ?,
			central_encounter_id = ?, central_hits = ?, identified_at = ? WHERE encounter_id = ?`,
			c.State, string(c.Decision), c.SubjectID, c.EncounterID, c.Hits, s.d.Time(now), encounterID); err != nil {
			return s.errorf("site outbox", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionEncounterCentral, "encounter/"+encounterID, site)
		event.Detail = "decision=" + string(c.Decision)
		return s.appendAudit(ctx, tx, event, now)
	})
}

// UpstreamBacklog counts the encounters pending at the center and returns
// when the oldest was queued.
func (s *Store) UpstreamBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest time.Time
	err := s.db.Read().QueryRow(ctx, `SELECT count(*), coalesce(min(queued_at), ?) FROM site_outbox WHERE central_state = ?`,
		s.d.NoTime(), huella.CentralPending).Scan(&n, s.d.ScanTime(&oldest, true))
	if err != nil {
		return 0, time.Time{}, s.errorf("site outbox backlog", err)
	}
	return n, oldest, nil
}

// fillCentral sets Central on the encounters in byID that are in the site
// outbox (a site node's), whose IDs the condition in selects.
func (s *Store) fillCentral(ctx context.Context, tx Tx, byID map[string]*huella.Encounter, in string, args []any) error {
	if !s.siteOutbox {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT encounter_id, central_state, central_decision, central_subject_id,
		central_encounter_id, central_hits, identified_at FROM site_outbox WHERE `+in, args...)
	if err != nil {
		return s.errorf("site outbox", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, decision string
		var c huella.CentralIdentification
		if err := rows.Scan(&id, &c.State, &decision, &c.SubjectID, &c.EncounterID, &c.Hits,
			s.d.ScanTime(&c.IdentifiedAt, true)); err != nil {
			return s.errorf("site outbox", err)
		}
		c.Decision = huella.Decision(decision)
		if e := byID[id]; e != nil {
			e.Central = &c
		}
	}
	if err := rows.Err(); err != nil {
		return s.errorf("site outbox", err)
	}
	return nil
}

// SiteDownstream returns the site's downstream items after the seq.
func (s *Store) SiteDownstream(ctx context.Context, site string, after int64, limit int) ([]huella.DownstreamItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.Read().Query(ctx, `SELECT seq, kind, site_encounter_id, reason FROM site_downstream
		WHERE site_code = ? AND seq > ? ORDER BY seq LIMIT ?`, site, after, limit)
	if err != nil {
		return nil, s.errorf("site downstream", err)
	}
	defer rows.Close()
	var list []huella.DownstreamItem
	for rows.Next() {
		var it huella.DownstreamItem
		var reason string
		if err := rows.Scan(&it.Seq, &it.Kind, &it.EncounterID, &reason); err != nil {
			return nil, s.errorf("site downstream", err)
		}
		it.Reason = huella.PurgeReason(reason)
		list = append(list, it)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("site downstream", err)
	}
	return list, nil
}

// DownstreamCursor returns the last downstream seq the site applied.
func (s *Store) DownstreamCursor(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.Read().QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM site_downstream_cursor`).Scan(&seq)
	if err != nil {
		return 0, s.errorf("site downstream cursor", err)
	}
	return seq, nil
}

// SetDownstreamCursor records the last downstream seq the site applied.
func (s *Store) SetDownstreamCursor(ctx context.Context, seq int64) error {
	if _, err := s.db.Write().Exec(ctx, `INSERT INTO site_downstream_cursor (id, seq) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq`, seq); err != nil {
		return s.errorf("site downstream cursor", err)
	}
	return nil
}
