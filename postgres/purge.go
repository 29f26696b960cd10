package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huella-abis/huella"
)

var _ huella.PurgeStore = (*Store)(nil)

// PurgeSubject erases the subject and the subjects merged into it in one
// transaction, and audits it.
func (s *Store) PurgeSubject(ctx context.Context, id string, reason huella.PurgeReason) (*huella.Purge, error) {
	if err := reason.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	var p *huella.Purge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = purgeSubject(ctx, tx, id, reason, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// purgeSubject deletes, children first, every row about the subjects, in
// the caller's transaction. Locking the subject row first makes an
// enrollment linking to it, or a merge into it, wait for the purge and
// then fail on the foreign key rather than leave a record behind.
func purgeSubject(ctx context.Context, tx pgx.Tx, id string, reason huella.PurgeReason, now time.Time) (*huella.Purge, error) {
	var merged *string
	err := tx.QueryRow(ctx, `SELECT merged_into FROM subjects WHERE id = $1 FOR UPDATE`, id).Scan(&merged)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: purge: %w", err)
	}
	if merged != nil {
		return nil, huella.Errorf(huella.ECONFLICT, "subject %s is merged into %s: purge that subject, or unmerge first", id, *merged)
	}
	p := &huella.Purge{SubjectID: id, Reason: reason}
	if p.Subjects, err = queryStrings(ctx, tx, `SELECT id FROM subjects WHERE id = $1 OR merged_into = $1 ORDER BY id FOR UPDATE`, id); err != nil {
		return nil, err
	}
	subjects := p.Subjects
	encounters, err := queryStrings(ctx, tx, `SELECT id FROM encounters WHERE subject_id = ANY($1)`, subjects)
	if err != nil {
		return nil, err
	}
	refs, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE encounter_id = ANY($1)
		UNION SELECT original_ref FROM encounters WHERE id = ANY($1) AND original_ref <> ''`, encounters)
	if err != nil {
		return nil, err
	}
	const hitsWhere = `WHERE encounter_id = ANY($1) OR subject_id = ANY($2) OR candidate_subject_id = ANY($2)`
	if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM hits `+hitsWhere,
		encounters, subjects).Scan(&p.Hits, &p.PendingHits); err != nil {
		return nil, fmt.Errorf("postgres: purge: %w", err)
	}
	// A purged record is not sent: undelivered deliveries are parked.
	// Delivery rows hold IDs and states, no personal data: they stay.
	tag, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'subject purged', updated_at = $3
		WHERE (subject_id = ANY($1) OR encounter_id = ANY($2)) AND state IN ('pending', 'published')`, subjects, encounters, now)
	if err != nil {
		return nil, fmt.Errorf("postgres: purge deliveries: %w", err)
	}
	p.Deliveries = int(tag.RowsAffected())
	steps := []struct {
		query string
		args  []any
		count *int
	}{
		{`DELETE FROM confirmations WHERE subject_id = ANY($1) OR encounter_id = ANY($2)`, []any{subjects, encounters}, nil},
		{`DELETE FROM hits ` + hitsWhere, []any{encounters, subjects}, nil},
		{`DELETE FROM identifications WHERE encounter_id = ANY($1)`, []any{encounters}, nil},
		{`DELETE FROM templates WHERE sample_id IN (SELECT id FROM samples WHERE encounter_id = ANY($1))`, []any{encounters}, &p.Templates},
		{`DELETE FROM smts WHERE encounter_id = ANY($1)`, []any{encounters}, &p.SMTs},
		{`DELETE FROM samples WHERE encounter_id = ANY($1)`, []any{encounters}, &p.Samples},
		{`DELETE FROM encounter_name_words WHERE encounter_id = ANY($1)`, []any{encounters}, nil},
		{`DELETE FROM encounter_documents WHERE encounter_id = ANY($1)`, []any{encounters}, nil},
		{`DELETE FROM finger_absences WHERE encounter_id = ANY($1)`, []any{encounters}, nil},
		{`DELETE FROM idempotency_keys WHERE encounter_id = ANY($1)`, []any{encounters}, nil},
		{`DELETE FROM encounters WHERE id = ANY($1)`, []any{encounters}, &p.Encounters},
		{`DELETE FROM merges WHERE subject_id = ANY($1) OR into_id = ANY($1)`, []any{subjects}, nil},
		{`DELETE FROM subjects WHERE id = ANY($1)`, []any{subjects}, nil},
	}
	for _, step := range steps {
		tag, err := tx.Exec(ctx, step.query, step.args...)
		if err != nil {
			return nil, fmt.Errorf("postgres: purge: %w", err)
		}
		if step.count != nil {
			*step.count = int(tag.RowsAffected())
		}
	}
	if p.Blobs, err = unreferenced(ctx, tx, refs); err != nil {
		return nil, err
	}
	event := huella.NewAuditEvent(ctx, huella.ActionSubjectPurge, "subject/"+id, "")
	event.Detail = p.AuditDetail()
	if err := appendAudit(ctx, tx, event, now); err != nil {
		return nil, err
	}
	return p, nil
}

// unreferenced returns, sorted, the refs no sample, original transaction
// or watchlist entry names: the same image may be stored once for two
// records (blobs are content-addressed).
func unreferenced(ctx context.Context, tx pgx.Tx, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	used, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE image_ref = ANY($1)
		UNION SELECT original_ref FROM encounters WHERE original_ref = ANY($1)
		UNION SELECT sample->>'image_ref' FROM watch_samples WHERE sample->>'image_ref' = ANY($1)`, refs)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return slices.Contains(used, r) })
	slices.Sort(out)
	return out, nil
}

// ExpiredSubjects returns the subjects last seen before before, less those
// held by a pending hit or a declared conviction.
func (s *Store) ExpiredSubjects(ctx context.Context, before time.Time) (*huella.Expired, error) {
	out := &huella.Expired{Subjects: []string{}}
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		held, err := queryStrings(ctx, tx, `SELECT DISTINCT coalesce(sub.merged_into, sub.id) FROM hits h
			JOIN subjects sub ON sub.id = h.subject_id OR sub.id = h.candidate_subject_id WHERE h.state = 'pending'`)
		if err != nil {
			return err
		}
		pending := make(map[string]bool, len(held))
		for _, id := range held {
			pending[id] = true
		}
		rows, err := tx.Query(ctx, `SELECT coalesce(sub.merged_into, sub.id) AS root, max(e.captured_at) AS last_seen,
			bool_or(e.history_status = 'conviction') FROM encounters e JOIN subjects sub ON sub.id = e.subject_id
			GROUP BY root HAVING max(e.captured_at) < $1 ORDER BY last_seen, root`, stored(before))
		if err != nil {
			return fmt.Errorf("postgres: expired subjects: %w", err)
		}
		var id string
		var last time.Time
		var convicted bool
		_, err = pgx.ForEachRow(rows, []any{&id, &last, &convicted}, func() error {
			switch {
			case pending[id]:
				out.HeldPendingHit++
			case convicted:
				out.HeldConviction++
			default:
				out.Subjects = append(out.Subjects, id)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: expired subjects: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEachBlobRef streams every blob reference the records hold.
func (s *Store) ForEachBlobRef(ctx context.Context, fn func(ref string) error) error {
	return s.inReadTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT image_ref FROM samples
			UNION ALL SELECT original_ref FROM encounters WHERE original_ref <> ''
			UNION ALL SELECT coalesce(sample->>'image_ref', '') FROM watch_samples`)
		if err != nil {
			return fmt.Errorf("postgres: blob refs: %w", err)
		}
		var ref string
		_, err = pgx.ForEachRow(rows, []any{&ref}, func() error {
			if ref == "" {
				return nil
			}
			return fn(ref)
		})
		return err
	})
}

// queryStrings returns the first column of every row.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return out, nil
}
