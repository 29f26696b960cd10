package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

// Limits of ListEncounters.
const (
	defaultEncounterLimit = 100
	maxEncounterLimit     = 1000
)

// CreateEncounter stores the encounter with its samples and SMTs in one
// transaction. On success it sets every ID, CreatedAt, and CapturedAt to
// its stored form (UTC, microseconds); on failure it leaves e as it was.
func (s *Store) CreateEncounter(ctx context.Context, e *huella.Encounter) error {
	now := s.now()
	if err := e.Validate(now); err != nil {
		return err
	}
	biographics, err := json.Marshal(e.Biographics)
	if err != nil {
		return s.errorf("create encounter", err)
	}
	ids := newEncounterIDs(e, now)
	capturedAt := stored(e.CapturedAt)
	err = s.db.InWriteTx(ctx, func(tx Tx) error {
		c, err := s.db.Sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealedBiographics, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "biographics"), biographics)
		if err != nil {
			return s.errorf("seal biographics", err)
		}
		offence, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "history_offence"), []byte(e.CriminalHistory.Offence))
		if err != nil {
			return s.errorf("seal criminal history", err)
		}
		status, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "history_status"), []byte(e.CriminalHistory.Status))
		if err != nil {
			return s.errorf("seal criminal history", err)
		}
		// One batch (one round trip on PostgreSQL): the checks, then the
		// inserts. When a check fails the inserts fail too (foreign keys)
		// and the transaction rolls back; the check names the error.
		var checked, siteFound, subjectFound bool
		batch := []Statement{{Query: `SELECT true, EXISTS (SELECT 1 FROM sites WHERE code = ?), EXISTS (SELECT 1 FROM subjects WHERE id = ?)`,
			Args: []any{e.SiteCode, e.SubjectID}, Scan: []any{&checked, &siteFound, &subjectFound}}}
		if e.SubjectID == "" {
			batch = append(batch, Statement{Query: `INSERT INTO subjects (id, created_at) VALUES (?, ?)`, Args: []any{ids.subject, s.d.Time(now)}})
		}
		batch = append(batch, Statement{Query: `INSERT INTO encounters (id, subject_id, site_code, captured_at, officer, reason,
			history_status, history_offence, purpose, nationality, biographics, original_ref, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{ids.encounter, ids.subject, e.SiteCode, s.d.Time(capturedAt), e.Officer, string(e.Reason),
				status, offence, string(e.Purpose), NationalityToken(c, e.Biographics.Nationality),
				sealedBiographics, e.OriginalRef, s.d.Time(now)}})
		batch = append(batch, s.sampleRows(ids, e.Samples)...)
		batch = append(batch, s.smtRows(ids, e.SMTs)...)
		batch = append(batch, IndexStatements(c, ids.encounter, &e.Biographics)...)
		batch = append(batch, absenceRows(ids, e.FingerAbsences)...)
		err = tx.ExecBatch(ctx, batch)
		switch {
		case checked && !siteFound:
			return huella.Errorf(huella.EINVALID, "unknown site %s", e.SiteCode)
		case checked && e.SubjectID != "" && !subjectFound:
			return huella.Errorf(huella.ENOTFOUND, "subject %s not found", e.SubjectID)
		case err != nil:
			return s.errorf("create encounter", err)
		}
		if err := insertIdentity(ctx, s.d, tx, c, e, ids.encounter, ids.subject, ids.samples, now); err != nil {
			return err
		}
		if k := e.Idempotency; k != nil {
			n, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (officer, key, digest, encounter_id) VALUES (?, ?, ?, ?)
				ON CONFLICT (officer, key) DO NOTHING`, e.Officer, k.Key, k.Digest, ids.encounter)
			if err != nil {
				return s.errorf("create idempotency key", err)
			}
			if n == 0 {
				return huella.Errorf(huella.ECONFLICT, "the Idempotency-Key was used before")
			}
		}
		if s.siteOutbox {
			if _, err := tx.Exec(ctx, `INSERT INTO site_outbox (encounter_id, queued_at, identified_at) VALUES (?, ?, ?)`,
				ids.encounter, s.d.Time(now), s.d.NoTime()); err != nil {
				return s.errorf("queue encounter for the center", err)
			}
		}
		if err := s.encounterOutbox(ctx, tx, e, ids, now); err != nil {
			return err
		}
		event := huella.NewAuditEvent(ctx, huella.ActionEncounterCreate, "encounter/"+ids.encounter, e.SiteCode)
		event.Detail = e.EnrollDetail(ids.subject)
		if err := s.appendAudit(ctx, tx, event, now); err != nil {
			return err
		}
		// A declared conviction forwards, in this transaction.
		return planEncounterDeliveries(ctx, s.d, tx, e, ids.subject, ids.encounter, now)
	})
	if err != nil {
		return err
	}
	ids.apply(e)
	e.CapturedAt, e.CreatedAt = capturedAt, now
	if s.siteOutbox {
		e.Central = &huella.CentralIdentification{State: huella.CentralPending}
	}
	return nil
}

// encounterOutbox appends, in CreateEncounter's transaction, the gallery
// event of the encounter's templates and, for a partial search, its place
// in the re-search queue.
func (s *Store) encounterOutbox(ctx context.Context, tx Tx, e *huella.Encounter, ids encounterIDs, now time.Time) error {
	var withTemplates []string
	for i, smp := range e.Samples {
		if smp.Template != nil {
			withTemplates = append(withTemplates, ids.samples[i])
		}
	}
	var batch []Statement
	if len(withTemplates) > 0 {
		batch = s.galleryEvent(&huella.GalleryEvent{Op: huella.GalleryEnroll, Subject: ids.subject, EncounterID: ids.encounter,
			SampleIDs: withTemplates}, true, now)
	}
	if e.Identification != nil && e.Identification.Partial {
		batch = append(batch, s.queueResearch(e, ids.encounter, ids.subject, withTemplates, now))
	}
	if len(batch) == 0 {
		return nil
	}
	if err := tx.ExecBatch(ctx, batch); err != nil {
		return s.errorf("gallery event", err)
	}
	return nil
}

// encounterIDs are the IDs CreateEncounter gives, kept apart from the
// encounter until the transaction commits.
type encounterIDs struct {
	encounter, subject string
	samples, smts      []string
}

func newEncounterIDs(e *huella.Encounter, t time.Time) encounterIDs {
	ids := encounterIDs{encounter: huella.NewID("enc_", t), subject: e.SubjectID}
	if ids.subject == "" {
		ids.subject = huella.NewID("sub_", t)
	}
	for range e.Samples {
		ids.samples = append(ids.samples, huella.NewID("smp_", t))
	}
	for range e.SMTs {
		ids.smts = append(ids.smts, huella.NewID("smt_", t))
	}
	return ids
}

// sampleID returns the ID of the SMT's photo, or nil.
func (ids encounterIDs) sampleID(m *huella.SMT) any {
	if m.SampleIndex == nil {
		return nil
	}
	return ids.samples[*m.SampleIndex]
}

func (ids encounterIDs) apply(e *huella.Encounter) {
	e.ID, e.SubjectID = ids.encounter, ids.subject
	for i, smp := range e.Samples {
		smp.ID = ids.samples[i]
	}
	for i, m := range e.SMTs {
		m.ID = ids.smts[i]
		m.SampleID, _ = ids.sampleID(m).(string)
	}
}

// orNil returns *p, or nil for a nil pointer.
func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func (s *Store) sampleRows(ids encounterIDs, samples []*huella.Sample) []Statement {
	rows := make([][]any, len(samples))
	for i, smp := range samples {
		rows[i] = []any{ids.samples[i], ids.encounter, i, string(smp.Modality), smp.Position, string(smp.Impression),
			string(smp.Eye), smp.ImageRef, smp.Format, smp.Width, smp.Height, smp.PPI, smp.Device, orNil(smp.Quality)}
	}
	return insertRows(`INSERT INTO samples (id, encounter_id, ordinal, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality) VALUES `, rows)
}

func (s *Store) smtRows(ids encounterIDs, smts []*huella.SMT) []Statement {
	rows := make([][]any, len(smts))
	for i, m := range smts {
		rows[i] = []any{ids.smts[i], ids.encounter, i, string(m.Type), m.Code, m.Class, m.Subclass,
			s.d.Strings(m.Colors), m.Description, orNil(m.SampleIndex), ids.sampleID(m)}
	}
	return insertRows(`INSERT INTO smts (id, encounter_id, ordinal, type, code, class, subclass, colors, description,
		sample_index, sample_id) VALUES `, rows)
}

func absenceRows(ids encounterIDs, absences []huella.FingerAbsence) []Statement {
	rows := make([][]any, len(absences))
	for i, a := range absences {
		rows[i] = []any{ids.encounter, a.Position, i, string(a.Reason)}
	}
	return insertRows(`INSERT INTO finger_absences (encounter_id, position, ordinal, reason) VALUES `, rows)
}

// maxRowsPerInsert keeps an insert of many rows under SQLite's 32,766
// parameters (and PostgreSQL's 65,535).
const maxRowsPerInsert = 300

// insertRows returns the statements that insert the rows, each the insert
// (ending in VALUES) followed by up to maxRowsPerInsert rows.
func insertRows(insert string, rows [][]any) []Statement {
	var out []Statement
	for len(rows) > 0 {
		n := min(len(rows), maxRowsPerInsert)
		row := "(" + placeholders(len(rows[0])) + ")"
		var args []any
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		out = append(out, Statement{Query: insert + strings.TrimSuffix(strings.Repeat(row+", ", n), ", "), Args: args})
		rows = rows[n:]
	}
	return out
}

// IndexStatements returns the inserts of the encounter's search terms
// (huella.SearchTerms) for EncounterFilter's Name and Document, as
// blind-index tokens: one for every prefix of every word of a name
// (huella.NameTokens), one per document.
func IndexStatements(c huella.FieldCipher, id string, b *huella.Biographics) []Statement {
	words, documents := huella.SearchTerms(b)
	seen := make(map[string]bool)
	var rows [][]any
	for _, w := range words {
		for _, t := range huella.NameTokens(c, w.Word) {
			key := fmt.Sprint(w.NameNo, string(t))
			if seen[key] {
				continue
			}
			seen[key] = true
			rows = append(rows, []any{id, w.NameNo, t})
		}
	}
	// One statement for every token (a name of four words has about 20).
	out := insertRows(`INSERT INTO encounter_name_words (encounter_id, name_no, word) VALUES `, rows)
	for _, k := range documents {
		out = append(out, Statement{Query: `INSERT INTO encounter_documents (encounter_id, number) VALUES (?, ?)`,
			Args: []any{id, c.Token("document", k)}})
	}
	return out
}

const encounterColumns = `e.id, e.subject_id, e.site_code, e.captured_at, e.officer, e.reason, e.history_status,
	e.history_offence, e.purpose, e.biographics, e.original_ref, e.created_at`

// FindEncounter returns the encounter with its samples and SMTs, or ENOTFOUND.
func (s *Store) FindEncounter(ctx context.Context, id string) (*huella.Encounter, error) {
	var list []*huella.Encounter
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		var err error
		list, err = s.queryEncounters(ctx, tx, `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, id)
		if err != nil {
			return err
		}
		return s.fillEncounters(ctx, tx, list, true)
	})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "encounter %s not found", id)
	}
	return list[0], nil
}

// FindEncounterByIdempotencyKey returns the encounter the officer created
// with the idempotency key, with its Idempotency set, or ENOTFOUND.
func (s *Store) FindEncounterByIdempotencyKey(ctx context.Context, officer, key string) (*huella.Encounter, error) {
	var list []*huella.Encounter
	var digest string
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		var id string
		err := tx.QueryRow(ctx, `SELECT encounter_id, digest FROM idempotency_keys WHERE officer = ? AND key = ?`, officer, key).Scan(&id, &digest)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return s.errorf("find idempotency key", err)
		}
		if list, err = s.queryEncounters(ctx, tx, `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, id); err != nil {
			return err
		}
		return s.fillEncounters(ctx, tx, list, true)
	})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "no encounter with this idempotency key")
	}
	list[0].Idempotency = &huella.Idempotency{Key: key, Digest: digest}
	return list[0], nil
}

// ListEncounters returns the encounters matching the filter, newest first,
// with their samples and SMTs. EINVALID for a negative limit or offset or a
// To before From.
func (s *Store) ListEncounters(ctx context.Context, f huella.EncounterFilter) ([]*huella.Encounter, error) {
	limit, err := checkFilter(f)
	if err != nil {
		return nil, err
	}
	var list []*huella.Encounter
	err = s.db.InReadTx(ctx, func(tx Tx) error {
		common, err := s.commonName(ctx, tx, f.Name)
		if err != nil {
			return err
		}
		where, args := s.filterWhere(f, common)
		args = append(args, limit, f.Offset)
		if list, err = s.queryEncounters(ctx, tx, `SELECT `+encounterColumns+` FROM encounters e `+where+`
			ORDER BY e.captured_at DESC, e.id DESC LIMIT ? OFFSET ?`, args...); err != nil {
			return err
		}
		return s.fillEncounters(ctx, tx, list, true)
	})
	return list, err
}

// FindSubject returns the subject with its encounters, oldest first, or ENOTFOUND.
func (s *Store) FindSubject(ctx context.Context, id string) (*huella.Subject, error) {
	var subject huella.Subject
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		var merged *string
		err := tx.QueryRow(ctx, `SELECT id, created_at, merged_into FROM subjects WHERE id = ?`, id).
			Scan(&subject.ID, s.d.ScanTime(&subject.CreatedAt, false), &merged)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
		} else if err != nil {
			return s.errorf("find subject", err)
		}
		if merged != nil {
			subject.MergedInto = *merged
		}
		// A subject's history includes the encounters of the subjects
		// merged into it.
		subject.Encounters, err = s.queryEncounters(ctx, tx, `SELECT `+encounterColumns+` FROM encounters e
			WHERE e.subject_id = ? OR e.subject_id IN (SELECT id FROM subjects WHERE merged_into = ?)
			ORDER BY e.captured_at, e.id`, id, id)
		if err != nil {
			return err
		}
		return s.fillEncounters(ctx, tx, subject.Encounters, true)
	})
	if err != nil {
		return nil, err
	}
	return &subject, nil
}

// FindSample returns the sample and its encounter (with its SMTs but not
// its samples), or ENOTFOUND.
func (s *Store) FindSample(ctx context.Context, id string) (*huella.Sample, *huella.Encounter, error) {
	var sample *huella.Sample
	var list []*huella.Encounter
	err := s.db.InReadTx(ctx, func(tx Tx) error {
		samples, err := s.querySamples(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if len(samples) == 0 {
			return huella.Errorf(huella.ENOTFOUND, "sample %s not found", id)
		}
		sample = samples[0].sample
		list, err = s.queryEncounters(ctx, tx, `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, samples[0].encounter)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("%s: sample %s: encounter %s missing", s.d.Name(), id, samples[0].encounter)
		}
		return s.fillEncounters(ctx, tx, list, false)
	})
	if err != nil {
		return nil, nil, err
	}
	return sample, list[0], nil
}

// EncounterStats counts the encounters matching the filter by site, by
// nationality and by month of capture (UTC). Limit and Offset are ignored.
// Filters of whole UTC days without a subject read the per-day counts the
// triggers keep (a few rows per site and day); others group the matching
// encounters.
func (s *Store) EncounterStats(ctx context.Context, f huella.EncounterFilter) (*huella.EncounterStats, error) {
	f.Limit, f.Offset, f.After = 0, 0, nil
	if _, err := checkFilter(f); err != nil {
		return nil, err
	}
	var query string
	var args []any
	if f.SubjectID == "" && f.Name == "" && f.Document == "" && isDay(f.From) && isDay(f.To) {
		var where string
		where, args = s.countsWhere(f)
		query = `SELECT site_code, nationality, day, sum(n) FROM encounter_counts ` + where + `
			GROUP BY site_code, nationality, day HAVING sum(n) > 0`
	} else {
		var where string
		where, args = s.filterWhere(f, false)
		day := s.d.Day("e.captured_at")
		query = `SELECT e.site_code, e.nationality, ` + day + `, count(*)
			FROM encounters e ` + where + ` GROUP BY e.site_code, e.nationality, ` + day
	}
	rows, err := s.db.Read().Query(ctx, query, args...)
	if err != nil {
		return nil, s.errorf("encounter stats", err)
	}
	defer rows.Close()
	stats := &huella.EncounterStats{BySite: map[string]int{}, ByNationality: map[string]int{}, ByMonth: map[string]int{}}
	codes := nationalityCodes(s.fields())
	months := make(map[int64]string)
	for rows.Next() {
		var site, nationality string
		var day int64
		var n int
		if err := rows.Scan(&site, &nationality, &day, &n); err != nil {
			return nil, s.errorf("encounter stats", err)
		}
		month, ok := months[day]
		if !ok {
			month = time.Unix(day*secondsPerDay, 0).UTC().Format("2006-01")
			months[day] = month
		}
		stats.Total += n
		stats.BySite[site] += n
		if code, ok := codes[nationality]; ok {
			nationality = code
		} // else a row from before encryption at rest: the code itself
		stats.ByNationality[nationality] += n
		stats.ByMonth[month] += n
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("encounter stats", err)
	}
	return stats, nil
}

// secondsPerDay divides time into UTC days, as encounter_counts does
// (migration 0004): a day is the whole number of UTC days since the epoch.
const secondsPerDay = 24 * 60 * 60

// isDay reports whether t is zero or, at stored precision, a UTC midnight.
func isDay(t time.Time) bool { return t.IsZero() || t.UnixMicro()%(secondsPerDay*1_000_000) == 0 }

// countsWhere returns the WHERE clause (or "") selecting the filter's rows
// of encounter_counts, and its arguments; From and To are whole days.
func (s *Store) countsWhere(f huella.EncounterFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Sites != nil {
		in, siteArgs := s.d.In("site_code", f.Sites)
		conds, args = append(conds, in), append(args, siteArgs...)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, `day >= ?`), append(args, f.From.Unix()/secondsPerDay)
	}
	if !f.To.IsZero() {
		conds, args = append(conds, `day < ?`), append(args, f.To.Unix()/secondsPerDay)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// checkFilter returns the filter's effective limit, or EINVALID.
func checkFilter(f huella.EncounterFilter) (limit int, err error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	if f.Limit == 0 {
		return defaultEncounterLimit, nil
	}
	return min(f.Limit, maxEncounterLimit), nil
}

// filterWhere returns the WHERE clause (or "") selecting the filter's
// encounters, aliased e, and its arguments. common says that the name
// searched is common (commonName): the clause is then written so that the
// encounters are scanned in order rather than every match sorted.
func (s *Store) filterWhere(f huella.EncounterFilter, common bool) (string, []any) {
	c := s.fields()
	var conds []string
	var args []any
	if f.Sites != nil {
		in, siteArgs := s.d.In("e.site_code", f.Sites)
		conds, args = append(conds, in), append(args, siteArgs...)
	}
	if f.SubjectID != "" {
		conds, args = append(conds, `e.subject_id = ?`), append(args, f.SubjectID)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, `e.captured_at >= ?`), append(args, s.d.Time(stored(f.From)))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, `e.captured_at < ?`), append(args, s.d.Time(stored(f.To)))
	}
	if words := huella.NameWords(f.Name); len(words) > 0 {
		// One name (same encounter, same name_no) must have a word
		// beginning with each word of the query.
		var from, where []string
		for i, w := range words {
			t := fmt.Sprintf("w%d", i)
			if i == 0 {
				from = append(from, `encounter_name_words `+t)
			} else {
				from = append(from, fmt.Sprintf(`JOIN encounter_name_words %s ON %s.encounter_id = w0.encounter_id AND %s.name_no = w0.name_no`, t, t, t))
			}
			where = append(where, t+`.word = ?`)
			args = append(args, c.Token("name", w))
		}
		if common {
			// Scan the encounters newest first and stop at the page.
			conds = append(conds, `EXISTS (SELECT 1 FROM `+strings.Join(from, " ")+` WHERE w0.encounter_id = e.id AND `+strings.Join(where, " AND ")+`)`)
		} else {
			// Read the few matching encounters, then sort them.
			conds = append(conds, `e.id IN (SELECT w0.encounter_id FROM `+strings.Join(from, " ")+` WHERE `+strings.Join(where, " AND ")+`)`)
		}
	}
	if f.Document != "" {
		conds = append(conds, `e.id IN (SELECT encounter_id FROM encounter_documents WHERE number = ?)`)
		args = append(args, c.Token("document", huella.DocumentKey(f.Document)))
	}
	if f.After != nil { // newest first
		conds = append(conds, `(e.captured_at, e.id) < (?, ?)`)
		args = append(args, s.d.Time(stored(f.After.At)), f.After.ID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// commonName reports whether every word of the name query begins at least
// the dialect's CommonNameWords indexed words, counting no further than
// that (never where the dialect leaves the choice to its planner).
func (s *Store) commonName(ctx context.Context, tx Tx, name string) (bool, error) {
	limit := s.d.CommonNameWords()
	words := huella.NameWords(name)
	if limit == 0 || len(words) == 0 {
		return false, nil
	}
	for _, w := range words {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM encounter_name_words WHERE word = ? LIMIT ?) AS found`,
			s.fields().Token("name", w), limit).Scan(&n); err != nil {
			return false, s.errorf("search names", err)
		}
		if n < limit {
			return false, nil
		}
	}
	return true, nil
}

func (s *Store) queryEncounters(ctx context.Context, tx Tx, query string, args ...any) ([]*huella.Encounter, error) {
	c := s.fields()
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, s.errorf("encounters", err)
	}
	defer rows.Close()
	list := []*huella.Encounter{}
	for rows.Next() {
		var e huella.Encounter
		var biographics, status, offence []byte
		if err := rows.Scan(&e.ID, &e.SubjectID, &e.SiteCode, s.d.ScanTime(&e.CapturedAt, false), &e.Officer, &e.Reason,
			&status, &offence, &e.Purpose, &biographics, &e.OriginalRef, s.d.ScanTime(&e.CreatedAt, false)); err != nil {
			return nil, s.errorf("encounters", err)
		}
		biographics, err := huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "biographics"), biographics)
		if err != nil {
			return nil, s.errorf("encounter "+e.ID+" biographics", err)
		}
		if offence, err = huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "history_offence"), offence); err != nil {
			return nil, s.errorf("encounter "+e.ID+" criminal history", err)
		}
		if status, err = huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "history_status"), status); err != nil {
			return nil, s.errorf("encounter "+e.ID+" criminal history", err)
		}
		e.CriminalHistory.Status, e.CriminalHistory.Offence = huella.CriminalHistoryStatus(status), string(offence)
		if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
			return nil, s.errorf("encounter "+e.ID+" biographics", err)
		}
		list = append(list, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("encounters", err)
	}
	return list, nil
}

// fillEncounters reads the SMTs, finger absences and identifications of
// the encounters, and their samples when withSamples, in one query each.
func (s *Store) fillEncounters(ctx context.Context, tx Tx, list []*huella.Encounter, withSamples bool) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*huella.Encounter, len(list))
	ids := make([]string, len(list))
	for i, e := range list {
		byID[e.ID], ids[i] = e, e.ID
	}
	in, args := s.d.In("encounter_id", ids)
	if withSamples {
		samples, err := s.querySamples(ctx, tx, `WHERE `+in+` ORDER BY encounter_id, ordinal`, args...)
		if err != nil {
			return err
		}
		for _, smp := range samples {
			e := byID[smp.encounter]
			e.Samples = append(e.Samples, smp.sample)
		}
	}
	if err := fillIdentity(ctx, s.d, tx, byID, ids); err != nil {
		return err
	}
	if err := s.fillAbsences(ctx, tx, byID, in, args); err != nil {
		return err
	}
	if err := s.fillCentral(ctx, tx, byID, in, args); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT encounter_id, id, type, code, class, subclass, colors, description,
		sample_index, sample_id FROM smts WHERE `+in+` ORDER BY encounter_id, ordinal`, args...)
	if err != nil {
		return s.errorf("smts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m huella.SMT
		var encounter string
		var sampleID *string
		if err := rows.Scan(&encounter, &m.ID, &m.Type, &m.Code, &m.Class, &m.Subclass, s.d.ScanStrings(&m.Colors), &m.Description,
			&m.SampleIndex, &sampleID); err != nil {
			return s.errorf("smts", err)
		}
		m.Colors = nilIfEmpty(m.Colors)
		if sampleID != nil {
			m.SampleID = *sampleID
		}
		e := byID[encounter]
		e.SMTs = append(e.SMTs, &m)
	}
	if err := rows.Err(); err != nil {
		return s.errorf("smts", err)
	}
	return nil
}

// fillAbsences reads the finger absences of the encounters in byID, whose
// IDs the condition in selects.
func (s *Store) fillAbsences(ctx context.Context, tx Tx, byID map[string]*huella.Encounter, in string, args []any) error {
	rows, err := tx.Query(ctx, `SELECT encounter_id, position, reason FROM finger_absences
		WHERE `+in+` ORDER BY encounter_id, ordinal`, args...)
	if err != nil {
		return s.errorf("finger absences", err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter string
		var a huella.FingerAbsence
		if err := rows.Scan(&encounter, &a.Position, &a.Reason); err != nil {
			return s.errorf("finger absences", err)
		}
		e := byID[encounter]
		e.FingerAbsences = append(e.FingerAbsences, a)
	}
	if err := rows.Err(); err != nil {
		return s.errorf("finger absences", err)
	}
	return nil
}

// storedSample is a sample with the encounter it belongs to.
type storedSample struct {
	encounter string
	sample    *huella.Sample
}

func (s *Store) querySamples(ctx context.Context, tx Tx, where string, args ...any) ([]storedSample, error) {
	rows, err := tx.Query(ctx, `SELECT encounter_id, id, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality FROM samples `+where, args...)
	if err != nil {
		return nil, s.errorf("samples", err)
	}
	defer rows.Close()
	var list []storedSample
	for rows.Next() {
		var smp huella.Sample
		var encounter string
		if err := rows.Scan(&encounter, &smp.ID, &smp.Modality, &smp.Position, &smp.Impression, &smp.Eye, &smp.ImageRef,
			&smp.Format, &smp.Width, &smp.Height, &smp.PPI, &smp.Device, &smp.Quality); err != nil {
			return nil, s.errorf("samples", err)
		}
		list = append(list, storedSample{encounter, &smp})
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("samples", err)
	}
	return list, nil
}

// NationalityToken is what encounters.nationality (and encounter_counts,
// which triggers keep from it) store for a nationality: a blind-index token
// of the code ("nt" and its hex), so that the counts by nationality are
// grouped in SQL while the column reveals no code without the key. An
// unknown nationality stays "", and a store without keys (huella.Plaintext)
// keeps the code, as it keeps its other fields.
func NationalityToken(c huella.FieldCipher, code string) string {
	if code == "" || c == huella.Plaintext {
		return code
	}
	return "nt" + hex.EncodeToString(c.Token("nationality", code))
}

// nationalityCodes maps the token of every country code back to the code.
func nationalityCodes(c huella.FieldCipher) map[string]string {
	m := make(map[string]string)
	for _, code := range huella.CountryCodes() {
		m[NationalityToken(c, code)] = code
	}
	return m
}

// TokeniseNationalities replaces the nationality codes that rows written
// before the tokens hold with their tokens (the triggers move the counts
// along), and drops the emptied counts that would still name a code. It
// returns how many encounters changed; a second call changes none.
func (s *Store) TokeniseNationalities(ctx context.Context) (int64, error) {
	c := s.fields()
	var total int64
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		for _, code := range huella.CountryCodes() {
			n, err := tx.Exec(ctx, `UPDATE encounters SET nationality = ? WHERE nationality = ?`, NationalityToken(c, code), code)
			if err != nil {
				return s.errorf("tokenise nationalities", err)
			}
			total += n
		}
		if _, err := tx.Exec(ctx, `DELETE FROM encounter_counts WHERE n <= 0`); err != nil {
			return s.errorf("tokenise nationalities", err)
		}
		return nil
	})
	return total, err
}
