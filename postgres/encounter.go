package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
	"github.com/jackc/pgx/v5"
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
		return fmt.Errorf("postgres: create encounter: %w", err)
	}
	ids := newEncounterIDs(e, now)
	capturedAt := stored(e.CapturedAt)
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// One round trip: the checks, then the inserts. When a check
		// fails the inserts fail too (foreign keys) and the transaction
		// rolls back; the check names the error.
		c, err := s.sealing(ctx, tx)
		if err != nil {
			return err
		}
		sealedBiographics, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "biographics"), biographics)
		if err != nil {
			return fmt.Errorf("postgres: seal biographics: %w", err)
		}
		offence, err := c.Seal(huella.FieldAAD("encounter", ids.encounter, "history_offence"), []byte(e.CriminalHistory.Offence))
		if err != nil {
			return fmt.Errorf("postgres: seal criminal history: %w", err)
		}
		batch := &pgx.Batch{}
		batch.Queue(`SELECT EXISTS (SELECT 1 FROM sites WHERE code = $1), EXISTS (SELECT 1 FROM subjects WHERE id = $2)`,
			e.SiteCode, e.SubjectID)
		if e.SubjectID == "" {
			batch.Queue(`INSERT INTO subjects (id, created_at) VALUES ($1, $2)`, ids.subject, now)
		}
		batch.Queue(`INSERT INTO encounters (id, subject_id, site_code, captured_at, officer, reason,
			history_status, history_offence, purpose, nationality, biographics, original_ref, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			ids.encounter, ids.subject, e.SiteCode, capturedAt, e.Officer, string(e.Reason),
			string(e.CriminalHistory.Status), offence, string(e.Purpose), e.Biographics.Nationality,
			sealedBiographics, e.OriginalRef, now)
		queueSamples(batch, ids, e.Samples)
		queueSMTs(batch, ids, e.SMTs)
		queueIndex(batch, c, ids.encounter, &e.Biographics)
		queueAbsences(batch, ids, e.FingerAbsences)
		results := tx.SendBatch(ctx, batch)
		var siteFound, subjectFound bool
		err = results.QueryRow().Scan(&siteFound, &subjectFound)
		switch {
		case err != nil:
			results.Close()
			return fmt.Errorf("postgres: create encounter: %w", err)
		case !siteFound:
			results.Close()
			return huella.Errorf(huella.EINVALID, "unknown site %s", e.SiteCode)
		case e.SubjectID != "" && !subjectFound:
			results.Close()
			return huella.Errorf(huella.ENOTFOUND, "subject %s not found", e.SubjectID)
		}
		if err := results.Close(); err != nil {
			return fmt.Errorf("postgres: create encounter: %w", err)
		}
		if err := insertIdentity(ctx, tx, c, e, ids, now); err != nil {
			return err
		}
		if k := e.Idempotency; k != nil {
			tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (officer, key, digest, encounter_id) VALUES ($1, $2, $3, $4)
				ON CONFLICT (officer, key) DO NOTHING`, e.Officer, k.Key, k.Digest, ids.encounter)
			if err != nil {
				return fmt.Errorf("postgres: create idempotency key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return huella.Errorf(huella.ECONFLICT, "the Idempotency-Key was used before")
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
func (ids encounterIDs) sampleID(m *huella.SMT) *string {
	if m.SampleIndex == nil {
		return nil
	}
	return &ids.samples[*m.SampleIndex]
}

func (ids encounterIDs) apply(e *huella.Encounter) {
	e.ID, e.SubjectID = ids.encounter, ids.subject
	for i, smp := range e.Samples {
		smp.ID = ids.samples[i]
	}
	for i, m := range e.SMTs {
		m.ID, m.SampleID = ids.smts[i], ""
		if id := ids.sampleID(m); id != nil {
			m.SampleID = *id
		}
	}
}

func queueSamples(batch *pgx.Batch, ids encounterIDs, samples []*huella.Sample) {
	const columns = 14
	args := make([]any, 0, columns*len(samples))
	for i, smp := range samples {
		args = append(args, ids.samples[i], ids.encounter, i, string(smp.Modality), smp.Position, string(smp.Impression),
			string(smp.Eye), smp.ImageRef, smp.Format, smp.Width, smp.Height, smp.PPI, smp.Device, smp.Quality)
	}
	batch.Queue(`INSERT INTO samples (id, encounter_id, ordinal, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality) VALUES `+rowsOf(columns, len(samples)), args...)
}

func queueSMTs(batch *pgx.Batch, ids encounterIDs, smts []*huella.SMT) {
	if len(smts) == 0 {
		return
	}
	const columns = 11
	args := make([]any, 0, columns*len(smts))
	for i, m := range smts {
		args = append(args, ids.smts[i], ids.encounter, i, string(m.Type), m.Code, m.Class, m.Subclass,
			sqlstore.NonNil(m.Colors), m.Description, m.SampleIndex, ids.sampleID(m))
	}
	batch.Queue(`INSERT INTO smts (id, encounter_id, ordinal, type, code, class, subclass, colors, description,
		sample_index, sample_id) VALUES `+rowsOf(columns, len(smts)), args...)
}

func queueAbsences(batch *pgx.Batch, ids encounterIDs, absences []huella.FingerAbsence) {
	if len(absences) == 0 {
		return
	}
	const columns = 4
	args := make([]any, 0, columns*len(absences))
	for i, a := range absences {
		args = append(args, ids.encounter, a.Position, i, string(a.Reason))
	}
	batch.Queue(`INSERT INTO finger_absences (encounter_id, position, ordinal, reason) VALUES `+rowsOf(columns, len(absences)), args...)
}

// rowsOf returns "($1, $2), ($3, $4)" for n rows of the given number of columns.
func rowsOf(columns, n int) string {
	var b strings.Builder
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range columns {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r*columns+c+1)
		}
		b.WriteByte(')')
	}
	return b.String()
}

const encounterColumns = `e.id, e.subject_id, e.site_code, e.captured_at, e.officer, e.reason, e.history_status,
	e.history_offence, e.purpose, e.biographics, e.original_ref, e.created_at`

// FindEncounter returns the encounter with its samples and SMTs, or ENOTFOUND.
func (s *Store) FindEncounter(ctx context.Context, id string) (*huella.Encounter, error) {
	var list []*huella.Encounter
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var err error
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = $1`, id)
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
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx, `SELECT encounter_id, digest FROM idempotency_keys WHERE officer = $1 AND key = $2`, officer, key).Scan(&id, &digest)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("postgres: find idempotency key: %w", err)
		}
		if list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = $1`, id); err != nil {
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
	where, args := filterWhere(s.fields(), f)
	args = append(args, limit, f.Offset)
	query := fmt.Sprintf(`SELECT %s FROM encounters e %s ORDER BY e.captured_at DESC, e.id DESC LIMIT $%d OFFSET $%d`,
		encounterColumns, where, len(args)-1, len(args))
	var list []*huella.Encounter
	err = s.inReadTx(ctx, func(tx pgx.Tx) error {
		var err error
		if list, err = queryEncounters(ctx, tx, s.fields(), query, args...); err != nil {
			return err
		}
		return fillEncounters(ctx, tx, list, true)
	})
	return list, err
}

// FindSubject returns the subject with its encounters, oldest first, or ENOTFOUND.
func (s *Store) FindSubject(ctx context.Context, id string) (*huella.Subject, error) {
	var subject huella.Subject
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var merged *string
		err := tx.QueryRow(ctx, `SELECT id, created_at, merged_into FROM subjects WHERE id = $1`, id).Scan(&subject.ID, &subject.CreatedAt, &merged)
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "subject %s not found", id)
		} else if err != nil {
			return fmt.Errorf("postgres: find subject: %w", err)
		}
		subject.CreatedAt = subject.CreatedAt.UTC()
		if merged != nil {
			subject.MergedInto = *merged
		}
		subject.Encounters, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e
			WHERE e.subject_id = $1 OR e.subject_id IN (SELECT id FROM subjects WHERE merged_into = $1)
			ORDER BY e.captured_at, e.id`, id)
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
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		samples, err := querySamples(ctx, tx, `WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if len(samples) == 0 {
			return huella.Errorf(huella.ENOTFOUND, "sample %s not found", id)
		}
		sample = samples[0].sample
		list, err = queryEncounters(ctx, tx, s.fields(), `SELECT `+encounterColumns+` FROM encounters e WHERE e.id = $1`, samples[0].encounter)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("postgres: sample %s: encounter %s missing", id, samples[0].encounter)
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
// trigger keeps (a few rows per site and day); others group the matching
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
		where, args = countsWhere(f)
		query = `SELECT site_code, nationality, day, sum(n) FROM encounter_counts ` + where + `
			GROUP BY 1, 2, 3 HAVING sum(n) > 0`
	} else {
		var where string
		where, args = filterWhere(s.fields(), f)
		query = `SELECT e.site_code, e.nationality, encounter_day(e.captured_at), count(*)
			FROM encounters e ` + where + ` GROUP BY 1, 2, 3`
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: encounter stats: %w", err)
	}
	defer rows.Close()
	stats := &huella.EncounterStats{BySite: map[string]int{}, ByNationality: map[string]int{}, ByMonth: map[string]int{}}
	months := make(map[int64]string)
	for rows.Next() {
		var site, nationality string
		var day int64
		var n int
		if err := rows.Scan(&site, &nationality, &day, &n); err != nil {
			return nil, fmt.Errorf("postgres: encounter stats: %w", err)
		}
		month, ok := months[day]
		if !ok {
			month = time.Unix(day*secondsPerDay, 0).UTC().Format("2006-01")
			months[day] = month
		}
		stats.Total += n
		stats.BySite[site] += n
		stats.ByNationality[nationality] += n
		stats.ByMonth[month] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: encounter stats: %w", err)
	}
	return stats, nil
}

// secondsPerDay divides time into UTC days, as encounter_day does
// (migration 0004).
const secondsPerDay = 24 * 60 * 60

// isDay reports whether t is zero or a UTC midnight.
func isDay(t time.Time) bool {
	return t.IsZero() || t.Equal(t.UTC().Truncate(secondsPerDay*time.Second))
}

// countsWhere returns the WHERE clause (or "") selecting the filter's rows
// of encounter_counts, and its arguments; From and To are whole days.
func countsWhere(f huella.EncounterFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Sites != nil {
		add(`site_code = ANY ($%d)`, f.Sites)
	}
	if !f.From.IsZero() {
		add(`day >= $%d`, f.From.Unix()/secondsPerDay)
	}
	if !f.To.IsZero() {
		add(`day < $%d`, f.To.Unix()/secondsPerDay)
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
// encounters, aliased e, and its arguments ($1, $2…).
func filterWhere(c huella.FieldCipher, f huella.EncounterFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Sites != nil {
		add(`e.site_code = ANY ($%d)`, f.Sites)
	}
	if f.SubjectID != "" {
		add(`e.subject_id = $%d`, f.SubjectID)
	}
	if !f.From.IsZero() {
		add(`e.captured_at >= $%d`, stored(f.From))
	}
	if !f.To.IsZero() {
		add(`e.captured_at < $%d`, stored(f.To))
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
			args = append(args, c.Token("name", w))
			where = append(where, fmt.Sprintf(`%s.word = $%d`, t, len(args)))
		}
		conds = append(conds, `e.id IN (SELECT w0.encounter_id FROM `+strings.Join(from, " ")+` WHERE `+strings.Join(where, " AND ")+`)`)
	}
	if f.Document != "" {
		add(`e.id IN (SELECT encounter_id FROM encounter_documents WHERE number = $%d)`, c.Token("document", huella.DocumentKey(f.Document)))
	}
	if f.After != nil { // newest first
		args = append(args, stored(f.After.At), f.After.ID)
		conds = append(conds, fmt.Sprintf(`(e.captured_at, e.id) < ($%d, $%d)`, len(args)-1, len(args)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// queueIndex queues the inserts of the encounter's search terms
// (huella.SearchTerms) for EncounterFilter's Name and Document, as
// blind-index tokens: one for every prefix of every word of a name
// (nameTokens), one per document.
func queueIndex(batch *pgx.Batch, c huella.FieldCipher, id string, b *huella.Biographics) {
	words, documents := huella.SearchTerms(b)
	seen := make(map[string]bool)
	var nameNos []int
	var tokens [][]byte
	for _, w := range words {
		for _, t := range huella.NameTokens(c, w.Word) {
			key := fmt.Sprint(w.NameNo, string(t))
			if seen[key] {
				continue
			}
			seen[key] = true
			nameNos, tokens = append(nameNos, w.NameNo), append(tokens, t)
		}
	}
	if len(tokens) > 0 {
		// One statement for every token (a name of four words has about 20).
		batch.Queue(`INSERT INTO encounter_name_words (encounter_id, name_no, word) SELECT $1, * FROM unnest($2::integer[], $3::bytea[])`,
			id, nameNos, tokens)
	}
	for _, k := range documents {
		batch.Queue(`INSERT INTO encounter_documents (encounter_id, number) VALUES ($1, $2)`, id, c.Token("document", k))
	}
}

func queryEncounters(ctx context.Context, tx pgx.Tx, c huella.FieldCipher, query string, args ...any) ([]*huella.Encounter, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: encounters: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Encounter, error) {
		var e huella.Encounter
		var biographics, offence []byte
		if err := row.Scan(&e.ID, &e.SubjectID, &e.SiteCode, &e.CapturedAt, &e.Officer, &e.Reason, &e.CriminalHistory.Status,
			&offence, &e.Purpose, &biographics, &e.OriginalRef, &e.CreatedAt); err != nil {
			return nil, err
		}
		biographics, err := huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "biographics"), biographics)
		if err != nil {
			return nil, fmt.Errorf("encounter %s biographics: %w", e.ID, err)
		}
		if offence, err = huella.OpenField(c, huella.FieldAAD("encounter", e.ID, "history_offence"), offence); err != nil {
			return nil, fmt.Errorf("encounter %s criminal history: %w", e.ID, err)
		}
		e.CriminalHistory.Offence = string(offence)
		if err := json.Unmarshal(biographics, &e.Biographics); err != nil {
			return nil, fmt.Errorf("encounter %s biographics: %w", e.ID, err)
		}
		e.CapturedAt, e.CreatedAt = e.CapturedAt.UTC(), e.CreatedAt.UTC()
		return &e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: encounters: %w", err)
	}
	return list, nil
}

// fillEncounters reads the SMTs and finger absences of the encounters, and
// their samples when withSamples, in one query each.
func fillEncounters(ctx context.Context, tx pgx.Tx, list []*huella.Encounter, withSamples bool) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*huella.Encounter, len(list))
	ids := make([]string, len(list))
	for i, e := range list {
		byID[e.ID], ids[i] = e, e.ID
	}
	if withSamples {
		samples, err := querySamples(ctx, tx, `WHERE encounter_id = ANY ($1) ORDER BY encounter_id, ordinal`, ids)
		if err != nil {
			return err
		}
		for _, smp := range samples {
			e := byID[smp.encounter]
			e.Samples = append(e.Samples, smp.sample)
		}
	}
	if err := sqlstore.FillIdentity(ctx, dialect{}, wrap(tx), byID, ids); err != nil {
		return err
	}
	if err := fillAbsences(ctx, tx, byID, ids); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT encounter_id, id, type, code, class, subclass, colors, description,
		sample_index, sample_id FROM smts WHERE encounter_id = ANY ($1) ORDER BY encounter_id, ordinal`, ids)
	if err != nil {
		return fmt.Errorf("postgres: smts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m huella.SMT
		var encounter string
		var sampleID *string
		if err := rows.Scan(&encounter, &m.ID, &m.Type, &m.Code, &m.Class, &m.Subclass, &m.Colors, &m.Description,
			&m.SampleIndex, &sampleID); err != nil {
			return fmt.Errorf("postgres: smts: %w", err)
		}
		m.Colors = sqlstore.NilIfEmpty(m.Colors)
		if sampleID != nil {
			m.SampleID = *sampleID
		}
		e := byID[encounter]
		e.SMTs = append(e.SMTs, &m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: smts: %w", err)
	}
	return nil
}

// fillAbsences reads the finger absences of the encounters in byID.
func fillAbsences(ctx context.Context, tx pgx.Tx, byID map[string]*huella.Encounter, ids []string) error {
	rows, err := tx.Query(ctx, `SELECT encounter_id, position, reason FROM finger_absences
		WHERE encounter_id = ANY ($1) ORDER BY encounter_id, ordinal`, ids)
	if err != nil {
		return fmt.Errorf("postgres: finger absences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var encounter string
		var a huella.FingerAbsence
		if err := rows.Scan(&encounter, &a.Position, &a.Reason); err != nil {
			return fmt.Errorf("postgres: finger absences: %w", err)
		}
		e := byID[encounter]
		e.FingerAbsences = append(e.FingerAbsences, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: finger absences: %w", err)
	}
	return nil
}

// storedSample is a sample with the encounter it belongs to.
type storedSample struct {
	encounter string
	sample    *huella.Sample
}

func querySamples(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]storedSample, error) {
	rows, err := tx.Query(ctx, `SELECT encounter_id, id, modality, position, impression, eye, image_ref, format,
		width, height, ppi, device, quality FROM samples `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: samples: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storedSample, error) {
		var smp huella.Sample
		var encounter string
		err := row.Scan(&encounter, &smp.ID, &smp.Modality, &smp.Position, &smp.Impression, &smp.Eye, &smp.ImageRef,
			&smp.Format, &smp.Width, &smp.Height, &smp.PPI, &smp.Device, &smp.Quality)
		return storedSample{encounter, &smp}, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: samples: %w", err)
	}
	return list, nil
}
