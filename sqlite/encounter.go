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
		return fmt.Errorf("sqlite: create encounter: %w", err)
	}
	ids := newEncounterIDs(e, now)
	capturedAt := stored(e.CapturedAt)
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if err := sqlstore.SiteExists(ctx, dialect{}, wrap(tx), e.SiteCode); err != nil {
			return err
		}
		if e.SubjectID != "" {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM subjects WHERE id = ?`, e.SubjectID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return huella.Errorf(huella.ENOTFOUND, "subject %s not found", e.SubjectID)
			} else if err != nil {
				return fmt.Errorf("sqlite: find subject: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO subjects (id, created_at) VALUES (?, ?)`, ids.subject, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create subject: %w", err)
		}
		c, err := s.sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealedBiographics, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "biographics"), biographics)
		if err != nil {
			return fmt.Errorf("sqlite: seal biographics: %w", err)
		}
		offence, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "history_offence"), []byte(e.CriminalHistory.Offence))
		if err != nil {
			return fmt.Errorf("sqlite: seal criminal history: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO encounters (id, subject_id, site_code, captured_at, officer, reason,
			history_status, history_offence, purpose, nationality, biographics, original_ref, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ids.encounter, ids.subject, e.SiteCode, micros(capturedAt), e.Officer, string(e.Reason),
			string(e.CriminalHistory.Status), offence, string(e.Purpose), e.Biographics.Nationality,
			sealedBiographics, e.OriginalRef, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create encounter: %w", err)
		}
		if err := insertSamples(ctx, tx, ids, e.Samples); err != nil {
			return err
		}
		if err := insertSMTs(ctx, tx, ids, e.SMTs); err != nil {
			return err
		}
		if err := indexEncounter(ctx, tx, c, ids.encounter, &e.Biographics); err != nil {
			return err
		}
		if err := insertAbsences(ctx, tx, ids, e.FingerAbsences); err != nil {
			return err
		}
		if err := insertIdentity(ctx, tx, c, e, ids, now); err != nil {
			return err
		}
		if k := e.Idempotency; k != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (officer, key, digest, encounter_id) VALUES (?, ?, ?, ?)`,
				e.Officer, k.Key, k.Digest, ids.encounter); isUniqueViolation(err) {
				return huella.Errorf(huella.ECONFLICT, "the Idempotency-Key was used before")
			} else if err != nil {
				return fmt.Errorf("sqlite: create idempotency key: %w", err)
			}
		}
		event := huella.NewAuditEvent(ctx, huella.ActionEncounterCreate, "encounter/"+ids.encounter, e.SiteCode)
		event.Detail = e.EnrollDetail(ids.subject)
		if err := appendAudit(ctx, tx, event, now); err != nil {
			return err
		}
		return planEncounterDeliveries(ctx, tx, e, ids, now) // a declared conviction forwards, in this transaction
	})
	if err != nil {
		return err
	}
	ids.apply(e)
	e.CapturedAt, e.CreatedAt = capturedAt, now
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

func insertSamples(ctx context.Context, tx *sql.Tx, ids encounterIDs, samples []*huella.Sample) error {
	const columns = 14
	args := make([]any, 0, columns*len(samples))
	for i, smp := range samples {
		var quality any
		if smp.Quality != nil {
			quality = *smp.Quality
		}
		args = append(args, ids.samples[i], ids.encounter, i, string(smp.Modality), smp.Position, string(smp.Impression),
			string(smp.Eye), smp.ImageRef, smp.Format, smp.Width, smp.Height, smp.PPI, smp.Device, quality)
	}
	query := `INSERT INTO samples (id, encounter_id, ordinal, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality) VALUES ` + rowsOf(columns, len(samples))
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlite: create samples: %w", err)
	}
	return nil
}

func insertSMTs(ctx context.Context, tx *sql.Tx, ids encounterIDs, smts []*huella.SMT) error {
	if len(smts) == 0 {
		return nil
	}
	const columns = 11
	args := make([]any, 0, columns*len(smts))
	for i, m := range smts {
		colors, err := json.Marshal(sqlstore.NonNil(m.Colors))
		if err != nil {
			return fmt.Errorf("sqlite: create smts: %w", err)
		}
		var index any
		if m.SampleIndex != nil {
			index = *m.SampleIndex
		}
		args = append(args, ids.smts[i], ids.encounter, i, string(m.Type), m.Code, m.Class, m.Subclass,
			string(colors), m.Description, index, ids.sampleID(m))
	}
	query := `INSERT INTO smts (id, encounter_id, ordinal, type, code, class, subclass, colors, description,
		sample_index, sample_id) VALUES ` + rowsOf(columns, len(smts))
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlite: create smts: %w", err)
	}
	return nil
}

func insertAbsences(ctx context.Context, tx *sql.Tx, ids encounterIDs, absences []huella.FingerAbsence) error {
	if len(absences) == 0 {
		return nil
	}
	const columns = 4
	args := make([]any, 0, columns*len(absences))
	for i, a := range absences {
		args = append(args, ids.encounter, a.Position, i, string(a.Reason))
	}
	query := `INSERT INTO finger_absences (encounter_id, position, ordinal, reason) VALUES ` + rowsOf(columns, len(absences))
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlite: create finger absences: %w", err)
	}
	return nil
}

// rowsOf returns "(?, ?), (?, ?)" for n rows of the given number of columns.
func rowsOf(columns, n int) string {
	row := "(" + placeholders(columns) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

const encounterColumns = `e.id, e.subject_id, e.site_code, e.captured_at, e.officer, e.reason, e.history_status,
	e.history_offence, e.purpose, e.biographics, e.original_ref, e.created_at`

// FindEncounter returns the encounter with its samples and SMTs, or ENOTFOUND.
func (s *Store) FindEncounter(ctx context.Context, id string) (*huella.Encounter, error) {
	var list []*huella.Encounter
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, id)
		if err != nil {
			return err
		}
		return fillEncounters(ctx, tx, list, true)
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
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT encounter_id, digest FROM idempotency_keys WHERE officer = ? AND key = ?`, officer, key).Scan(&id, &digest)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("sqlite: find idempotency key: %w", err)
		}
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, id)
		if err != nil {
			return err
		}
		return fillEncounters(ctx, tx, list, true)
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
	err = s.inReadTx(ctx, func(tx *sql.Tx) error {
		common, err := commonName(ctx, tx, s.fields(), f.Name)
		if err != nil {
			return err
		}
		where, args := filterWhere(s.fields(), f, common)
		args = append(args, limit, f.Offset)
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e `+where+`
			ORDER BY e.captured_at DESC, e.id DESC LIMIT ? OFFSET ?`, args...)
		if err != nil {
			return err
		}
		return fillEncounters(ctx, tx, list, true)
	})
	return list, err
}

// FindSubject returns the subject with its encounters, oldest first, or ENOTFOUND.
func (s *Store) FindSubject(ctx context.Context, id string) (*huella.Subject, error) {
	var subject huella.Subject
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var created int64
		var merged sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, created_at, merged_into FROM subjects WHERE id = ?`, id).Scan(&subject.ID, &created, &merged)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
		} else if err != nil {
			return fmt.Errorf("sqlite: find subject: %w", err)
		}
		subject.CreatedAt, subject.MergedInto = fromMicros(created), merged.String
		// A subject's history includes the encounters of the subjects
		// merged into it.
		subject.Encounters, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e
			WHERE e.subject_id = ? OR e.subject_id IN (SELECT id FROM subjects WHERE merged_into = ?)
			ORDER BY e.captured_at, e.id`, id, id)
		if err != nil {
			return err
		}
		return fillEncounters(ctx, tx, subject.Encounters, true)
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
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		samples, err := querySamples(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if len(samples) == 0 {
			return huella.Errorf(huella.ENOTFOUND, "sample %s not found", id)
		}
		sample = samples[0].sample
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = ?`, samples[0].encounter)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("sqlite: sample %s: encounter %s missing", id, samples[0].encounter)
		}
		return fillEncounters(ctx, tx, list, false)
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
		where, whereArgs := countsWhere(f)
		query = `SELECT site_code, nationality, day, sum(n) FROM encounter_counts ` + where + `
			GROUP BY site_code, nationality, day HAVING sum(n) > 0`
		args = whereArgs
	} else {
		where, whereArgs := filterWhere(s.fields(), f, false)
		query = `SELECT e.site_code, e.nationality, e.captured_at / ? AS day, count(*)
			FROM encounters e ` + where + ` GROUP BY e.site_code, e.nationality, day`
		args = append([]any{microsPerDay}, whereArgs...)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encounter stats: %w", err)
	}
	defer rows.Close()
	stats := &huella.EncounterStats{BySite: map[string]int{}, ByNationality: map[string]int{}, ByMonth: map[string]int{}}
	months := make(map[int64]string)
	for rows.Next() {
		var site, nationality string
		var day int64
		var n int
		if err := rows.Scan(&site, &nationality, &day, &n); err != nil {
			return nil, fmt.Errorf("sqlite: encounter stats: %w", err)
		}
		month, ok := months[day]
		if !ok {
			month = time.UnixMicro(day * microsPerDay).UTC().Format("2006-01")
			months[day] = month
		}
		stats.Total += n
		stats.BySite[site] += n
		stats.ByNationality[nationality] += n
		stats.ByMonth[month] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: encounter stats: %w", err)
	}
	return stats, nil
}

// microsPerDay divides a stored time into UTC days, as encounter_counts
// does (migration 0004).
const microsPerDay = 24 * 60 * 60 * 1_000_000

// isDay reports whether t is zero or a UTC midnight.
func isDay(t time.Time) bool { return t.UnixMicro()%microsPerDay == 0 || t.IsZero() }

// countsWhere returns the WHERE clause (or "") selecting the filter's rows
// of encounter_counts, and its arguments; From and To are whole days.
func countsWhere(f huella.EncounterFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Sites != nil {
		conds = append(conds, `site_code IN (`+placeholders(max(len(f.Sites), 1))+`)`)
		if len(f.Sites) == 0 {
			args = append(args, nil) // an empty list selects nothing
		}
		for _, site := range f.Sites {
			args = append(args, site)
		}
	}
	if !f.From.IsZero() {
		conds = append(conds, `day >= ?`)
		args = append(args, f.From.UnixMicro()/microsPerDay)
	}
	if !f.To.IsZero() {
		conds = append(conds, `day < ?`)
		args = append(args, f.To.UnixMicro()/microsPerDay)
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
// searched is common (commonName): the clause is then written so that
// SQLite scans the encounters in order rather than sorting every match.
func filterWhere(c huella.FieldCipher, f huella.EncounterFilter, common bool) (string, []any) {
	var conds []string
	var args []any
	if f.Sites != nil {
		conds = append(conds, `e.site_code IN (`+placeholders(max(len(f.Sites), 1))+`)`)
		if len(f.Sites) == 0 {
			args = append(args, nil) // an empty list selects nothing
		}
		for _, site := range f.Sites {
			args = append(args, site)
		}
	}
	if f.SubjectID != "" {
		conds = append(conds, `e.subject_id = ?`)
		args = append(args, f.SubjectID)
	}
	if !f.From.IsZero() {
		conds = append(conds, `e.captured_at >= ?`)
		args = append(args, micros(stored(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, `e.captured_at < ?`)
		args = append(args, micros(stored(f.To)))
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
	if f.After != nil {
		conds = append(conds, `(e.captured_at, e.id) < (?, ?)`) // newest first
		args = append(args, micros(stored(f.After.At)), f.After.ID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// commonNameWords is how many index entries every word of a name query must
// have for the name to count as common. Below it, the matches are read and
// sorted (about 4 µs each); above it, the encounters are scanned newest
// first until a page is found, which costs about as much per encounter
// scanned and is quicker as soon as matches are frequent.
const commonNameWords = 20_000

// commonName reports whether every word of the name query begins at least
// commonNameWords indexed words, counting no further than that.
func commonName(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, name string) (bool, error) {
	words := huella.NameWords(name)
	for _, w := range words {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM encounter_name_words WHERE word = ? LIMIT ?)`,
			c.Token("name", w), commonNameWords).Scan(&n); err != nil {
			return false, fmt.Errorf("sqlite: search names: %w", err)
		}
		if n < commonNameWords {
			return false, nil
		}
	}
	return len(words) > 0, nil
}

// indexEncounter writes the encounter's search terms (huella.SearchTerms)
// for EncounterFilter's Name and Document, as blind-index tokens: one for
// every prefix of every word of a name (nameTokens), one per document.
func indexEncounter(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, id string, b *huella.Biographics) error {
	words, documents := huella.SearchTerms(b)
	seen := make(map[string]bool)
	var args []any
	for _, w := range words {
		for _, t := range huella.NameTokens(c, w.Word) {
			key := fmt.Sprint(w.NameNo, string(t))
			if seen[key] {
				continue
			}
			seen[key] = true
			args = append(args, id, w.NameNo, t)
		}
	}
	// One statement for every token (a name of four words has about 20).
	for len(args) > 0 {
		n := min(len(args)/3, 300) // under SQLite's 32,766 parameters
		if _, err := tx.ExecContext(ctx, `INSERT INTO encounter_name_words (encounter_id, name_no, word) VALUES `+rowsOf(3, n), args[:3*n]...); err != nil {
			return fmt.Errorf("sqlite: index name: %w", err)
		}
		args = args[3*n:]
	}
	for _, k := range documents {
		if _, err := tx.ExecContext(ctx, `INSERT INTO encounter_documents (encounter_id, number) VALUES (?, ?)`, id, c.Token("document", k)); err != nil {
			return fmt.Errorf("sqlite: index document: %w", err)
		}
	}
	return nil
}

func queryEncounters(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, query string, args ...any) ([]*huella.Encounter, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encounters: %w", err)
	}
	defer rows.Close()
	list := []*huella.Encounter{}
	for rows.Next() {
		var e huella.Encounter
		var captured, created int64
		var biographics, offence []byte
		if err := rows.Scan(&e.ID, &e.SubjectID, &e.SiteCode, &captured, &e.Officer, &e.Reason, &e.CriminalHistory.Status,
			&offence, &e.Purpose, &biographics, &e.OriginalRef, &created); err != nil {
			return nil, fmt.Errorf("sqlite: encounters: %w", err)
		}
		biographics, err := huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "biographics"), biographics)
		if err != nil {
			return nil, fmt.Errorf("sqlite: encounter %s biographics: %w", e.ID, err)
		}
		if offence, err = huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "history_offence"), offence); err != nil {
			return nil, fmt.Errorf("sqlite: encounter %s criminal history: %w", e.ID, err)
		}
		e.CriminalHistory.Offence = string(offence)
		if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
			return nil, fmt.Errorf("sqlite: encounter %s biographics: %w", e.ID, err)
		}
		e.CapturedAt, e.CreatedAt = fromMicros(captured), fromMicros(created)
		list = append(list, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: encounters: %w", err)
	}
	return list, nil
}

// fillEncounters reads the SMTs and finger absences of the encounters, and
// their samples when withSamples, in one query each.
func fillEncounters(ctx context.Context, tx *sql.Tx, list []*huella.Encounter, withSamples bool) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*huella.Encounter, len(list))
	ids := make([]any, len(list))
	for i, e := range list {
		byID[e.ID], ids[i] = e, e.ID
	}
	in := `encounter_id IN (` + placeholders(len(ids)) + `)`
	if withSamples {
		samples, err := querySamples(ctx, tx, `WHERE `+in+` ORDER BY encounter_id, ordinal`, ids...)
		if err != nil {
			return err
		}
		for _, smp := range samples {
			e := byID[smp.encounter]
			e.Samples = append(e.Samples, smp.sample)
		}
	}
	idList := make([]string, len(list))
	for i, e := range list {
		idList[i] = e.ID
	}
	if err := sqlstore.FillIdentity(ctx, dialect{}, wrap(tx), byID, idList); err != nil {
		return err
	}
	if err := fillAbsences(ctx, tx, byID, in, ids); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT encounter_id, id, type, code, class, subclass, colors, description,
		sample_index, sample_id FROM smts WHERE `+in+` ORDER BY encounter_id, ordinal`, ids...)
	if err != nil {
		return fmt.Errorf("sqlite: smts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m huella.SMT
		var encounter, colors string
		var index sql.NullInt64
		var sampleID sql.NullString
		if err := rows.Scan(&encounter, &m.ID, &m.Type, &m.Code, &m.Class, &m.Subclass, &colors, &m.Description,
			&index, &sampleID); err != nil {
			return fmt.Errorf("sqlite: smts: %w", err)
		}
		if err := json.Unmarshal([]byte(colors), &m.Colors); err != nil {
			return fmt.Errorf("sqlite: smt %s colours: %w", m.ID, err)
		}
		m.Colors = sqlstore.NilIfEmpty(m.Colors)
		if index.Valid {
			i := int(index.Int64)
			m.SampleIndex = &i
		}
		m.SampleID = sampleID.String
		e := byID[encounter]
		e.SMTs = append(e.SMTs, &m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: smts: %w", err)
	}
	return nil
}

// fillAbsences reads the finger absences of the encounters in byID, whose
// IDs the condition in selects.
func fillAbsences(ctx context.Context, tx *sql.Tx, byID map[string]*huella.Encounter, in string, ids []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT encounter_id, position, reason FROM finger_absences
		WHERE `+in+` ORDER BY encounter_id, ordinal`, ids...)
	if err != nil {
		return fmt.Errorf("sqlite: finger absences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter string
		var a huella.FingerAbsence
		if err := rows.Scan(&encounter, &a.Position, &a.Reason); err != nil {
			return fmt.Errorf("sqlite: finger absences: %w", err)
		}
		e := byID[encounter]
		e.FingerAbsences = append(e.FingerAbsences, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: finger absences: %w", err)
	}
	return nil
}

// storedSample is a sample with the encounter it belongs to.
type storedSample struct {
	encounter string
	sample    *huella.Sample
}

func querySamples(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]storedSample, error) {
	rows, err := tx.QueryContext(ctx, `SELECT encounter_id, id, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality FROM samples `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: samples: %w", err)
	}
	defer rows.Close()
	var list []storedSample
	for rows.Next() {
		var smp huella.Sample
		var encounter string
		var quality sql.NullInt64
		if err := rows.Scan(&encounter, &smp.ID, &smp.Modality, &smp.Position, &smp.Impression, &smp.Eye, &smp.ImageRef,
			&smp.Format, &smp.Width, &smp.Height, &smp.PPI, &smp.Device, &quality); err != nil {
			return nil, fmt.Errorf("sqlite: samples: %w", err)
		}
		if quality.Valid {
			q := int(quality.Int64)
			smp.Quality = &q
		}
		list = append(list, storedSample{encounter, &smp})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: samples: %w", err)
	}
	return list, nil
}
