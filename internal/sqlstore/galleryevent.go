package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/huella-abis/huella"
)

var (
	_ huella.GalleryEventStore = (*Store)(nil)
	_ huella.ResearchQueue     = (*Store)(nil)
)

// galleryEvent returns the statements that append ev to the outbox in the
// caller's write transaction: the first takes the next seq (locking the
// counter's row until the transaction ends, so that seqs follow commit
// order), the second inserts the row under it. With resolve set, the
// stored subject is the one ev.Subject now stands for (the subject it was
// merged into, or itself).
func (s *Store) galleryEvent(ev *huella.GalleryEvent, resolve bool, now time.Time) []Statement {
	subject, subjectArg := `?`, ev.Subject
	if resolve {
		subject = `(SELECT coalesce(sub.merged_into, sub.id) FROM subjects sub WHERE sub.id = ?)`
	}
	return []Statement{
		{Query: `UPDATE gallery_event_seq SET seq = seq + 1 WHERE id = 1`},
		{Query: `INSERT INTO gallery_events (seq, op, subject_id, other_id, subjects, encounter_id, watch_entry_id, sample_ids, created_at)
			SELECT q.seq, ?, ` + subject + `, ?, ?, ?, ?, ?, ? FROM gallery_event_seq q WHERE q.id = 1`,
			Args: []any{string(ev.Op), subjectArg, ev.Other, s.d.Strings(NonNil(ev.Subjects)), ev.EncounterID, ev.WatchEntryID,
				s.d.Strings(NonNil(ev.SampleIDs)), s.d.Time(now)}},
	}
}

// appendGalleryEvent appends ev to the outbox in the caller's write
// transaction (galleryEvent).
func (s *Store) appendGalleryEvent(ctx context.Context, tx Tx, ev *huella.GalleryEvent, resolve bool, now time.Time) error {
	if err := tx.ExecBatch(ctx, s.galleryEvent(ev, resolve, now)); err != nil {
		return s.errorf("gallery event", err)
	}
	return nil
}

// GalleryEvents returns the events after a seq, in order.
func (s *Store) GalleryEvents(ctx context.Context, after int64, limit int) ([]*huella.GalleryEvent, error) {
	if limit < 1 || limit > huella.MaxGalleryEvents {
		return nil, huella.Errorf(huella.EINVALID, "limit must be 1 to %d", huella.MaxGalleryEvents)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT seq, op, subject_id, other_id, subjects, encounter_id, watch_entry_id, sample_ids, created_at
		FROM gallery_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, s.errorf("gallery events", err)
	}
	defer rows.Close()
	list := []*huella.GalleryEvent{}
	for rows.Next() {
		var ev huella.GalleryEvent
		var op string
		if err := rows.Scan(&ev.Seq, &op, &ev.Subject, &ev.Other, s.d.ScanStrings(&ev.Subjects), &ev.EncounterID, &ev.WatchEntryID,
			s.d.ScanStrings(&ev.SampleIDs), s.d.ScanTime(&ev.At, false)); err != nil {
			return nil, s.errorf("gallery events", err)
		}
		ev.Op = huella.GalleryOp(op)
		ev.Subjects, ev.SampleIDs = nilIfEmpty(ev.Subjects), nilIfEmpty(ev.SampleIDs)
		list = append(list, &ev)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("gallery events", err)
	}
	return list, nil
}

// GalleryEventHead returns the seq of the last committed event.
func (s *Store) GalleryEventHead(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.Read().QueryRow(ctx, `SELECT seq FROM gallery_event_seq WHERE id = 1`).Scan(&seq); err != nil {
		return 0, s.errorf("gallery event head", err)
	}
	return seq, nil
}

// GalleryEventsSent returns how far the relay published.
func (s *Store) GalleryEventsSent(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.Read().QueryRow(ctx, `SELECT sent FROM gallery_event_relay WHERE id = 1`).Scan(&seq); err != nil {
		return 0, s.errorf("gallery events sent", err)
	}
	return seq, nil
}

// MarkGalleryEventsSent moves the relay's mark forward to seq.
func (s *Store) MarkGalleryEventsSent(ctx context.Context, seq int64) error {
	if _, err := s.db.Write().Exec(ctx, `UPDATE gallery_event_relay SET sent = ? WHERE id = 1 AND sent < ?`, seq, seq); err != nil {
		return s.errorf("mark gallery events sent", err)
	}
	return nil
}

// PruneGalleryEvents deletes the old events up to a seq.
func (s *Store) PruneGalleryEvents(ctx context.Context, before time.Time, upTo int64) (int64, error) {
	n, err := s.db.Write().Exec(ctx, `DELETE FROM gallery_events WHERE seq <= ? AND created_at < ?`, upTo, s.d.Time(before))
	if err != nil {
		return 0, s.errorf("prune gallery events", err)
	}
	return n, nil
}

// SubjectTemplates returns the templates of the subjects the IDs stand for.
func (s *Store) SubjectTemplates(ctx context.Context, subjectIDs []string) ([]*huella.Template, error) {
	if len(subjectIDs) > huella.MaxTemplateIDs {
		return nil, huella.Errorf(huella.EINVALID, "at most %d subjects", huella.MaxTemplateIDs)
	}
	list := []*huella.Template{}
	if len(subjectIDs) == 0 {
		return list, nil
	}
	in, args := s.d.In("r.id", subjectIDs)
	c := s.fields()
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, `SELECT t.sample_id, coalesce(sub.merged_into, e.subject_id), t.modality, t.position, t.eye, t.algorithm,
			t.version, t.quality, t.data
			FROM templates t JOIN samples sm ON sm.id = t.sample_id JOIN encounters e ON e.id = sm.encounter_id
			JOIN subjects sub ON sub.id = e.subject_id
			WHERE coalesce(sub.merged_into, e.subject_id) IN (SELECT coalesce(r.merged_into, r.id) FROM subjects r WHERE `+in+`)
			ORDER BY e.captured_at, e.id`, args...)
		if err != nil {
			return s.errorf("subject templates", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t huella.Template
			if err := rows.Scan(&t.SampleID, &t.SubjectID, &t.Modality, &t.Position, &t.Eye, &t.Algorithm, &t.Version,
				&t.Quality, &t.Data); err != nil {
				return s.errorf("subject templates", err)
			}
			if err := s.openTemplate(c, false, &t); err != nil {
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

// queueResearch returns the statement that queues e's partial search, in
// CreateEncounter's transaction.
func (s *Store) queueResearch(e *huella.Encounter, encounterID, subjectID string, sampleIDs []string, now time.Time) Statement {
	var known []string
	for _, h := range e.Identification.Hits {
		if h.Kind == huella.HitDuplicate && h.CandidateSubjectID != "" {
			known = append(known, h.CandidateSubjectID)
		}
	}
	return Statement{Query: `INSERT INTO research_queue (encounter_id, subject_id, sample_ids, known, queued_at) VALUES (?, ?, ?, ?, ?)`,
		Args: []any{encounterID, subjectID, s.d.Strings(NonNil(sampleIDs)), s.d.Strings(NonNil(known)), s.d.Time(now)}}
}

// QueuedResearches returns the oldest queued partial searches.
func (s *Store) QueuedResearches(ctx context.Context, limit int) ([]*huella.QueuedResearch, error) {
	if limit < 1 || limit > 1000 {
		return nil, huella.Errorf(huella.EINVALID, "limit must be 1 to 1000")
	}
	rows, err := s.db.Read().Query(ctx, `SELECT encounter_id, subject_id, sample_ids, known, queued_at
		FROM research_queue ORDER BY queued_at, encounter_id LIMIT ?`, limit)
	if err != nil {
		return nil, s.errorf("research queue", err)
	}
	defer rows.Close()
	list := []*huella.QueuedResearch{}
	for rows.Next() {
		var q huella.QueuedResearch
		if err := rows.Scan(&q.EncounterID, &q.SubjectID, s.d.ScanStrings(&q.SampleIDs), s.d.ScanStrings(&q.Known),
			s.d.ScanTime(&q.QueuedAt, false)); err != nil {
			return nil, s.errorf("research queue", err)
		}
		q.SampleIDs, q.Known = nilIfEmpty(q.SampleIDs), nilIfEmpty(q.Known)
		list = append(list, &q)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("research queue", err)
	}
	return list, nil
}

// CountQueuedResearches counts the queued partial searches.
func (s *Store) CountQueuedResearches(ctx context.Context) (int, error) {
	var n int
	if err := s.db.Read().QueryRow(ctx, `SELECT count(*) FROM research_queue`).Scan(&n); err != nil {
		return 0, s.errorf("research queue", err)
	}
	return n, nil
}

// ResearchDone takes a search off the queue.
func (s *Store) ResearchDone(ctx context.Context, encounterID string) error {
	if _, err := s.db.Write().Exec(ctx, `DELETE FROM research_queue WHERE encounter_id = ?`, encounterID); err != nil {
		return s.errorf("research done", err)
	}
	return nil
}

// CompleteResearch takes a search off the queue and stores its hits.
func (s *Store) CompleteResearch(ctx context.Context, encounterID string, hits []*huella.Hit) error {
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM research_queue WHERE encounter_id = ?`, encounterID)
		if err != nil {
			return s.errorf("complete research", err)
		}
		if n == 0 {
			return huella.Errorf(huella.ECONFLICT, "the search of encounter %s is no longer queued", encounterID)
		}
		for _, h := range hits {
			err := tx.QueryRow(ctx, `SELECT subject_id, site_code FROM encounters WHERE id = ?`, h.EncounterID).Scan(&h.SubjectID, &h.Site)
			if errors.Is(err, sql.ErrNoRows) {
				return huella.Errorf(huella.EINVALID, "hit names an unknown encounter")
			} else if err != nil {
				return s.errorf("complete research", err)
			}
		}
		return insertHits(ctx, s.d, tx, hits, now)
	})
}
