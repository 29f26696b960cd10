package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

var _ huella.IdentityStore = (*Store)(nil)

// insertIdentity stores, in CreateEncounter's transaction, the templates of
// the samples (sampleIDs, in order), the identification and its hits.
func insertIdentity(ctx context.Context, d Dialect, tx Tx, c huella.FieldCipher, e *huella.Encounter,
	encounterID, subjectID string, sampleIDs []string, now time.Time) error {
	var batch []Statement
	for i, smp := range e.Samples {
		if t := smp.Template; t != nil {
			data, err := c.Seal(huella.FieldAAD("template", sampleIDs[i], "data"), t.Data)
			if err != nil {
				return fmt.Errorf("%s: seal template: %w", d.Name(), err)
			}
			batch = append(batch, Statement{Query: `INSERT INTO templates (sample_id, modality, position, eye, algorithm, version, quality, data)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, Args: []any{sampleIDs[i], string(t.Modality), t.Position, string(t.Eye),
				t.Algorithm, t.Version, t.Quality, data}})
		}
	}
	if id := e.Identification; id != nil {
		candidates, err := json.Marshal(NonNil(id.Candidates))
		if err != nil {
			return err
		}
		recapture, err := json.Marshal(NonNil(id.Recapture))
		if err != nil {
			return err
		}
		batch = append(batch, Statement{Query: `INSERT INTO identifications (encounter_id, decision, candidates, recapture) VALUES (?, ?, ?, ?)`,
			Args: []any{encounterID, string(id.Decision), string(candidates), string(recapture)}})
	}
	if len(batch) > 0 {
		if err := tx.ExecBatch(ctx, batch); err != nil {
			return fmt.Errorf("%s: create identification: %w", d.Name(), err)
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
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subjects WHERE id = ?`+d.Lock("KEY SHARE")+`)`,
				h.CandidateSubjectID).Scan(&found); err != nil {
				return fmt.Errorf("%s: create hit: %w", d.Name(), err)
			}
			if !found {
				continue
			}
		}
		h.EncounterID, h.SubjectID, h.Site = encounterID, subjectID, e.SiteCode
		kept = append(kept, h)
	}
	e.Identification.Hits = kept
	return insertHits(ctx, d, tx, e.Identification.Hits, now)
}

// insertHits stores new pending hits, setting their IDs, and audits each.
func insertHits(ctx context.Context, d Dialect, tx Tx, hits []*huella.Hit, now time.Time) error {
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
		decided := d.NoTime()
		if h.Kind == huella.HitWatchlist && h.WatchEntryID != "" {
			var removedAt time.Time
			var by, reason string
			err := tx.QueryRow(ctx, `SELECT removed_at, removed_by, removal_reason FROM watch_entries WHERE id = ?`+d.Lock("SHARE"),
				h.WatchEntryID).Scan(d.ScanTime(&removedAt, true), &by, &reason)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s: create hit: %w", d.Name(), err)
			}
			if !removedAt.IsZero() {
				h.State, h.Examiner, h.Reason, h.DecidedAt, decided = huella.HitWithdrawn, by, reason, now, d.Time(now)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hits (id, kind, encounter_id, subject_id, site, candidate_subject_id,
			watchlist_id, watch_entry_id, category, candidate, state, examiner, reason, decided_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			h.ID, string(h.Kind), h.EncounterID, h.SubjectID, h.Site, h.CandidateSubjectID, h.WatchlistID, h.WatchEntryID,
			string(h.Category), string(cand), string(h.State), h.Examiner, h.Reason, decided, d.Time(now)); err != nil {
			return fmt.Errorf("%s: create hit: %w", d.Name(), err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitCreate, "hit/"+h.ID, h.Site)
		event.Detail = h.RaiseDetail()
		if err := AppendAudit(ctx, d, tx, event, now); err != nil {
			return err
		}
	}
	return nil
}

// fillIdentity reads the identifications and hits of the encounters in
// byID, whose IDs are ids.
func fillIdentity(ctx context.Context, d Dialect, tx Tx, byID map[string]*huella.Encounter, ids []string) error {
	in, args := d.In("encounter_id", ids)
	rows, err := tx.Query(ctx, `SELECT encounter_id, decision, candidates, recapture FROM identifications WHERE `+in, args...)
	if err != nil {
		return fmt.Errorf("%s: identifications: %w", d.Name(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter string
		var candidates, recapture []byte
		id := &huella.Identification{}
		if err := rows.Scan(&encounter, &id.Decision, &candidates, &recapture); err != nil {
			return fmt.Errorf("%s: identifications: %w", d.Name(), err)
		}
		if err := json.Unmarshal(candidates, &id.Candidates); err != nil {
			return fmt.Errorf("%s: identification of %s: %w", d.Name(), encounter, err)
		}
		if err := json.Unmarshal(recapture, &id.Recapture); err != nil {
			return fmt.Errorf("%s: identification of %s: %w", d.Name(), encounter, err)
		}
		id.Candidates, id.Recapture = nilIfEmpty(id.Candidates), nilIfEmpty(id.Recapture)
		byID[encounter].Identification = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: identifications: %w", d.Name(), err)
	}
	rows.Close()
	hits, err := queryHits(ctx, d, tx, `WHERE `+in+` ORDER BY created_at, id`, args...)
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

func queryHits(ctx context.Context, d Dialect, q Querier, where string, args ...any) ([]*huella.Hit, error) {
	rows, err := q.Query(ctx, `SELECT `+hitColumns+` FROM hits `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: hits: %w", d.Name(), err)
	}
	defer rows.Close()
	list := []*huella.Hit{}
	for rows.Next() {
		var h huella.Hit
		var cand []byte
		if err := rows.Scan(&h.ID, &h.Kind, &h.EncounterID, &h.SubjectID, &h.Site, &h.CandidateSubjectID, &h.WatchlistID,
			&h.WatchEntryID, &h.Category, &cand, &h.State, &h.Examiner, &h.Reason, d.ScanTime(&h.DecidedAt, true),
			d.ScanTime(&h.CreatedAt, false), &h.FirstExaminer, &h.FirstReason, d.ScanTime(&h.FirstConfirmedAt, true)); err != nil {
			return nil, fmt.Errorf("%s: hits: %w", d.Name(), err)
		}
		if err := json.Unmarshal(cand, &h.Candidate); err != nil {
			return nil, fmt.Errorf("%s: hit %s: %w", d.Name(), h.ID, err)
		}
		list = append(list, &h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: hits: %w", d.Name(), err)
	}
	return list, nil
}

// watchSampleColumns are a watch sample's template columns, in the order of
// the templates table's.
func watchSampleColumns(d Dialect, alias string) string {
	field := func(name string) string { return d.JSONText(alias+"sample", name) }
	return field("modality") + `, coalesce(CAST(` + field("position") + ` AS integer), 0), coalesce(` + field("eye") + `, ''),
		` + alias + `template_algorithm, ` + alias + `template_version, ` + alias + `template_quality, ` + alias + `template_data`
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
		now := s.d.Time(s.now())
		query = `SELECT ws.id, ws.entry_id, ` + watchSampleColumns(s.d, "ws.") + `
			FROM watch_samples ws JOIN watch_entries we ON we.id = ws.entry_id JOIN watchlists w ON w.id = we.watchlist_id
			WHERE ws.template_data IS NOT NULL AND ` + s.d.Never("we.removed_at") + ` AND w.valid_from <= ?
				AND (` + s.d.Never("w.valid_until") + ` OR w.valid_until > ?)
			ORDER BY we.created_at, ws.ordinal`
		args = []any{now, now}
	default:
		return huella.Errorf(huella.EINVALID, "unknown gallery %q", kind)
	}
	c := s.fields()
	return s.db.InReadTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return s.errorf("templates", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.SubjectID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version,
				&t.Quality, &t.Data); err != nil {
				return s.errorf("templates", err)
			}
			if err := s.openTemplate(c, kind == huella.GalleryWatchlists, &t); err != nil {
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
	enrolled, args := s.d.In("sample_id", sampleIDs)
	watched, watchArgs := s.d.In("id", sampleIDs)
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, `SELECT sample_id, modality, position, eye, algorithm, version, quality, data
			FROM templates WHERE `+enrolled+`
			UNION ALL
			SELECT id, `+watchSampleColumns(s.d, "")+`
			FROM watch_samples WHERE template_data IS NOT NULL AND `+watched, append(args, watchArgs...)...)
		if err != nil {
			return s.errorf("templates", err)
		}
		defer rows.Close()
		c := s.fields()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version, &t.Quality, &t.Data); err != nil {
				return s.errorf("templates", err)
			}
			if err := s.openTemplate(c, strings.HasPrefix(t.SampleID, "wsm_"), &t); err != nil {
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
	until, storedUntil := s.d.NoTime(), time.Time{}
	if !w.ValidUntil.IsZero() {
		storedUntil = stored(w.ValidUntil)
		until = s.d.Time(storedUntil)
	}
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO watchlists (id, name, owner, category, valid_from, valid_until, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, w.Name, w.Owner, string(w.Category), s.d.Time(stored(w.ValidFrom)), until, s.d.Time(now)); err != nil {
			return s.errorf("create watchlist", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchlistCreate, "watchlist/"+id, "")
		event.Detail = w.AuditDetail()
		return s.appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return err
	}
	w.ID, w.CreatedAt = id, now
	w.ValidFrom, w.ValidUntil = stored(w.ValidFrom), storedUntil
	return nil
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
	rows, err := s.db.Read().Query(ctx, `SELECT id, name, owner, category, valid_from, valid_until, created_at FROM watchlists `+where, args...)
	if err != nil {
		return nil, s.errorf("watchlists", err)
	}
	defer rows.Close()
	list := []*huella.Watchlist{}
	for rows.Next() {
		var w huella.Watchlist
		if err := rows.Scan(&w.ID, &w.Name, &w.Owner, &w.Category, s.d.ScanTime(&w.ValidFrom, false),
			s.d.ScanTime(&w.ValidUntil, true), s.d.ScanTime(&w.CreatedAt, false)); err != nil {
			return nil, s.errorf("watchlists", err)
		}
		list = append(list, &w)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("watchlists", err)
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
	err = s.db.InWriteTx(ctx, func(tx Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM watchlists WHERE id = ?`, e.WatchlistID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", e.WatchlistID)
		} else if err != nil {
			return s.errorf("create watch entry", err)
		}
		c, err := s.db.Sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealed, err := c.Seal(huella.FieldAAD("watch_entry", id, "biographics"), biographics)
		if err != nil {
			return s.errorf("seal biographics", err)
		}
		batch := []Statement{{Query: `INSERT INTO watch_entries (id, watchlist_id, reference, biographics, created_at) VALUES (?, ?, ?, ?, ?)`,
			Args: []any{id, e.WatchlistID, e.Reference, sealed, s.d.Time(now)}}}
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
					return s.errorf("seal template", err)
				}
			}
			batch = append(batch, Statement{Query: `INSERT INTO watch_samples (id, entry_id, ordinal, sample, template_algorithm, template_version,
				template_quality, template_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				Args: []any{sampleIDs[i], id, i, string(js), alg, version, quality, data}})
		}
		if err := tx.ExecBatch(ctx, batch); err != nil {
			return s.errorf("create watch entry", err)
		}
		var withTemplates []string
		for i, smp := range e.Samples {
			if smp.Template != nil {
				withTemplates = append(withTemplates, sampleIDs[i])
			}
		}
		if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryWatchAdd, WatchEntryID: id,
			SampleIDs: withTemplates}, false, now); err != nil {
			return err
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchEntryCreate, "watch_entry/"+id, "")
		event.Detail = e.AuditDetail()
		return s.appendAudit(ctx, tx, event, now)
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
func (s *Store) scanWatchEntry(row Row) (*huella.WatchEntry, error) {
	var e huella.WatchEntry
	var biographics []byte
	if err := row.Scan(&e.ID, &e.WatchlistID, &e.Reference, &biographics, s.d.ScanTime(&e.CreatedAt, false),
		s.d.ScanTime(&e.RemovedAt, true), &e.RemovedBy, &e.RemovalReason); err != nil {
		return nil, err
	}
	biographics, err := huella.OpenField(s.fields(), huella.FieldAAD("watch_entry", e.ID, "biographics"), biographics)
	if err != nil {
		return nil, s.errorf("watch entry "+e.ID, err)
	}
	if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
		return nil, s.errorf("watch entry "+e.ID, err)
	}
	return &e, nil
}

// FindWatchEntry returns an entry with its samples.
func (s *Store) FindWatchEntry(ctx context.Context, id string) (*huella.WatchEntry, error) {
	var e *huella.WatchEntry
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		var err error
		e, err = s.scanWatchEntry(tx.QueryRow(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return s.errorf("find watch entry", err)
		}
		rows, err := tx.Query(ctx, `SELECT sample FROM watch_samples WHERE entry_id = ? ORDER BY ordinal`, id)
		if err != nil {
			return s.errorf("watch samples", err)
		}
		defer rows.Close()
		for rows.Next() {
			var js []byte
			if err := rows.Scan(&js); err != nil {
				return err
			}
			var smp huella.Sample
			if err := json.Unmarshal(js, &smp); err != nil {
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
	limit, err := pageLimit(limit, 0)
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
		args = append(args, s.d.Time(stored(after.At)), after.ID)
	}
	page := ""
	if limit >= 0 {
		page, args = ` LIMIT ?`, append(args, limit)
	}
	list := []*huella.WatchEntry{}
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM watchlists WHERE id = ?`, watchlistID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watchlist %s not found", watchlistID)
		} else if err != nil {
			return s.errorf("watch entries", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+watchEntryColumns+` FROM watch_entries WHERE `+where+`
			ORDER BY created_at, id`+page, args...)
		if err != nil {
			return s.errorf("watch entries", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := s.scanWatchEntry(rows)
			if err != nil {
				return s.errorf("watch entries", err)
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
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		var list string
		var removed time.Time
		err := tx.QueryRow(ctx, `SELECT watchlist_id, removed_at FROM watch_entries WHERE id = ?`+s.d.Lock("UPDATE"), id).
			Scan(&list, s.d.ScanTime(&removed, true))
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "watch entry %s not found", id)
		} else if err != nil {
			return s.errorf("remove watch entry", err)
		}
		if !removed.IsZero() {
			return huella.Errorf(huella.ECONFLICT, "watch entry %s was removed already", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE watch_entries SET removed_at = ?, removed_by = ?, removal_reason = ? WHERE id = ?`,
			s.d.Time(now), by, reason, id); err != nil {
			return s.errorf("remove watch entry", err)
		}
		pending, err := queryHits(ctx, s.d, tx, `WHERE watch_entry_id = ? AND kind = ? AND state = ?`+s.d.Lock("UPDATE"),
			id, string(huella.HitWatchlist), string(huella.HitPending))
		if err != nil {
			return err
		}
		for _, h := range pending {
			if _, err := tx.Exec(ctx, `UPDATE hits SET state = ?, examiner = ?, reason = ?, decided_at = ? WHERE id = ?`,
				string(huella.HitWithdrawn), by, reason, s.d.Time(now), h.ID); err != nil {
				return s.errorf("withdraw hit", err)
			}
			event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+h.ID, h.Site)
			h.Withdraw(by, reason, now)
			event.Detail = h.DecisionDetail()
			if err := s.appendAudit(ctx, tx, event, now); err != nil {
				return err
			}
		}
		if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryWatchRemove, WatchEntryID: id}, false, now); err != nil {
			return err
		}
		event := huella.NewAuditEvent(ctx, huella.ActionWatchEntryRemove, "watch_entry/"+id, "")
		event.Detail = huella.RemovalDetail(list, len(pending))
		return s.appendAudit(ctx, tx, event, now)
	})
}

// CreateHits stores hits found outside an enrollment.
func (s *Store) CreateHits(ctx context.Context, hits []*huella.Hit) error {
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		for _, h := range hits {
			err := tx.QueryRow(ctx, `SELECT subject_id, site_code FROM encounters WHERE id = ?`, h.EncounterID).Scan(&h.SubjectID, &h.Site)
			if errors.Is(err, sql.ErrNoRows) {
				return huella.Errorf(huella.EINVALID, "hit names an unknown encounter")
			} else if err != nil {
				return s.errorf("create hits", err)
			}
			// A site that sent the encounter hears of its new hit.
			if err := s.queueSiteCentral(ctx, tx, `e.id = ?`, []any{h.EncounterID}, now); err != nil {
				return err
			}
		}
		return insertHits(ctx, s.d, tx, hits, now)
	})
}

// FindHit returns a hit.
func (s *Store) FindHit(ctx context.Context, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, s.d, s.db.Read(), `WHERE id = ?`, id)
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
	limit, err := pageLimit(f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	if f.Sites != nil && len(f.Sites) == 0 {
		return nil, nil
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
		in, siteArgs := s.d.In("site", f.Sites)
		where += ` AND ` + in
		args = append(args, siteArgs...)
	}
	if f.After != nil { // oldest first
		where += ` AND (created_at, id) > (?, ?)`
		args = append(args, s.d.Time(stored(f.After.At)), f.After.ID)
	}
	args = append(args, limit, f.Offset)
	return queryHits(ctx, s.d, s.db.Read(), where+` ORDER BY created_at, id LIMIT ? OFFSET ?`, args...)
}

// DecideHit records an examiner's decision (huella.Hit.Decide) and acts on
// a confirmation in the same transaction: it plans the deliveries and, for
// a duplicate, merges the subjects.
func (s *Store) DecideHit(ctx context.Context, id string, state huella.HitState, reason string) (*huella.Hit, error) {
	examiner := huella.ActorID(ctx)
	now := s.now()
	var hit *huella.Hit
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var err error
		if hit, err = s.lockHit(ctx, tx, id); err != nil {
			return err
		}
		confirmation, err := hit.Decide(examiner, state, reason, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hits SET state = ?, examiner = ?, reason = ?, decided_at = ? WHERE id = ?`,
			string(state), examiner, reason, s.d.Time(now), id); err != nil {
			return s.errorf("decide hit", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+id, hit.Site)
		event.Detail = hit.DecisionDetail()
		if err := s.appendAudit(ctx, tx, event, now); err != nil {
			return err
		}
		// A site that sent the probe encounter hears of the decision.
		if err := s.queueSiteCentral(ctx, tx, `e.id = ?`, []any{hit.EncounterID}, now); err != nil {
			return err
		}
		if confirmation == nil {
			return nil
		}
		if _, err := confirmInTx(ctx, s.d, tx, confirmation, now); err != nil {
			return err
		}
		if hit.Kind == huella.HitDuplicate {
			return s.mergeSubjects(ctx, tx, hit, examiner, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hit, nil
}

// mergeSubjects merges the hit's probe subject (and whatever was merged
// into it) into the candidate subject (huella.MergeTarget).
func (s *Store) mergeSubjects(ctx context.Context, tx Tx, hit *huella.Hit, examiner string, now time.Time) error {
	from, into := hit.SubjectID, hit.CandidateSubjectID
	var target *string
	err := tx.QueryRow(ctx, `SELECT merged_into FROM subjects WHERE id = ?`, into).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		return huella.Errorf(huella.ENOTFOUND, "candidate subject %s not found", into)
	} else if err != nil {
		return s.errorf("merge", err)
	}
	var targetID string
	if target != nil {
		targetID = *target
	}
	into, merge := huella.MergeTarget(from, into, targetID)
	if !merge {
		return nil
	}
	if err := tx.ExecBatch(ctx, []Statement{
		{Query: `UPDATE subjects SET merged_into = ? WHERE merged_into = ?`, Args: []any{into, from}},
		{Query: `UPDATE subjects SET merged_into = ? WHERE id = ?`, Args: []any{into, from}},
		{Query: `INSERT INTO merges (subject_id, into_id, hit_id, merged_by, merged_at, undone_at) VALUES (?, ?, ?, ?, ?, ?)`,
			Args: []any{from, into, hit.ID, examiner, s.d.Time(now), s.d.NoTime()}},
	}); err != nil {
		return s.errorf("merge", err)
	}
	if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryMerge, Subject: from, Other: into}, false, now); err != nil {
		return err
	}
	// The sites that sent encounters of the merged subjects hear of it.
	if err := s.queueSiteCentral(ctx, tx, `e.subject_id IN (SELECT id FROM subjects WHERE merged_into = ?)`, []any{into}, now); err != nil {
		return err
	}
	event := huella.NewAuditEvent(ctx, huella.ActionSubjectMerge, "subject/"+from, hit.Site)
	event.Detail = huella.MergeDetail(into)
	return s.appendAudit(ctx, tx, event, now)
}

// UnmergeSubject undoes a subject's merge, keeping the merge in history.
func (s *Store) UnmergeSubject(ctx context.Context, id string) error {
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		var into *string
		err := tx.QueryRow(ctx, `SELECT merged_into FROM subjects WHERE id = ?`+s.d.Lock("UPDATE"), id).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) || err == nil && into == nil {
			return huella.Errorf(huella.ENOTFOUND, "subject %s is not merged", id)
		} else if err != nil {
			return s.errorf("unmerge", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE subjects SET merged_into = NULL WHERE id = ?`, id); err != nil {
			return s.errorf("unmerge", err)
		}
		if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryUnmerge, Subject: id, Other: *into}, false, now); err != nil {
			return err
		}
		if err := s.queueSiteCentral(ctx, tx, `e.subject_id = ?`, []any{id}, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE merges SET undone_at = ? WHERE subject_id = ? AND `+s.d.Never("undone_at"), s.d.Time(now), id); err != nil {
			return s.errorf("unmerge", err)
		}
		return s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionSubjectUnmerge, "subject/"+id, ""), now)
	})
}

// RecordFirstConfirmation records the first of two confirmations
// (huella.Hit.ConfirmFirst).
func (s *Store) RecordFirstConfirmation(ctx context.Context, id, reason string) (*huella.Hit, error) {
	examiner := huella.ActorID(ctx)
	now := s.now()
	var hit *huella.Hit
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var err error
		if hit, err = s.lockHit(ctx, tx, id); err != nil {
			return err
		}
		if err := hit.ConfirmFirst(examiner, reason, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hits SET first_examiner = ?, first_reason = ?, first_at = ? WHERE id = ?`,
			examiner, reason, s.d.Time(now), id); err != nil {
			return s.errorf("first confirmation", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionHitDecide, "hit/"+id, hit.Site)
		event.Detail = hit.DecisionDetail()
		return s.appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return nil, err
	}
	return hit, nil
}

// lockHit reads a hit inside the transaction that decides it, locked for
// update, or ENOTFOUND.
func (s *Store) lockHit(ctx context.Context, tx Tx, id string) (*huella.Hit, error) {
	list, err := queryHits(ctx, s.d, tx, `WHERE id = ?`+s.d.Lock("UPDATE"), id)
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
func (s *Store) openTemplate(c huella.FieldCipher, watch bool, t *huella.Template) error {
	ad := huella.FieldAAD("template", t.SampleID, "data")
	if watch {
		ad = huella.FieldAAD("watch_sample", t.SampleID, "template")
	}
	data, err := huella.OpenField(c, ad, t.Data)
	if err != nil {
		return s.errorf("template of sample "+t.SampleID, err)
	}
	t.Data = data
	return nil
}
