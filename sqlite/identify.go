package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
)

var _ huella.IdentityStore = (*Store)(nil)

// insertIdentity stores, in CreateEncounter's transaction, the templates of
// the samples, the identification and its hits.
func insertIdentity(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, e *huella.Encounter, ids encounterIDs, now time.Time) error {
	for i, smp := range e.Samples {
		t := smp.Template
		if t == nil {
			continue
		}
		data, err := c.Seal(huella.FieldAAD("template", ids.samples[i], "data"), t.Data)
		if err != nil {
			return fmt.Errorf("sqlite: seal template: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO templates (sample_id, modality, position, eye, algorithm, version, quality, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ids.samples[i], string(t.Modality), t.Position, string(t.Eye), t.Algorithm, t.Version, t.Quality, data); err != nil {
			return fmt.Errorf("sqlite: create template: %w", err)
		}
	}
	id := e.Identification
	if id == nil {
		return nil
	}
	candidates, err := json.Marshal(sqlstore.NonNil(id.Candidates))
	if err != nil {
		return err
	}
	recapture, err := json.Marshal(sqlstore.NonNil(id.Recapture))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO identifications (encounter_id, decision, candidates, recapture) VALUES (?, ?, ?, ?)`,
		ids.encounter, string(id.Decision), string(candidates), string(recapture)); err != nil {
		return fmt.Errorf("sqlite: create identification: %w", err)
	}
	// A candidate purged since the galleries were searched (by another
	// process, whose purge this one's galleries have not seen) raises no
	// hit: there is no one left to compare with.
	var kept []*huella.Hit
	for _, h := range id.Hits {
		if h.Kind == huella.HitDuplicate {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM subjects WHERE id = ?`, h.CandidateSubjectID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			} else if err != nil {
				return fmt.Errorf("sqlite: create hit: %w", err)
			}
		}
		h.EncounterID, h.SubjectID, h.Site = ids.encounter, ids.subject, e.SiteCode
		kept = append(kept, h)
	}
	id.Hits = kept
	return insertHits(ctx, tx, id.Hits, now)
}

// insertHits stores new pending hits, setting their IDs, and audits each.
func insertHits(ctx context.Context, tx *sql.Tx, hits []*huella.Hit, now time.Time) error {
	for _, h := range hits {
		if h.Kind != huella.HitDuplicate && h.Kind != huella.HitWatchlist || h.Candidate == nil || h.EncounterID == "" {
			return huella.Errorf(huella.EINVALID, "a hit needs a kind, a candidate and an encounter")
		}
		cand, err := json.Marshal(h.Candidate)
		if err != nil {
			return err
		}
		h.ID, h.State, h.CreatedAt = huella.NewID("hit_", now), huella.HitPending, now
		// An entry removed while the probe was searched raises its hit
		// withdrawn, as its pending hits were.
		var decided int64
		if h.Kind == huella.HitWatchlist && h.WatchEntryID != "" {
			var removedAt int64
			var by, reason string
			err := tx.QueryRowContext(ctx, `SELECT removed_at, removed_by, removal_reason FROM watch_entries WHERE id = ?`,
				h.WatchEntryID).Scan(&removedAt, &by, &reason)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: create hit: %w", err)
			}
			if removedAt != 0 {
				h.State, h.Examiner, h.Reason, h.DecidedAt, decided = huella.HitWithdrawn, by, reason, now, micros(now)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hits (id, kind, encounter_id, subject_id, site, candidate_subject_id,
			watchlist_id, watch_entry_id, category, candidate, state, examiner, reason, decided_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			h.ID, string(h.Kind), h.EncounterID, h.SubjectID, h.Site, h.CandidateSubjectID, h.WatchlistID, h.WatchEntryID,
			string(h.Category), string(cand), string(h.State), h.Examiner, h.Reason, decided, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create hit: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitCreate, "hit/"+h.ID, h.Site)
		event.Detail = h.RaiseDetail()
		if err := appendAudit(ctx, tx, event, now); err != nil {
			return err
		}
	}
	return nil
}

// fillIdentity reads the identifications and hits of the listed encounters.
func fillIdentity(ctx context.Context, tx *sql.Tx, byID map[string]*huella.Encounter, in string, ids []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT encounter_id, decision, candidates, recapture FROM identifications WHERE `+in, ids...)
	if err != nil {
		return fmt.Errorf("sqlite: identifications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter, candidates, recapture string
		id := &huella.Identification{}
		if err := rows.Scan(&encounter, &id.Decision, &candidates, &recapture); err != nil {
			return fmt.Errorf("sqlite: identifications: %w", err)
		}
		if err := json.Unmarshal([]byte(candidates), &id.Candidates); err != nil {
			return fmt.Errorf("sqlite: identification of %s: %w", encounter, err)
		}
		if err := json.Unmarshal([]byte(recapture), &id.Recapture); err != nil {
			return fmt.Errorf("sqlite: identification of %s: %w", encounter, err)
		}
		id.Candidates, id.Recapture = sqlstore.NilIfEmpty(id.Candidates), sqlstore.NilIfEmpty(id.Recapture)
		byID[encounter].Identification = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: identifications: %w", err)
	}
	hits, err := queryHits(ctx, tx, `WHERE `+in+` ORDER BY created_at, id`, ids...)
	if err != nil {
		return err
	}
	for _, h := range hits {
		if e := byID[h.EncounterID]; e.Identification != nil {
			e.Identification.Hits = append(e.Identification.Hits, h)
		}
	}
	return nil
}

const hitColumns = `id, kind, encounter_id, subject_id, site, candidate_subject_id, watchlist_id, watch_entry_id,
	category, candidate, state, examiner, reason, decided_at, created_at, first_examiner, first_reason, first_at`

func queryHits(ctx context.Context, q querier, where string, args ...any) ([]*huella.Hit, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+hitColumns+` FROM hits `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: hits: %w", err)
	}
	defer rows.Close()
	var list []*huella.Hit
	for rows.Next() {
		var h huella.Hit
		var cand string
		var decided, created, first int64
		if err := rows.Scan(&h.ID, &h.Kind, &h.EncounterID, &h.SubjectID, &h.Site, &h.CandidateSubjectID, &h.WatchlistID,
			&h.WatchEntryID, &h.Category, &cand, &h.State, &h.Examiner, &h.Reason, &decided, &created,
			&h.FirstExaminer, &h.FirstReason, &first); err != nil {
			return nil, fmt.Errorf("sqlite: hits: %w", err)
		}
		if err := json.Unmarshal([]byte(cand), &h.Candidate); err != nil {
			return nil, fmt.Errorf("sqlite: hit %s: %w", h.ID, err)
		}
		if decided != 0 {
			h.DecidedAt = fromMicros(decided)
		}
		if first != 0 {
			h.FirstConfirmedAt = fromMicros(first)
		}
		h.CreatedAt = fromMicros(created)
		list = append(list, &h)
	}
	return list, rows.Err()
}

// ForEachTemplate streams a gallery's templates, later captures last so
// that they replace earlier ones of the same slot.
func (s *Store) ForEachTemplate(ctx context.Context, kind huella.GalleryKind, fn func(*huella.Template) error) error {
	var query string
	var args []any
	switch kind {
	case huella.GallerySubjects:
		query = `SELECT t.sample_id, coalesce(sub.merged_into, e.subject_id), t.modality, t.position, t.eye, t.algorithm,
			t.version, t.quality, t.data
			FROM templates t JOIN samples sm ON sm.id = t.sample_id JOIN encounters e ON e.id = sm.encounter_id
			JOIN subjects sub ON sub.id = e.subject_id ORDER BY e.captured_at, e.id`
	case huella.GalleryWatchlists:
		now := micros(s.now())
		query = `SELECT ws.id, ws.entry_id, json_extract(ws.sample, '$.modality'), coalesce(json_extract(ws.sample, '$.position'), 0),
			coalesce(json_extract(ws.sample, '$.eye'), ''), ws.template_algorithm, ws.template_version, ws.template_quality, ws.template_data
			FROM watch_samples ws JOIN watch_entries we ON we.id = ws.entry_id JOIN watchlists w ON w.id = we.watchlist_id
			WHERE ws.template_data IS NOT NULL AND we.removed_at = 0 AND w.valid_from <= ? AND (w.valid_until = 0 OR w.valid_until > ?)
			ORDER BY we.created_at, ws.ordinal`
		args = []any{now, now}
	default:
		return huella.Errorf(huella.EINVALID, "unknown gallery %q", kind)
	}
	c := s.fields()
	return s.inReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sqlite: templates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.SubjectID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version,
				&t.Quality, &t.Data); err != nil {
				return fmt.Errorf("sqlite: templates: %w", err)
			}
			if err := openTemplate(c, kind == huella.GalleryWatchlists, &t); err != nil {
				return err
			}
			if err := fn(&t); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// FindTemplates returns the stored templates of the samples, enrolled or
// of watch entries.
func (s *Store) FindTemplates(ctx context.Context, sampleIDs []string) ([]*huella.Template, error) {
	if len(sampleIDs) > huella.MaxTemplateIDs {
		return nil, huella.Errorf(huella.EINVALID, "at most %d samples", huella.MaxTemplateIDs)
	}
	list := []*huella.Template{}
	if len(sampleIDs) == 0 {
		return list, nil
	}
	in := placeholders(len(sampleIDs))
	args := make([]any, 0, 2*len(sampleIDs))
	for range 2 {
		for _, id := range sampleIDs {
			args = append(args, id)
		}
	}
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sample_id, modality, position, eye, algorithm, version, quality, data
			FROM templates WHERE sample_id IN (`+in+`)
			UNION ALL
			SELECT id, json_extract(sample, '$.modality'), coalesce(json_extract(sample, '$.position'), 0),
				coalesce(json_extract(sample, '$.eye'), ''), template_algorithm, template_version, template_quality, template_data
			FROM watch_samples WHERE template_data IS NOT NULL AND id IN (`+in+`)`, args...)
		c := s.fields()
		if err != nil {
			return fmt.Errorf("sqlite: templates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version, &t.Quality, &t.Data); err != nil {
				return fmt.Errorf("sqlite: templates: %w", err)
			}
			if err := openTemplate(c, strings.HasPrefix(t.SampleID, "wsm_"), &t); err != nil {
				return err
			}
			list = append(list, &t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// CreateWatchlist stores a new watchlist.
func (s *Store) CreateWatchlist(ctx context.Context, w *huella.Watchlist) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := s.now()
	id := huella.NewID("wl_", now)
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var until int64
		if !w.ValidUntil.IsZero() {
			until = micros(stored(w.ValidUntil))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watchlists (id, name, owner, category, valid_from, valid_until, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, w.Name, w.Owner, string(w.Category), micros(stored(w.ValidFrom)), until, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create watchlist: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchlistCreate, "watchlist/"+id, "")
		event.Detail = w.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return err
	}
	w.ID, w.CreatedAt = id, now
	w.ValidFrom, w.ValidUntil = stored(w.ValidFrom), storedOrZero(w.ValidUntil)
	return nil
}

func storedOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return stored(t)
}

// FindWatchlist returns a watchlist.
func (s *Store) FindWatchlist(ctx context.Context, id string) (*huella.Watchlist, error) {
	list, err := s.queryWatchlists(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", id)
	}
	return list[0], nil
}

// ListWatchlists returns every watchlist by name.
func (s *Store) ListWatchlists(ctx context.Context) ([]*huella.Watchlist, error) {
	return s.queryWatchlists(ctx, `ORDER BY name, id`)
}

func (s *Store) queryWatchlists(ctx context.Context, where string, args ...any) ([]*huella.Watchlist, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, owner, category, valid_from, valid_until, created_at FROM watchlists `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: watchlists: %w", err)
	}
	defer rows.Close()
	var list []*huella.Watchlist
	for rows.Next() {
		var w huella.Watchlist
		var from, until, created int64
		if err := rows.Scan(&w.ID, &w.Name, &w.Owner, &w.Category, &from, &until, &created); err != nil {
			return nil, fmt.Errorf("sqlite: watchlists: %w", err)
		}
		w.ValidFrom, w.CreatedAt = fromMicros(from), fromMicros(created)
		if until != 0 {
			w.ValidUntil = fromMicros(until)
		}
		list = append(list, &w)
	}
	return list, rows.Err()
}

// CreateWatchEntry stores an entry with its samples and templates.
func (s *Store) CreateWatchEntry(ctx context.Context, e *huella.WatchEntry) error {
	now := s.now()
	if err := e.Validate(now); err != nil {
		return err
	}
	biographics, err := json.Marshal(e.Biographics)
	if err != nil {
		return err
	}
	id := huella.NewID("wle_", now)
	sampleIDs := make([]string, len(e.Samples))
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
		c, err := s.sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealed, err := c.Seal(huella.FieldAAD("watch_entry", id, "biographics"), biographics)
		if err != nil {
			return fmt.Errorf("sqlite: seal biographics: %w", err)
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM watchlists WHERE id = ?`, e.WatchlistID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", e.WatchlistID)
		} else if err != nil {
			return fmt.Errorf("sqlite: create watch entry: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_entries (id, watchlist_id, reference, biographics, created_at)
			VALUES (?, ?, ?, ?, ?)`, id, e.WatchlistID, e.Reference, sealed, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create watch entry: %w", err)
		}
		for i, smp := range e.Samples {
			sampleIDs[i] = huella.NewID("wsm_", now)
			copy := *smp
			copy.ID, copy.Template = sampleIDs[i], nil
			js, err := json.Marshal(&copy)
			if err != nil {
				return err
			}
			var alg string
			var version, quality int
			var data []byte
			if t := smp.Template; t != nil {
				alg, version, quality = t.Algorithm, t.Version, t.Quality
				if data, err = c.Seal(huella.FieldAAD("watch_sample", sampleIDs[i], "template"), t.Data); err != nil {
					return fmt.Errorf("sqlite: seal template: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO watch_samples (id, entry_id, ordinal, sample, template_algorithm,
				template_version, template_quality, template_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				sampleIDs[i], id, i, string(js), alg, version, quality, data); err != nil {
				return fmt.Errorf("sqlite: create watch sample: %w", err)
			}
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchEntryCreate, "watch_entry/"+id, "")
		event.Detail = e.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return err
	}
	e.ID, e.CreatedAt = id, now
	for i, smp := range e.Samples {
		smp.ID = sampleIDs[i]
	}
	return nil
}

const watchEntryColumns = `id, watchlist_id, reference, biographics, created_at, removed_at, removed_by, removal_reason`

// scanWatchEntry reads a row of watchEntryColumns.
func scanWatchEntry(c huella.FieldCipher, row interface{ Scan(...any) error }) (*huella.WatchEntry, error) {
	var e huella.WatchEntry
	var biographics []byte
	var created, removed int64
	if err := row.Scan(&e.ID, &e.WatchlistID, &e.Reference, &biographics, &created, &removed, &e.RemovedBy, &e.RemovalReason); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMicros(created)
	if removed != 0 {
		e.RemovedAt = fromMicros(removed)
	}
	biographics, err := huella.OpenField(c, huella.FieldAAD("watch_entry", e.ID, "biographics"), biographics)
	if err != nil {
		return nil, fmt.Errorf("sqlite: watch entry %s: %w", e.ID, err)
	}
	if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
		return nil, fmt.Errorf("sqlite: watch entry %s: %w", e.ID, err)
	}
	return &e, nil
}

// FindWatchEntry returns an entry with its samples.
func (s *Store) FindWatchEntry(ctx context.Context, id string) (*huella.WatchEntry, error) {
	var e *huella.WatchEntry
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = scanWatchEntry(s.fields(), tx.QueryRowContext(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return fmt.Errorf("sqlite: find watch entry: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT sample FROM watch_samples WHERE entry_id = ? ORDER BY ordinal`, id)
		if err != nil {
			return fmt.Errorf("sqlite: watch samples: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var js string
			if err := rows.Scan(&js); err != nil {
				return err
			}
			var smp huella.Sample
			if err := json.Unmarshal([]byte(js), &smp); err != nil {
				return err
			}
			e.Samples = append(e.Samples, &smp)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ListWatchEntries returns a watchlist's entries, oldest first.
func (s *Store) ListWatchEntries(ctx context.Context, watchlistID string) ([]*huella.WatchEntry, error) {
	return s.watchEntries(ctx, watchlistID, nil, -1)
}

// PageWatchEntries returns a page of a watchlist's entries, oldest first,
// after the key.
func (s *Store) PageWatchEntries(ctx context.Context, watchlistID string, after *huella.PageKey, limit int) ([]*huella.WatchEntry, error) {
	limit, err := sqlstore.DeliveryLimit(limit, 0)
	if err != nil {
		return nil, err
	}
	return s.watchEntries(ctx, watchlistID, after, limit)
}

// watchEntries reads up to limit (-1: all) of the watchlist's entries
// after the key (nil: from the first).
func (s *Store) watchEntries(ctx context.Context, watchlistID string, after *huella.PageKey, limit int) ([]*huella.WatchEntry, error) {
	where, args := `watchlist_id = ?`, []any{watchlistID}
	if after != nil {
		where += ` AND (created_at, id) > (?, ?)`
		args = append(args, micros(stored(after.At)), after.ID)
	}
	args = append(args, limit)
	list := []*huella.WatchEntry{}
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM watchlists WHERE id = ?`, watchlistID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", watchlistID)
		} else if err != nil {
			return fmt.Errorf("sqlite: watch entries: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE `+where+`
			ORDER BY created_at, id LIMIT ?`, args...)
		if err != nil {
			return fmt.Errorf("sqlite: watch entries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanWatchEntry(s.fields(), rows)
			if err != nil {
				return fmt.Errorf("sqlite: watch entries: %w", err)
			}
			list = append(list, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// RemoveWatchEntry marks an entry removed and withdraws its pending hits.
func (s *Store) RemoveWatchEntry(ctx context.Context, id, reason string) error {
	if err := huella.ValidateRemoval(reason); err != nil {
		return err
	}
	by := huella.ActorID(ctx)
	now := s.now()
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var list string
		var removed int64
		err := tx.QueryRowContext(ctx, `SELECT watchlist_id, removed_at FROM watch_entries WHERE id = ?`, id).Scan(&list, &removed)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return fmt.Errorf("sqlite: remove watch entry: %w", err)
		}
		if removed != 0 {
			return huella.Errorf(huella.ECONFLICT, "watch entry %s was removed already", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE watch_entries SET removed_at = ?, removed_by = ?, removal_reason = ? WHERE id = ?`,
			micros(now), by, reason, id); err != nil {
			return fmt.Errorf("sqlite: remove watch entry: %w", err)
		}
		pending, err := queryHits(ctx, tx, `WHERE watch_entry_id = ? AND kind = ? AND state = ?`, id, string(huella.HitWatchlist), string(huella.HitPending))
		if err != nil {
			return err
		}
		for _, h := range pending {
			if _, err := tx.ExecContext(ctx, `UPDATE hits SET state = ?, examiner = ?, reason = ?, decided_at = ? WHERE id = ?`,
				string(huella.HitWithdrawn), by, reason, micros(now), h.ID); err != nil {
				return fmt.Errorf("sqlite: withdraw hit: %w", err)
			}
			event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+h.ID, h.Site)
			h.Withdraw(by, reason, now)
			event.Detail = h.DecisionDetail()
			if err := appendAudit(ctx, tx, event, now); err != nil {
				return err
			}
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchEntryRemove, "watch_entry/"+id, "")
		event.Detail = huella.RemovalDetail(list, len(pending))
		return appendAudit(ctx, tx, event, now)
	})
}

// CreateHits stores hits found outside an enrollment.
func (s *Store) CreateHits(ctx context.Context, hits []*huella.Hit) error {
	now := s.now()
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for _, h := range hits {
			var subject, site string
			err := tx.QueryRowContext(ctx, `SELECT subject_id, site_code FROM encounters WHERE id = ?`, h.EncounterID).Scan(&subject, &site)
			if errors.Is(err, sql.ErrNoRows) {
				return huella.Errorf(huella.EINVALID, "hit names an unknown encounter")
			} else if err != nil {
				return fmt.Errorf("sqlite: create hits: %w", err)
			}
			h.SubjectID, h.Site = subject, site
		}
		return insertHits(ctx, tx, hits, now)
	})
}

// FindHit returns a hit.
func (s *Store) FindHit(ctx context.Context, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, s.read, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "hit %s not found", id)
	}
	return list[0], nil
}

// ListHits returns the hits matching the filter, oldest first.
func (s *Store) ListHits(ctx context.Context, f huella.HitFilter) ([]*huella.Hit, error) {
	limit, err := sqlstore.DeliveryLimit(f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	where := `WHERE 1 = 1`
	var args []any
	if f.State != "" {
		where += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.SubjectID != "" {
		where += ` AND (subject_id IN (SELECT ? UNION ALL SELECT id FROM subjects WHERE merged_into = ?)
			OR candidate_subject_id IN (SELECT ? UNION ALL SELECT id FROM subjects WHERE merged_into = ?))`
		args = append(args, f.SubjectID, f.SubjectID, f.SubjectID, f.SubjectID)
	}
	if f.Sites != nil {
		if len(f.Sites) == 0 {
			return nil, nil
		}
		where += ` AND site IN (` + placeholders(len(f.Sites)) + `)`
		for _, site := range f.Sites {
			args = append(args, site)
		}
	}
	if f.After != nil { // oldest first
		where += ` AND (created_at, id) > (?, ?)`
		args = append(args, micros(stored(f.After.At)), f.After.ID)
	}
	args = append(args, limit, f.Offset)
	return queryHits(ctx, s.read, where+` ORDER BY created_at, id LIMIT ? OFFSET ?`, args...)
}

// DecideHit records an examiner's decision (huella.Hit.Decide) and acts on
// a confirmation in the same transaction: it plans the deliveries and, for
// a duplicate, merges the subjects.
func (s *Store) DecideHit(ctx context.Context, id string, state huella.HitState, reason string) (*huella.Hit, error) {
	examiner := huella.ActorID(ctx)
	now := s.now()
	var hit *huella.Hit
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if hit, err = lockHit(ctx, tx, id); err != nil {
			return err
		}
		confirmation, err := hit.Decide(examiner, state, reason, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hits SET state = ?, examiner = ?, reason = ?, decided_at = ? WHERE id = ?`,
			string(state), examiner, reason, micros(now), id); err != nil {
			return fmt.Errorf("sqlite: decide hit: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+id, hit.Site)
		event.Detail = hit.DecisionDetail()
		if err := appendAudit(ctx, tx, event, now); err != nil {
			return err
		}
		if confirmation == nil {
			return nil
		}
		if _, err := confirmInTx(ctx, tx, confirmation, now); err != nil {
			return err
		}
		if hit.Kind == huella.HitDuplicate {
			return mergeSubjects(ctx, tx, hit, examiner, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hit, nil
}

// mergeSubjects merges the hit's probe subject (and whatever was merged
// into it) into the candidate subject.
func mergeSubjects(ctx context.Context, tx *sql.Tx, hit *huella.Hit, examiner string, now time.Time) error {
	from, into := hit.SubjectID, hit.CandidateSubjectID
	var target sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT merged_into FROM subjects WHERE id = ?`, into).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		return huella.Errorf(huella.ENOTFOUND, "candidate subject %s not found", into)
	} else if err != nil {
		return fmt.Errorf("sqlite: merge: %w", err)
	}
	into, merge := huella.MergeTarget(from, into, target.String)
	if !merge {
		return nil
	}
	for _, q := range []string{
		`UPDATE subjects SET merged_into = ? WHERE merged_into = ?`,
		`UPDATE subjects SET merged_into = ? WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, into, from); err != nil {
			return fmt.Errorf("sqlite: merge: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO merges (subject_id, into_id, hit_id, merged_by, merged_at, undone_at)
		VALUES (?, ?, ?, ?, ?, 0)`, from, into, hit.ID, examiner, micros(now)); err != nil {
		return fmt.Errorf("sqlite: merge: %w", err)
	}
	event := huella.NewAuditEvent(ctx, huella.ActionSubjectMerge, "subject/"+from, hit.Site)
	event.Detail = huella.MergeDetail(into)
	return appendAudit(ctx, tx, event, now)
}

// UnmergeSubject undoes a subject's merge, keeping the merge in history.
func (s *Store) UnmergeSubject(ctx context.Context, id string) error {
	now := s.now()
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subjects SET merged_into = NULL WHERE id = ? AND merged_into IS NOT NULL`, id)
		if err != nil {
			return fmt.Errorf("sqlite: unmerge: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return huella.Errorf(huella.ENOTFOUND, "subject %s is not merged", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merges SET undone_at = ? WHERE subject_id = ? AND undone_at = 0`, micros(now), id); err != nil {
			return fmt.Errorf("sqlite: unmerge: %w", err)
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionSubjectUnmerge, "subject/"+id, ""), now)
	})
}

// RecordFirstConfirmation records the first of two confirmations
// (huella.Hit.ConfirmFirst).
func (s *Store) RecordFirstConfirmation(ctx context.Context, id, reason string) (*huella.Hit, error) {
	examiner := huella.ActorID(ctx)
	now := s.now()
	var hit *huella.Hit
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		if hit, err = lockHit(ctx, tx, id); err != nil {
			return err
		}
		if err := hit.ConfirmFirst(examiner, reason, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hits SET first_examiner = ?, first_reason = ?, first_at = ? WHERE id = ?`,
			examiner, reason, micros(now), id); err != nil {
			return fmt.Errorf("sqlite: first confirmation: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+id, hit.Site)
		event.Detail = hit.DecisionDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return nil, err
	}
	return hit, nil
}

// lockHit reads a hit inside the transaction that decides it, or ENOTFOUND.
func lockHit(ctx context.Context, tx *sql.Tx, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, tx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "hit %s not found", id)
	}
	return list[0], nil
}

// openTemplate decrypts a template's data: a watch sample's (watch) or an
// enrolled sample's.
func openTemplate(c huella.FieldCipher, watch bool, t *huella.Template) error {
	ad := huella.FieldAAD("template", t.SampleID, "data")
	if watch {
		ad = huella.FieldAAD("watch_sample", t.SampleID, "template")
	}
	data, err := huella.OpenField(c, ad, t.Data)
	if err != nil {
		return fmt.Errorf("sqlite: template of sample %s: %w", t.SampleID, err)
	}
	t.Data = data
	return nil
}
