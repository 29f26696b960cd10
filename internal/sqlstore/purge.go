package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var err error
		p, err = s.purgeSubject(ctx, tx, id, reason, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// purgeSubject deletes, children first, every row about the subjects, in
// the caller's write transaction. Locking the subject row first (where
// rows are locked) makes an enrollment linking to it, or a merge into it,
// wait for the purge and then fail on the foreign key rather than leave a
// record behind.
func (s *Store) purgeSubject(ctx context.Context, tx Tx, id string, reason huella.PurgeReason, now time.Time) (*huella.Purge, error) {
	var merged *string
	err := tx.QueryRow(ctx, `SELECT merged_into FROM subjects WHERE id = ?`+s.d.Lock("UPDATE"), id).Scan(&merged)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
	} else if err != nil {
		return nil, s.errorf("purge", err)
	}
	if merged != nil {
		return nil, huella.Errorf(huella.ECONFLICT, "subject %s is merged into %s: purge that subject, or unmerge first", id, *merged)
	}
	p := &huella.Purge{SubjectID: id, Reason: reason}
	if p.Subjects, err = queryStrings(ctx, tx, `SELECT id FROM subjects WHERE id = ? OR merged_into = ? ORDER BY id`+s.d.Lock("UPDATE"), id, id); err != nil {
		return nil, s.errorf("purge", err)
	}
	subjects := p.Subjects
	bySubject := func(column string) idsIn { return idsIn{column, subjects} }
	inS, argS := s.where(bySubject("subject_id"))
	encounters, err := queryStrings(ctx, tx, `SELECT id FROM encounters WHERE `+inS, argS...)
	if err != nil {
		return nil, s.errorf("purge", err)
	}
	byEncounter := func(column string) idsIn { return idsIn{column, encounters} }
	sampleE, sampleArgs := s.where(byEncounter("encounter_id"))
	idE, idArgs := s.where(byEncounter("id"))
	refs, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE `+sampleE+`
		UNION SELECT original_ref FROM encounters WHERE `+idE+` AND original_ref <> ''`, slices.Concat(sampleArgs, idArgs)...)
	if err != nil {
		return nil, s.errorf("purge", err)
	}
	hits := []idsIn{byEncounter("encounter_id"), bySubject("subject_id"), bySubject("candidate_subject_id")}
	hitsWhere, hitArgs := s.where(hits...)
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0)
		FROM hits WHERE `+hitsWhere, hitArgs...).Scan(&p.Hits, &p.PendingHits); err != nil {
		return nil, s.errorf("purge", err)
	}
	// A purged record is not sent: undelivered deliveries are parked.
	// Delivery rows hold IDs and states, no personal data: they stay.
	ofDeliveries, deliveryArgs := s.where(bySubject("subject_id"), byEncounter("encounter_id"))
	parked, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'subject purged', updated_at = ?
		WHERE (`+ofDeliveries+`) AND state IN ('pending', 'published')`, slices.Concat([]any{s.d.Time(now)}, deliveryArgs)...)
	if err != nil {
		return nil, s.errorf("purge deliveries", err)
	}
	p.Deliveries = int(parked)
	// The sites that sent these encounters purge their copies too: the
	// center's user of a site enrolled them under "site:<ID at the site>".
	fromSite, fromSiteArgs := s.where(byEncounter("k.encounter_id"))
	if _, err := tx.Exec(ctx, `INSERT INTO site_downstream (site_code, kind, site_encounter_id, reason, created_at)
		SELECT e.site_code, 'purge', substr(k.key, 6), ?, ? FROM idempotency_keys k
		JOIN encounters e ON e.id = k.encounter_id JOIN users u ON u.id = k.officer
		WHERE k.key LIKE 'site:%' AND u.name = 'site-' || lower(e.site_code) AND (`+fromSite+`) ORDER BY k.encounter_id`,
		slices.Concat([]any{string(reason), s.d.Time(now)}, fromSiteArgs)...); err != nil {
		return nil, s.errorf("purge: site copies", err)
	}
	steps := []struct {
		query string // %s: the conditions
		conds []idsIn
		count *int
	}{
		{`DELETE FROM confirmations WHERE %s`, []idsIn{bySubject("subject_id"), byEncounter("encounter_id")}, nil},
		{`DELETE FROM hits WHERE %s`, hits, nil},
		{`DELETE FROM identifications WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM research_queue WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM templates WHERE sample_id IN (SELECT id FROM samples WHERE %s)`, []idsIn{byEncounter("encounter_id")}, &p.Templates},
		{`DELETE FROM smts WHERE %s`, []idsIn{byEncounter("encounter_id")}, &p.SMTs},
		{`DELETE FROM samples WHERE %s`, []idsIn{byEncounter("encounter_id")}, &p.Samples},
		{`DELETE FROM encounter_name_words WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM encounter_documents WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM finger_absences WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM idempotency_keys WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM site_outbox WHERE %s`, []idsIn{byEncounter("encounter_id")}, nil},
		{`DELETE FROM encounters WHERE %s`, []idsIn{byEncounter("id")}, &p.Encounters},
		{`DELETE FROM merges WHERE %s`, []idsIn{bySubject("subject_id"), bySubject("into_id")}, nil},
		{`DELETE FROM subjects WHERE %s`, []idsIn{bySubject("id")}, nil},
	}
	for _, step := range steps {
		cond, args := s.where(step.conds...)
		n, err := tx.Exec(ctx, fmt.Sprintf(step.query, cond), args...)
		if err != nil {
			return nil, s.errorf("purge", err)
		}
		if step.count != nil {
			*step.count = int(n)
		}
	}
	if p.Blobs, err = s.unreferenced(ctx, tx, refs); err != nil {
		return nil, err
	}
	if err := s.appendGalleryEvent(ctx, tx, &huella.GalleryEvent{Op: huella.GalleryPurge, Subject: id, Subjects: p.Subjects}, false, now); err != nil {
		return nil, err
	}
	event := huella.NewAuditEvent(ctx, huella.ActionSubjectPurge, "subject/"+id, "")
	event.Detail = p.AuditDetail()
	if err := s.appendAudit(ctx, tx, event, now); err != nil {
		return nil, err
	}
	return p, nil
}

// idsIn is the condition that a column holds one of the IDs.
type idsIn struct {
	column string
	ids    []string
}

// where returns the conditions joined by OR, and their arguments.
func (s *Store) where(conds ...idsIn) (string, []any) {
	var b strings.Builder
	var args []any
	for i, c := range conds {
		cond, a := s.d.In(c.column, c.ids)
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(cond)
		args = append(args, a...)
	}
	return b.String(), args
}

// unreferenced returns, sorted, the refs no sample, original transaction
// or watchlist entry names: the same image may be stored once for two
// records (blobs are content-addressed).
func (s *Store) unreferenced(ctx context.Context, tx Tx, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	watched := s.d.JSONText("sample", "image_ref")
	inSamples, a1 := s.d.In("image_ref", refs)
	inOriginals, a2 := s.d.In("original_ref", refs)
	inWatched, a3 := s.d.In(watched, refs)
	used, err := queryStrings(ctx, tx, `SELECT image_ref FROM samples WHERE `+inSamples+`
		UNION SELECT original_ref FROM encounters WHERE `+inOriginals+`
		UNION SELECT `+watched+` FROM watch_samples WHERE `+inWatched, slices.Concat(a1, a2, a3)...)
	if err != nil {
		return nil, s.errorf("purge", err)
	}
	out := slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return slices.Contains(used, r) })
	slices.Sort(out)
	return out, nil
}

// ExpiredSubjects returns the subjects last seen before before, less those
// held by a pending hit or a declared conviction.
func (s *Store) ExpiredSubjects(ctx context.Context, before time.Time) (*huella.Expired, error) {
	out := &huella.Expired{Subjects: []string{}}
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		held, err := queryStrings(ctx, tx, `SELECT DISTINCT coalesce(sub.merged_into, sub.id) FROM hits h
			JOIN subjects sub ON sub.id = h.subject_id OR sub.id = h.candidate_subject_id WHERE h.state = 'pending'`)
		if err != nil {
			return s.errorf("expired subjects", err)
		}
		pending := make(map[string]bool, len(held))
		for _, id := range held {
			pending[id] = true
		}
		expired, err := queryStrings(ctx, tx, `SELECT coalesce(sub.merged_into, sub.id) AS root FROM encounters e
			JOIN subjects sub ON sub.id = e.subject_id
			GROUP BY root HAVING max(e.captured_at) < ? ORDER BY max(e.captured_at), root`, s.d.Time(stored(before)))
		if err != nil {
			return s.errorf("expired subjects", err)
		}
		// The criminal history status is sealed: the convictions among the
		// expired subjects' encounters (all captured before the cut) are
		// found by opening it, not by a query on it.
		convicted, err := s.convictedRoots(ctx, tx, expired, before)
		if err != nil {
			return err
		}
		for _, id := range expired {
			switch {
			case pending[id]:
				out.HeldPendingHit++
			case convicted[id]:
				out.HeldConviction++
			default:
				out.Subjects = append(out.Subjects, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// convictedRoots returns which of the roots (subjects not merged away)
// have an encounter captured before before that declares a conviction.
func (s *Store) convictedRoots(ctx context.Context, tx Tx, roots []string, before time.Time) (map[string]bool, error) {
	convicted := make(map[string]bool)
	if len(roots) == 0 {
		return convicted, nil
	}
	wanted := make(map[string]bool, len(roots))
	for _, id := range roots {
		wanted[id] = true
	}
	rows, err := tx.Query(ctx, `SELECT coalesce(sub.merged_into, sub.id), e.id, e.history_status FROM encounters e
		JOIN subjects sub ON sub.id = e.subject_id WHERE e.captured_at < ?`, s.d.Time(stored(before)))
	if err != nil {
		return nil, s.errorf("expired subjects", err)
	}
	defer rows.Close()
	c := s.fields()
	for rows.Next() {
		var root, id string
		var status []byte
		if err := rows.Scan(&root, &id, &status); err != nil {
			return nil, s.errorf("expired subjects", err)
		}
		if !wanted[root] || convicted[root] {
			continue
		}
		plain, err := huella.OpenField(c, huella.FieldAAD("encounter", id, "history_status"), status)
		if err != nil {
			return nil, s.errorf("encounter "+id+" criminal history", err)
		}
		if huella.CriminalHistoryStatus(plain) == huella.HistoryConviction {
			convicted[root] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("expired subjects", err)
	}
	return convicted, nil
}

// ForEachBlobRef streams every blob reference the records hold.
func (s *Store) ForEachBlobRef(ctx context.Context, fn func(ref string) error) error {
	return s.db.InReadTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, `SELECT image_ref FROM samples
			UNION ALL SELECT original_ref FROM encounters WHERE original_ref <> ''
			UNION ALL SELECT coalesce(`+s.d.JSONText("sample", "image_ref")+`, '') FROM watch_samples`)
		if err != nil {
			return s.errorf("blob refs", err)
		}
		defer rows.Close()
		for rows.Next() {
			var ref string
			if err := rows.Scan(&ref); err != nil {
				return s.errorf("blob refs", err)
			}
			if ref == "" {
				continue
			}
			if err := fn(ref); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return s.errorf("blob refs", err)
		}
		return nil
	})
}
