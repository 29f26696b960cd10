package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
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
	return s.cursor(ctx, "site_downstream_cursor", "site downstream cursor")
}

// SetDownstreamCursor records the last downstream seq the site applied.
func (s *Store) SetDownstreamCursor(ctx context.Context, seq int64) error {
	return s.setCursor(ctx, "site_downstream_cursor", "site downstream cursor", seq)
}

// cursor reads the one-row cursor table (a constant name, never input).
func (s *Store) cursor(ctx context.Context, table, what string) (int64, error) {
	var seq int64
	err := s.db.Read().QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM `+table).Scan(&seq)
	if err != nil {
		return 0, s.errorf(what, err)
	}
	return seq, nil
}

// setCursor writes the one-row cursor table (a constant name, never input).
func (s *Store) setCursor(ctx context.Context, table, what string, seq int64) error {
	if _, err := s.db.Write().Exec(ctx, `INSERT INTO `+table+` (id, seq) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq`, seq); err != nil {
		return s.errorf(what, err)
	}
	return nil
}

// UpdateCentral records a later identification of the encounter by the
// center (an examiner's decision, a merge), audited when it changes.
func (s *Store) UpdateCentral(ctx context.Context, encounterID string, c *huella.CentralIdentification) error {
	if c == nil || c.State != huella.CentralIdentified {
		return huella.Errorf(huella.EINVALID, "a central identification must be in state %s", huella.CentralIdentified)
	}
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		var state, decision, subject, encounter, site string
		var hits int
		err := tx.QueryRow(ctx, `SELECT o.central_state, o.central_decision, o.central_subject_id, o.central_encounter_id,
			o.central_hits, e.site_code FROM site_outbox o JOIN encounters e ON e.id = o.encounter_id
			WHERE o.encounter_id = ?`+s.d.Lock("UPDATE"), encounterID).Scan(&state, &decision, &subject, &encounter, &hits, &site)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return huella.Errorf(huella.ENOTFOUND, "encounter %s is not in the site outbox", encounterID)
		case err != nil:
			return s.errorf("site outbox", err)
		case state == c.State && decision == string(c.Decision) && subject == c.SubjectID && encounter == c.EncounterID && hits == c.Hits:
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

// queueSiteCentral writes, at the center, a DownstreamCentral item for
// each encounter a site sent that the condition on e (encounters) selects,
// in the transaction of the change: the site reads the center's
// identification again. Encounters of the center's own officers are left
// out (the center's user of a site enrolled a site's encounters under
// "site:<ID at the site>").
func (s *Store) queueSiteCentral(ctx context.Context, tx Tx, cond string, args []any, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO site_downstream (site_code, kind, site_encounter_id, reason, created_at)
		SELECT e.site_code, ?, substr(k.key, 6), '', ? FROM idempotency_keys k
		JOIN encounters e ON e.id = k.encounter_id JOIN users u ON u.id = k.officer
		WHERE k.key LIKE 'site:%' AND u.name = 'site-' || lower(e.site_code) AND (`+cond+`) ORDER BY k.encounter_id`,
		append([]any{huella.DownstreamCentral, s.d.Time(now)}, args...)...); err != nil {
		return s.errorf("site downstream", err)
	}
	return nil
}

// WatchChanges returns the center's watchlist changes after the seq: its
// watch-add and watch-remove gallery events, an addition with its entry's
// reference and templates (no biographics, no images).
func (s *Store) WatchChanges(ctx context.Context, after int64, limit int) ([]*huella.WatchChange, error) {
	if limit < 1 || limit > huella.MaxGalleryEvents {
		return nil, huella.Errorf(huella.EINVALID, "limit must be 1 to %d", huella.MaxGalleryEvents)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT seq, op, watch_entry_id FROM gallery_events
		WHERE op IN (?, ?) AND seq > ? ORDER BY seq LIMIT ?`, string(huella.GalleryWatchAdd), string(huella.GalleryWatchRemove), after, limit)
	if err != nil {
		return nil, s.errorf("watch changes", err)
	}
	var list []*huella.WatchChange
	for rows.Next() {
		var ch huella.WatchChange
		var op string
		if err := rows.Scan(&ch.Seq, &op, &ch.EntryID); err != nil {
			rows.Close()
			return nil, s.errorf("watch changes", err)
		}
		ch.Op = huella.GalleryOp(op)
		list = append(list, &ch)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.errorf("watch changes", err)
	}
	lists := map[string]*huella.Watchlist{}
	for _, ch := range list {
		if ch.Op != huella.GalleryWatchAdd {
			continue
		}
		e, err := s.FindWatchEntry(ctx, ch.EntryID)
		if huella.ErrorCode(err) == huella.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if e.Removed() {
			continue // its removal follows
		}
		w := lists[e.WatchlistID]
		if w == nil {
			if w, err = s.FindWatchlist(ctx, e.WatchlistID); err != nil {
				return nil, err
			}
			lists[w.ID] = w
		}
		ids := make([]string, len(e.Samples))
		for i, smp := range e.Samples {
			ids[i] = smp.ID
		}
		templates, err := s.FindTemplates(ctx, ids)
		if err != nil {
			return nil, err
		}
		byID := make(map[string]*huella.Template, len(templates))
		for _, t := range templates {
			byID[t.SampleID] = t
		}
		// Templates only: the site searches with them; the partner's
		// record (names, images, the capture device) stays here.
		copy := &huella.WatchEntry{ID: e.ID, WatchlistID: e.WatchlistID, Reference: e.Reference, CreatedAt: e.CreatedAt}
		for _, smp := range e.Samples {
			if t := byID[smp.ID]; t != nil {
				copy.Samples = append(copy.Samples, &huella.Sample{ID: smp.ID, Modality: smp.Modality, Position: smp.Position,
					Impression: smp.Impression, Eye: smp.Eye, Format: smp.Format, Width: smp.Width, Height: smp.Height,
					PPI: smp.PPI, Quality: smp.Quality, Template: t})
			}
		}
		ch.Watchlist, ch.Entry = w, copy
	}
	out := list[:0]
	for _, ch := range list {
		if ch.Op == huella.GalleryWatchRemove || ch.Entry != nil && len(ch.Entry.Samples) > 0 {
			out = append(out, ch)
		}
	}
	return out, nil
}

// ReplicateWatchEntry stores the center's watch entry at a site, with the
// center's IDs, its watchlist first when new.
func (s *Store) ReplicateWatchEntry(ctx context.Context, list *huella.Watchlist, e *huella.WatchEntry) error {
	if list == nil || e == nil || list.ID == "" || e.ID == "" || e.WatchlistID != list.ID {
		return huella.Errorf(huella.EINVALID, "a replicated watch entry needs its watchlist and the center's IDs")
	}
	if err := list.Validate(); err != nil {
		return err
	}
	if e.Reference == "" || len(e.Reference) > 100 || len(e.Samples) == 0 {
		return huella.Errorf(huella.EINVALID, "a replicated watch entry needs its reference and templates")
	}
	for i, smp := range e.Samples {
		if smp.ID == "" || smp.Template == nil || len(smp.Template.Data) == 0 || smp.Template.Modality != smp.Modality {
			return huella.Errorf(huella.EINVALID, "samples[%d]: a replicated sample needs its ID and template", i)
		}
	}
	now := s.now()
	biographics, _ := json.Marshal(huella.Biographics{})
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM watch_entries WHERE id = ?`, e.ID).Scan(&one)
		if err == nil {
			return nil // replicated already
		} else if !errors.Is(err, sql.ErrNoRows) {
			return s.errorf("replicate watch entry", err)
		}
		until := s.d.NoTime()
		if !list.ValidUntil.IsZero() {
			until = s.d.Time(stored(list.ValidUntil))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO watchlists (id, name, owner, category, valid_from, valid_until, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, list.ID, list.Name, list.Owner, string(list.Category),
			s.d.Time(stored(list.ValidFrom)), until, s.d.Time(stored(list.CreatedAt))); err != nil {
			return s.errorf("replicate watchlist", err)
		}
		c, err := s.db.Sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealed, err := c.Seal(huella.FieldAAD("watch_entry", e.ID, "biographics"), biographics)
		if err != nil {
			return s.errorf("seal biographics", err)
		}
		batch := []Statement{{Query: `INSERT INTO watch_entries (id, watchlist_id, reference, biographics, created_at) VALUES (?, ?, ?, ?, ?)`,
			Args: []any{e.ID, e.WatchlistID, e.Reference, sealed, s.d.Time(now)}}}
		ids := make([]string, len(e.Samples))
		for i, smp := range e.Samples {
			ids[i] = smp.ID
			copy := *smp
			copy.Template, copy.ImageRef = nil, ""
			js, err := json.Marshal(&copy)
			if err != nil {
				return err
			}
			t := smp.Template
			data, err := c.Seal(huella.FieldAAD("watch_sample", smp.ID, "template"), t.Data)
			if err != nil {
				return s.errorf("seal template", err)
			}
			batch = append(batch, Statement{Query: `INSERT INTO watch_samples (id, entry_id, ordinal, sample, template_algorithm, template_version,
				template_quality, template_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				Args: []any{smp.ID, e.ID, i, string(js), t.Algorithm, t.Version, t.Quality, data}})
		}
		if err := tx.ExecBatch(ctx, batch); err != nil {
			return s.errorf("replicate watch entry", err)
		}
		if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryWatchAdd, WatchEntryID: e.ID,
			SampleIDs: ids}, false, now); err != nil {
			return err
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchEntryCreate, "watch_entry/"+e.ID, "")
		event.Detail = e.AuditDetail()
		return s.appendAudit(ctx, tx, event, now)
	})
}

// WatchCursor returns the last watchlist change the site applied.
func (s *Store) WatchCursor(ctx context.Context) (int64, error) {
	return s.cursor(ctx, "site_watch_cursor", "site watch cursor")
}

// SetWatchCursor records the last watchlist change the site applied.
func (s *Store) SetWatchCursor(ctx context.Context, seq int64) error {
	return s.setCursor(ctx, "site_watch_cursor", "site watch cursor", seq)
}
