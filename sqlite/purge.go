package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
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
// the caller's write transaction.
func purgeSubject(ctx context.Context, tx *sql.Tx, id string, reason huella.PurgeReason, now time.Time) (*huella.Purge, error) {
	var merged sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT merged_into FROM subjects WHERE id = ?`, id).Scan(&merged)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: purge: %w", err)
	}
	if merged.Valid {
		return nil, huella.Errorf(huella.ECONFLICT, "subject %s is merged into %s: purge that subject, or unmerge first", id, merged.String)
	}
	p := &huella.Purge{SubjectID: id, Reason: reason}
	if p.Subjects, err = queryStrings(ctx, tx, `SELECT id FROM subjects WHERE id = ? OR merged_into = ? ORDER BY id`, id, id); err != nil {
		return nil, err
	}
	subjects := anys(p.Subjects)
	inS := `(` + placeholders(len(subjects)) + `)`
	encounterIDs, err := queryStrings(ctx, tx, `SELECT id FROM encounters WHERE subject_id IN `+inS, subjects...)
	if err != nil {
		return nil, err
	}
	encounters := anys(encounterIDs)
	inE := `(` + placeholders(len(encounters)) + `)`
	refs, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE encounter_id IN `+inE+`
		UNION SELECT original_ref FROM encounters WHERE id IN `+inE+` AND original_ref <> ''`, slices.Concat(encounters, encounters)...)
	if err != nil {
		return nil, err
	}
	hitsWhere := `WHERE encounter_id IN ` + inE + ` OR subject_id IN ` + inS + ` OR candidate_subject_id IN ` + inS
	hitArgs := slices.Concat(encounters, subjects, subjects)
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(state = 'pending'), 0) FROM hits `+hitsWhere, hitArgs...).
		Scan(&p.Hits, &p.PendingHits); err != nil {
		return nil, fmt.Errorf("sqlite: purge: %w", err)
	}
	// A purged record is not sent: undelivered deliveries are parked.
	// Delivery rows hold IDs and states, no personal data: they stay.
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'subject purged', updated_at = ?
		WHERE (subject_id IN `+inS+` OR encounter_id IN `+inE+`) AND state IN ('pending', 'published')`,
		slices.Concat([]any{micros(now)}, subjects, encounters)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: purge deliveries: %w", err)
	}
	parked, _ := res.RowsAffected()
	p.Deliveries = int(parked)
	inSamples := `(SELECT id FROM samples WHERE encounter_id IN ` + inE + `)`
	steps := []struct {
		query string
		args  []any
		count *int
	}{
		{`DELETE FROM confirmations WHERE subject_id IN ` + inS + ` OR encounter_id IN ` + inE, slices.Concat(subjects, encounters), nil},
		{`DELETE FROM hits ` + hitsWhere, hitArgs, nil},
		{`DELETE FROM identifications WHERE encounter_id IN ` + inE, encounters, nil},
		{`DELETE FROM templates WHERE sample_id IN ` + inSamples, encounters, &p.Templates},
		{`DELETE FROM smts WHERE encounter_id IN ` + inE, encounters, &p.SMTs},
		{`DELETE FROM samples WHERE encounter_id IN ` + inE, encounters, &p.Samples},
		{`DELETE FROM encounter_name_words WHERE encounter_id IN ` + inE, encounters, nil},
		{`DELETE FROM encounter_documents WHERE encounter_id IN ` + inE, encounters, nil},
		{`DELETE FROM finger_absences WHERE encounter_id IN ` + inE, encounters, nil},
		{`DELETE FROM idempotency_keys WHERE encounter_id IN ` + inE, encounters, nil},
		{`DELETE FROM encounters WHERE id IN ` + inE, encounters, &p.Encounters},
		{`DELETE FROM merges WHERE subject_id IN ` + inS + ` OR into_id IN ` + inS, slices.Concat(subjects, subjects), nil},
		{`DELETE FROM subjects WHERE id IN ` + inS, subjects, nil},
	}
	for _, step := range steps {
		res, err := tx.ExecContext(ctx, step.query, step.args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: purge: %w", err)
		}
		if step.count != nil {
			n, _ := res.RowsAffected()
			*step.count = int(n)
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
func unreferenced(ctx context.Context, tx *sql.Tx, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	in := `(` + placeholders(len(refs)) + `)`
	args := anys(refs)
	used, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE image_ref IN `+in+`
		UNION SELECT original_ref FROM encounters WHERE original_ref IN `+in+`
		UNION SELECT json_extract(sample, '$.image_ref') FROM watch_samples WHERE json_extract(sample, '$.image_ref') IN `+in,
		slices.Concat(args, args, args)...)
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
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		held, err := queryStrings(ctx, tx, `SELECT DISTINCT coalesce(sub.merged_into, sub.id) FROM hits h
			JOIN subjects sub ON sub.id = h.subject_id OR sub.id = h.candidate_subject_id WHERE h.state = 'pending'`)
		if err != nil {
			return err
		}
		pending := make(map[string]bool, len(held))
		for _, id := range held {
			pending[id] = true
		}
		rows, err := tx.QueryContext(ctx, `SELECT coalesce(sub.merged_into, sub.id) AS root, max(e.captured_at) AS last_seen,
			max(e.history_status = 'conviction') FROM encounters e JOIN subjects sub ON sub.id = e.subject_id
			GROUP BY root HAVING last_seen < ? ORDER BY last_seen, root`, micros(stored(before)))
		if err != nil {
			return fmt.Errorf("sqlite: expired subjects: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var last int64
			var convicted bool
			if err := rows.Scan(&id, &last, &convicted); err != nil {
				return fmt.Errorf("sqlite: expired subjects: %w", err)
			}
			switch {
			case pending[id]:
				out.HeldPendingHit++
			case convicted:
				out.HeldConviction++
			default:
				out.Subjects = append(out.Subjects, id)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForEachBlobRef streams every blob reference the records hold.
func (s *Store) ForEachBlobRef(ctx context.Context, fn func(ref string) error) error {
	return s.inReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT image_ref FROM samples
			UNION ALL SELECT original_ref FROM encounters WHERE original_ref <> ''
			UNION ALL SELECT json_extract(sample, '$.image_ref') FROM watch_samples`)
		if err != nil {
			return fmt.Errorf("sqlite: blob refs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var ref sql.NullString
			if err := rows.Scan(&ref); err != nil {
				return fmt.Errorf("sqlite: blob refs: %w", err)
			}
			if ref.Valid && ref.String != "" {
				if err := fn(ref.String); err != nil {
					return err
				}
			}
		}
		return rows.Err()
	})
}

// queryStrings returns the first column of every row.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// anys returns the strings as query arguments.
func anys(list []string) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
