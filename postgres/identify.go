package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
)

var _ huella.IdentityStore = (*Store)(nil)

// insertIdentity stores, in CreateEncounter's transaction, the templates of
// the samples, the identification and its hits.
func insertIdentity(ctx context.Context, tx pgx.Tx, c huella.FieldCipher, e *huella.Encounter, ids encounterIDs, now time.Time) error {
	batch := &pgx.Batch{}
	for i, smp := range e.Samples {
		if t := smp.Template; t != nil {
			data, err := c.Seal(huella.FieldAAD("template", ids.samples[i], "data"), t.Data)
			if err != nil {
				return fmt.Errorf("postgres: seal template: %w", err)
			}
			batch.Queue(`INSERT INTO templates (sample_id, modality, position, eye, algorithm, version, quality, data)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ids.samples[i], string(t.Modality), t.Position, string(t.Eye),
				t.Algorithm, t.Version, t.Quality, data)
		}
	}
	if id := e.Identification; id != nil {
		candidates, err := json.Marshal(sqlstore.NonNil(id.Candidates))
		if err != nil {
			return err
		}
		recapture, err := json.Marshal(sqlstore.NonNil(id.Recapture))
		if err != nil {
			return err
		}
		batch.Queue(`INSERT INTO identifications (encounter_id, decision, candidates, recapture) VALUES ($1, $2, $3, $4)`,
			ids.encounter, string(id.Decision), string(candidates), string(recapture))
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("postgres: create identification: %w", err)
		}
	}
	if e.Identification == nil {
		return nil
	}
	// A candidate purged since the galleries were searched (by another
	// process, whose purge this one's galleries have not seen) raises no
	// hit: there is no one left to compare with. The shared lock orders
	// this against a purge, which locks the subject for update.
	var kept []*huella.Hit
	for _, h := range e.Identification.Hits {
		if h.Kind == huella.HitDuplicate {
			var found bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1 FOR KEY SHARE)`,
				h.CandidateSubjectID).Scan(&found); err != nil {
				return fmt.Errorf("postgres: create hit: %w", err)
			}
			if !found {
				continue
			}
		}
		h.EncounterID, h.SubjectID, h.Site = ids.encounter, ids.subject, e.SiteCode
		kept = append(kept, h)
	}
	e.Identification.Hits = kept
	return insertHits(ctx, tx, e.Identification.Hits, now)
}

// insertHits stores new pending hits, setting their IDs, and audits each.
func insertHits(ctx context.Context, tx pgx.Tx, hits []*huella.Hit, now time.Time) error {
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
		// withdrawn, as its pending hits were. The shared lock orders this
		// against RemoveWatchEntry: either it sees the removal, or the
		// removal sees this hit and withdraws it.
		var decided *time.Time
		if h.Kind == huella.HitWatchlist && h.WatchEntryID != "" {
			var removedAt *time.Time
			var by, reason string
			err := tx.QueryRow(ctx, `SELECT removed_at, removed_by, removal_reason FROM watch_entries WHERE id = $1 FOR SHARE`,
				h.WatchEntryID).Scan(&removedAt, &by, &reason)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: create hit: %w", err)
			}
			if removedAt != nil {
				h.State, h.Examiner, h.Reason, h.DecidedAt, decided = huella.HitWithdrawn, by, reason, now, &now
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hits (id, kind, encounter_id, subject_id, site, candidate_subject_id,
			watchlist_id, watch_entry_id, category, candidate, state, examiner, reason, decided_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			h.ID, string(h.Kind), h.EncounterID, h.SubjectID, h.Site, h.CandidateSubjectID, h.WatchlistID, h.WatchEntryID,
			string(h.Category), string(cand), string(h.State), h.Examiner, h.Reason, decided, now); err != nil {
			return fmt.Errorf("postgres: create hit: %w", err)
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
func fillIdentity(ctx context.Context, tx pgx.Tx, byID map[string]*huella.Encounter, ids []string) error {
	rows, err := tx.Query(ctx, `SELECT encounter_id, decision, candidates, recapture FROM identifications WHERE encounter_id = ANY ($1)`, ids)
	if err != nil {
		return fmt.Errorf("postgres: identifications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter string
		var candidates, recapture []byte
		id := &huella.Identification{}
		if err := rows.Scan(&encounter, &id.Decision, &candidates, &recapture); err != nil {
			return fmt.Errorf("postgres: identifications: %w", err)
		}
		if err := json.Unmarshal(candidates, &id.Candidates); err != nil {
			return fmt.Errorf("postgres: identification of %s: %w", encounter, err)
		}
		if err := json.Unmarshal(recapture, &id.Recapture); err != nil {
			return fmt.Errorf("postgres: identification of %s: %w", encounter, err)
		}
		id.Candidates, id.Recapture = sqlstore.NilIfEmpty(id.Candidates), sqlstore.NilIfEmpty(id.Recapture)
		byID[encounter].Identification = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: identifications: %w", err)
	}
	rows.Close()
	hits, err := queryHits(ctx, tx, `WHERE encounter_id = ANY ($1) ORDER BY created_at, id`, ids)
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
	rows, err := q.Query(ctx, `SELECT `+hitColumns+` FROM hits `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: hits: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Hit, error) {
		var h huella.Hit
		var cand []byte
		var decided, first *time.Time
		if err := row.Scan(&h.ID, &h.Kind, &h.EncounterID, &h.SubjectID, &h.Site, &h.CandidateSubjectID, &h.WatchlistID,
			&h.WatchEntryID, &h.Category, &cand, &h.State, &h.Examiner, &h.Reason, &decided, &h.CreatedAt,
			&h.FirstExaminer, &h.FirstReason, &first); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(cand, &h.Candidate); err != nil {
			return nil, fmt.Errorf("hit %s: %w", h.ID, err)
		}
		if decided != nil {
			h.DecidedAt = decided.UTC()
		}
		if first != nil {
			h.FirstConfirmedAt = first.UTC()
		}
		h.CreatedAt = h.CreatedAt.UTC()
		return &h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: hits: %w", err)
	}
	return list, nil
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
		query = `SELECT ws.id, ws.entry_id, ws.sample->>'modality', coalesce((ws.sample->>'position')::int, 0),
			coalesce(ws.sample->>'eye', ''), ws.template_algorithm, ws.template_version, ws.template_quality, ws.template_data
			FROM watch_samples ws JOIN watch_entries we ON we.id = ws.entry_id JOIN watchlists w ON w.id = we.watchlist_id
			WHERE ws.template_data IS NOT NULL AND we.removed_at IS NULL AND w.valid_from <= $1 AND (w.valid_until IS NULL OR w.valid_until > $1)
			ORDER BY we.created_at, ws.ordinal`
		args = []any{s.now()}
	default:
		return huella.Errorf(huella.EINVALID, "unknown gallery %q", kind)
	}
	c := s.fields()
	return s.inReadTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("postgres: templates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.SubjectID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version,
				&t.Quality, &t.Data); err != nil {
				return fmt.Errorf("postgres: templates: %w", err)
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
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT sample_id, modality, position, eye, algorithm, version, quality, data
			FROM templates WHERE sample_id = ANY ($1)
			UNION ALL
			SELECT id, sample->>'modality', coalesce((sample->>'position')::int, 0), coalesce(sample->>'eye', ''),
				template_algorithm, template_version, template_quality, template_data
			FROM watch_samples WHERE template_data IS NOT NULL AND id = ANY ($1)`, sampleIDs)
		if err != nil {
			return fmt.Errorf("postgres: templates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version, &t.Quality, &t.Data); err != nil {
				return fmt.Errorf("postgres: templates: %w", err)
			}
			if err := openTemplate(s.fields(), strings.HasPrefix(t.SampleID, "wsm_"), &t); err != nil {
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
	var until *time.Time
	if !w.ValidUntil.IsZero() {
		u := stored(w.ValidUntil)
		until = &u
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO watchlists (id, name, owner, category, valid_from, valid_until, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, w.Name, w.Owner, string(w.Category), stored(w.ValidFrom), until, now); err != nil {
			return fmt.Errorf("postgres: create watchlist: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchlistCreate, "watchlist/"+id, "")
		event.Detail = w.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return err
	}
	w.ID, w.CreatedAt, w.ValidFrom = id, now, stored(w.ValidFrom)
	if until != nil {
		w.ValidUntil = *until
	}
	return nil
}

// FindWatchlist returns a watchlist.
func (s *Store) FindWatchlist(ctx context.Context, id string) (*huella.Watchlist, error) {
	list, err := s.queryWatchlists(ctx, `WHERE id = $1`, id)
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
	rows, err := s.pool.Query(ctx, `SELECT id, name, owner, category, valid_from, valid_until, created_at FROM watchlists `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: watchlists: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Watchlist, error) {
		var w huella.Watchlist
		var until *time.Time
		if err := row.Scan(&w.ID, &w.Name, &w.Owner, &w.Category, &w.ValidFrom, &until, &w.CreatedAt); err != nil {
			return nil, err
		}
		w.ValidFrom, w.CreatedAt = w.ValidFrom.UTC(), w.CreatedAt.UTC()
		if until != nil {
			w.ValidUntil = until.UTC()
		}
		return &w, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: watchlists: %w", err)
	}
	return list, nil
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
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM watchlists WHERE id = $1)`, e.WatchlistID).Scan(&found); err != nil {
			return fmt.Errorf("postgres: create watch entry: %w", err)
		}
		if !found {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", e.WatchlistID)
		}
		c, err := s.sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealed, err := c.Seal(huella.FieldAAD("watch_entry", id, "biographics"), biographics)
		if err != nil {
			return fmt.Errorf("postgres: seal biographics: %w", err)
		}
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO watch_entries (id, watchlist_id, reference, biographics, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, e.WatchlistID, e.Reference, sealed, now)
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
					return fmt.Errorf("postgres: seal template: %w", err)
				}
			}
			batch.Queue(`INSERT INTO watch_samples (id, entry_id, ordinal, sample, template_algorithm, template_version,
				template_quality, template_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				sampleIDs[i], id, i, string(js), alg, version, quality, data)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("postgres: create watch entry: %w", err)
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

// FindWatchEntry returns an entry with its samples.
func (s *Store) FindWatchEntry(ctx context.Context, id string) (*huella.WatchEntry, error) {
	var e *huella.WatchEntry
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanWatchEntry(s.fields(), tx.QueryRow(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return fmt.Errorf("postgres: find watch entry: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT sample FROM watch_samples WHERE entry_id = $1 ORDER BY ordinal`, id)
		if err != nil {
			return fmt.Errorf("postgres: watch samples: %w", err)
		}
		e.Samples, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Sample, error) {
			var js []byte
			if err := row.Scan(&js); err != nil {
				return nil, err
			}
			var smp huella.Sample
			return &smp, json.Unmarshal(js, &smp)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

const watchEntryColumns = `id, watchlist_id, reference, biographics, created_at, removed_at, removed_by, removal_reason`

// scanWatchEntry reads a row of watchEntryColumns.
func scanWatchEntry(c huella.FieldCipher, row pgx.Row) (*huella.WatchEntry, error) {
	var e huella.WatchEntry
	var biographics []byte
	var removed *time.Time
	if err := row.Scan(&e.ID, &e.WatchlistID, &e.Reference, &biographics, &e.CreatedAt, &removed, &e.RemovedBy, &e.RemovalReason); err != nil {
		return nil, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	if removed != nil {
		e.RemovedAt = removed.UTC()
	}
	biographics, err := huella.OpenField(c, huella.FieldAAD("watch_entry", e.ID, "biographics"), biographics)
	if err != nil {
		return nil, fmt.Errorf("postgres: watch entry %s: %w", e.ID, err)
	}
	if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
		return nil, fmt.Errorf("postgres: watch entry %s: %w", e.ID, err)
	}
	return &e, nil
}

// ListWatchEntries returns a watchlist's entries, oldest first.
func (s *Store) ListWatchEntries(ctx context.Context, watchlistID string) ([]*huella.WatchEntry, error) {
	return s.watchEntries(ctx, watchlistID, nil, nil)
}

// PageWatchEntries returns a page of a watchlist's entries, oldest first,
// after the key.
func (s *Store) PageWatchEntries(ctx context.Context, watchlistID string, after *huella.PageKey, limit int) ([]*huella.WatchEntry, error) {
	n, err := sqlstore.DeliveryLimit(limit, 0)
	if err != nil {
		return nil, err
	}
	return s.watchEntries(ctx, watchlistID, after, &n)
}

// watchEntries reads up to limit (nil: all) of the watchlist's entries
// after the key (nil: from the first).
func (s *Store) watchEntries(ctx context.Context, watchlistID string, after *huella.PageKey, limit *int) ([]*huella.WatchEntry, error) {
	var afterAt *time.Time
	var afterID string
	if after != nil {
		at := stored(after.At)
		afterAt, afterID = &at, after.ID
	}
	var list []*huella.WatchEntry
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM watchlists WHERE id = $1`, watchlistID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", watchlistID)
		} else if err != nil {
			return fmt.Errorf("postgres: watch entries: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE watchlist_id = $1
			AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
			ORDER BY created_at, id LIMIT $4`, watchlistID, afterAt, afterID, limit)
		if err != nil {
			return fmt.Errorf("postgres: watch entries: %w", err)
		}
		list, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.WatchEntry, error) { return scanWatchEntry(s.fields(), row) })
		if err != nil {
			return fmt.Errorf("postgres: watch entries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []*huella.WatchEntry{}
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
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var list string
		var removed *time.Time
		err := tx.QueryRow(ctx, `SELECT watchlist_id, removed_at FROM watch_entries WHERE id = $1 FOR UPDATE`, id).Scan(&list, &removed)
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return fmt.Errorf("postgres: remove watch entry: %w", err)
		}
		if removed != nil {
			return huella.Errorf(huella.ECONFLICT, "watch entry %s was removed already", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE watch_entries SET removed_at = $1, removed_by = $2, removal_reason = $3 WHERE id = $4`,
			now, by, reason, id); err != nil {
			return fmt.Errorf("postgres: remove watch entry: %w", err)
		}
		pending, err := queryHits(ctx, tx, `WHERE watch_entry_id = $1 AND kind = $2 AND state = $3 FOR UPDATE`,
			id, string(huella.HitWatchlist), string(huella.HitPending))
		if err != nil {
			return err
		}
		for _, h := range pending {
			if _, err := tx.Exec(ctx, `UPDATE hits SET state = $1, examiner = $2, reason = $3, decided_at = $4 WHERE id = $5`,
				string(huella.HitWithdrawn), by, reason, now, h.ID); err != nil {
				return fmt.Errorf("postgres: withdraw hit: %w", err)
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
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, h := range hits {
			err := tx.QueryRow(ctx, `SELECT subject_id, site_code FROM encounters WHERE id = $1`, h.EncounterID).Scan(&h.SubjectID, &h.Site)
			if errors.Is(err, pgx.ErrNoRows) {
				return huella.Errorf(huella.EINVALID, "hit names an unknown encounter")
			} else if err != nil {
				return fmt.Errorf("postgres: create hits: %w", err)
			}
		}
		return insertHits(ctx, tx, hits, now)
	})
}

// FindHit returns a hit.
func (s *Store) FindHit(ctx context.Context, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, s.pool, `WHERE id = $1`, id)
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
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0 || limit > 1000 || f.Offset < 0:
		return nil, huella.Errorf(huella.EINVALID, "limit must be 1-1000 and offset 0 or more")
	}
	if f.Sites != nil && len(f.Sites) == 0 {
		return nil, nil
	}
	var afterAt *time.Time
	var afterID string
	if f.After != nil { // oldest first
		at := stored(f.After.At)
		afterAt, afterID = &at, f.After.ID
	}
	return queryHits(ctx, s.pool, `WHERE ($1 = '' OR state = $1) AND ($2 = '' OR kind = $2) AND ($3::text[] IS NULL OR site = ANY ($3))
		AND ($6 = '' OR subject_id IN (SELECT $6 UNION ALL SELECT id FROM subjects WHERE merged_into = $6)
			OR candidate_subject_id IN (SELECT $6 UNION ALL SELECT id FROM subjects WHERE merged_into = $6))
		AND ($7::timestamptz IS NULL OR (created_at, id) > ($7, $8))
		ORDER BY created_at, id LIMIT $4 OFFSET $5`, string(f.State), string(f.Kind), f.Sites, limit, f.Offset, f.SubjectID, afterAt, afterID)
}

// DecideHit records an examiner's decision (huella.Hit.Decide) and acts on
// a confirmation in the same transaction: it plans the deliveries and, for
// a duplicate, merges the subjects.
func (s *Store) DecideHit(ctx context.Context, id string, state huella.HitState, reason string) (*huella.Hit, error) {
	examiner := huella.ActorID(ctx)
	now := s.now()
	var hit *huella.Hit
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if hit, err = lockHit(ctx, tx, id); err != nil {
			return err
		}
		confirmation, err := hit.Decide(examiner, state, reason, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hits SET state = $1, examiner = $2, reason = $3, decided_at = $4 WHERE id = $5`,
			string(state), examiner, reason, now, id); err != nil {
			return fmt.Errorf("postgres: decide hit: %w", err)
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
func mergeSubjects(ctx context.Context, tx pgx.Tx, hit *huella.Hit, examiner string, now time.Time) error {
	from, into := hit.SubjectID, hit.CandidateSubjectID
	var target pgtype.Text
	err := tx.QueryRow(ctx, `SELECT merged_into FROM subjects WHERE id = $1`, into).Scan(&target)
	if errors.Is(err, pgx.ErrNoRows) {
		return huella.Errorf(huella.ENOTFOUND, "candidate subject %s not found", into)
	} else if err != nil {
		return fmt.Errorf("postgres: merge: %w", err)
	}
	into, merge := huella.MergeTarget(from, into, target.String)
	if !merge {
		return nil
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE subjects SET merged_into = $1 WHERE merged_into = $2`, into, from)
	batch.Queue(`UPDATE subjects SET merged_into = $1 WHERE id = $2`, into, from)
	batch.Queue(`INSERT INTO merges (subject_id, into_id, hit_id, merged_by, merged_at) VALUES ($1, $2, $3, $4, $5)`,
		from, into, hit.ID, examiner, now)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("postgres: merge: %w", err)
	}
	event := huella.NewAuditEvent(ctx, huella.ActionSubjectMerge, "subject/"+from, hit.Site)
	event.Detail = huella.MergeDetail(into)
	return appendAudit(ctx, tx, event, now)
}

// UnmergeSubject undoes a subject's merge, keeping the merge in history.
func (s *Store) UnmergeSubject(ctx context.Context, id string) error {
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subjects SET merged_into = NULL WHERE id = $1 AND merged_into IS NOT NULL`, id)
		if err != nil {
			return fmt.Errorf("postgres: unmerge: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return huella.Errorf(huella.ENOTFOUND, "subject %s is not merged", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE merges SET undone_at = $1 WHERE subject_id = $2 AND undone_at IS NULL`, now, id); err != nil {
			return fmt.Errorf("postgres: unmerge: %w", err)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if hit, err = lockHit(ctx, tx, id); err != nil {
			return err
		}
		if err := hit.ConfirmFirst(examiner, reason, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hits SET first_examiner = $1, first_reason = $2, first_at = $3 WHERE id = $4`,
			examiner, reason, now, id); err != nil {
			return fmt.Errorf("postgres: first confirmation: %w", err)
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

// lockHit reads a hit locked for update, or ENOTFOUND.
func lockHit(ctx context.Context, tx pgx.Tx, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, tx, `WHERE id = $1 FOR UPDATE`, id)
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
		return fmt.Errorf("postgres: template of sample %s: %w", t.SampleID, err)
	}
	t.Data = data
	return nil
}
