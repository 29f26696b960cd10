package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

var _ huella.ForwardStore = (*Store)(nil)

// Limits of ListDeliveries and PendingDeliveries.
const (
	defaultDeliveryLimit = 100
	maxDeliveryLimit     = 1000
)

// CreatePartner stores a new partner and sets CreatedAt and UpdatedAt.
func (s *Store) CreatePartner(ctx context.Context, p *huella.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := s.now()
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO partners (code, name, endpoint, format, ca_file, client_cert_file,
			client_key_file, key_id, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Code, p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID,
			p.Disabled, s.d.Time(now), s.d.Time(now))
		if s.d.IsUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "partner %s exists", p.Code)
		} else if err != nil {
			return s.errorf("create partner", err)
		}
		return s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionPartnerCreate, "partner/"+p.Code, ""), now)
	})
	if err == nil {
		p.CreatedAt, p.UpdatedAt = now, now
	}
	return err
}

// UpdatePartner replaces the partner's settings and sets UpdatedAt.
func (s *Store) UpdatePartner(ctx context.Context, p *huella.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := s.now()
	var created time.Time
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		err := tx.QueryRow(ctx, `UPDATE partners SET name = ?, endpoint = ?, format = ?, ca_file = ?,
			client_cert_file = ?, client_key_file = ?, key_id = ?, disabled = ?, updated_at = ? WHERE code = ?
			RETURNING created_at`,
			p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID, p.Disabled,
			s.d.Time(now), p.Code).Scan(s.d.ScanTime(&created, false))
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "partner %s not found", p.Code)
		} else if err != nil {
			return s.errorf("update partner", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionPartnerUpdate, "partner/"+p.Code, "")
		event.Detail = p.AuditDetail()
		return s.appendAudit(ctx, tx, event, now)
	})
	if err == nil {
		p.CreatedAt, p.UpdatedAt = created, now
	}
	return err
}

const partnerColumns = `code, name, endpoint, format, ca_file, client_cert_file, client_key_file, key_id, disabled, created_at, updated_at`

// FindPartner returns the partner with the code, or ENOTFOUND.
func (s *Store) FindPartner(ctx context.Context, code string) (*huella.Partner, error) {
	list, err := s.queryPartners(ctx, `WHERE code = ?`, code)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "partner %s not found", code)
	}
	return list[0], nil
}

// ListPartners returns every partner, by code (in byte order).
func (s *Store) ListPartners(ctx context.Context) ([]*huella.Partner, error) {
	return s.queryPartners(ctx, `ORDER BY code`+s.d.ByteOrder())
}

func (s *Store) queryPartners(ctx context.Context, where string, args ...any) ([]*huella.Partner, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+partnerColumns+` FROM partners `+where, args...)
	if err != nil {
		return nil, s.errorf("partners", err)
	}
	defer rows.Close()
	list := []*huella.Partner{}
	for rows.Next() {
		var p huella.Partner
		if err := rows.Scan(&p.Code, &p.Name, &p.Endpoint, &p.Format, &p.CAFile, &p.ClientCertFile, &p.ClientKeyFile,
			&p.KeyID, &p.Disabled, s.d.ScanTime(&p.CreatedAt, false), s.d.ScanTime(&p.UpdatedAt, false)); err != nil {
			return nil, s.errorf("partners", err)
		}
		list = append(list, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("partners", err)
	}
	return list, nil
}

// CreateAgreement stores a new active agreement and sets ID and CreatedAt.
func (s *Store) CreateAgreement(ctx context.Context, a *huella.Agreement) error {
	if err := a.Validate(); err != nil {
		return err
	}
	now := s.now()
	id := huella.NewID("agr_", now)
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM partners WHERE code = ?`, a.Partner).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.EINVALID, "unknown partner %s", a.Partner)
		} else if err != nil {
			return s.errorf("create agreement", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agreements (id, partner_code, triggers, categories, modalities, fields,
			legal_basis, require_ack, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, true, ?)`,
			id, a.Partner, s.d.Strings(toStrings(a.Triggers)), s.d.Strings(a.Categories), s.d.Strings(toStrings(a.Modalities)),
			s.d.Strings(toStrings(a.Fields)), a.LegalBasis, a.RequireAck, s.d.Time(now)); err != nil {
			return s.errorf("create agreement", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionAgreementCreate, "agreement/"+id, "")
		event.Detail = a.AuditDetail()
		return s.appendAudit(ctx, tx, event, now)
	})
	if err == nil {
		a.ID, a.CreatedAt, a.Active, a.RevokedAt = id, now, true, nil
	}
	return err
}

// toStrings converts a list of string kinds to []string.
func toStrings[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// fromStrings converts []string to a list of string kinds.
func fromStrings[T ~string](list []string) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = T(v)
	}
	return out
}

// RevokeAgreement deactivates the agreement and parks its undelivered
// deliveries.
func (s *Store) RevokeAgreement(ctx context.Context, id string) error {
	now := s.now()
	return s.db.InWriteTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `UPDATE agreements SET active = false, revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, s.d.Time(now), id)
		if err != nil {
			return s.errorf("revoke agreement", err)
		}
		if n == 0 {
			return huella.Errorf(huella.ENOTFOUND, "agreement %s not found", id)
		}
		parked, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'agreement revoked', updated_at = ?
			WHERE agreement_id = ? AND state IN ('pending', 'published')`, s.d.Time(now), id)
		if err != nil {
			return s.errorf("revoke agreement", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionAgreementRevoke, "agreement/"+id, "")
		event.Detail = huella.RevocationDetail(parked)
		return s.appendAudit(ctx, tx, event, now)
	})
}

const agreementColumns = `id, partner_code, triggers, categories, modalities, fields, legal_basis, require_ack, active, created_at, revoked_at`

// FindAgreement returns the agreement, or ENOTFOUND.
func (s *Store) FindAgreement(ctx context.Context, id string) (*huella.Agreement, error) {
	list, err := queryAgreements(ctx, s.d, s.db.Read(), `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "agreement %s not found", id)
	}
	return list[0], nil
}

// ListAgreements returns the partner's agreements ("" for all), oldest first.
func (s *Store) ListAgreements(ctx context.Context, partner string) ([]*huella.Agreement, error) {
	if partner == "" {
		return queryAgreements(ctx, s.d, s.db.Read(), `ORDER BY created_at, id`)
	}
	return queryAgreements(ctx, s.d, s.db.Read(), `WHERE partner_code = ? ORDER BY created_at, id`, partner)
}

func queryAgreements(ctx context.Context, d Dialect, q Querier, where string, args ...any) ([]*huella.Agreement, error) {
	rows, err := q.Query(ctx, `SELECT `+agreementColumns+` FROM agreements `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: agreements: %w", d.Name(), err)
	}
	defer rows.Close()
	list := []*huella.Agreement{}
	for rows.Next() {
		var a huella.Agreement
		var triggers, categories, modalities, fields []string
		var revoked time.Time
		if err := rows.Scan(&a.ID, &a.Partner, d.ScanStrings(&triggers), d.ScanStrings(&categories), d.ScanStrings(&modalities),
			d.ScanStrings(&fields), &a.LegalBasis, &a.RequireAck, &a.Active, d.ScanTime(&a.CreatedAt, false),
			d.ScanTime(&revoked, true)); err != nil {
			return nil, fmt.Errorf("%s: agreements: %w", d.Name(), err)
		}
		a.Triggers, a.Categories = fromStrings[huella.Trigger](triggers), nilIfEmpty(categories)
		a.Modalities, a.Fields = fromStrings[huella.Modality](modalities), fromStrings[huella.Field](fields)
		a.RevokedAt = optional(revoked)
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: agreements: %w", d.Name(), err)
	}
	return list, nil
}

// optional returns nil for the zero time, else &t.
func optional(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// planDeliveries inserts, inside the caller's transaction, the deliveries
// the event calls for under the active agreements, each with its audit
// event, and returns them. It is the one place where a decision becomes
// deliveries, so that both are committed together or not at all.
func planDeliveries(ctx context.Context, d Dialect, tx Tx, ev *huella.TriggerEvent, now time.Time) ([]*huella.Delivery, error) {
	has, arg := d.ListHas("triggers", string(ev.Kind))
	agreements, err := queryAgreements(ctx, d, tx, `WHERE active AND `+has, arg)
	if err != nil || len(agreements) == 0 {
		return nil, err
	}
	codes := func(query string, args ...any) (map[string]bool, error) {
		list, err := queryStrings(ctx, tx, query, args...)
		set := make(map[string]bool, len(list))
		for _, c := range list {
			set[c] = true
		}
		return set, err
	}
	disabled, err := codes(`SELECT code FROM partners WHERE disabled`)
	if err != nil {
		return nil, fmt.Errorf("%s: plan deliveries: %w", d.Name(), err)
	}
	forwarded := map[string]bool{}
	if ev.Kind == huella.TriggerDuplicate {
		if forwarded, err = codes(`SELECT DISTINCT partner_code FROM deliveries WHERE subject_id = ? AND state = 'delivered'`, ev.SubjectID); err != nil {
			return nil, fmt.Errorf("%s: plan deliveries: %w", d.Name(), err)
		}
	}
	planned := huella.PlanDeliveries(ev, agreements, disabled, forwarded, now)
	if len(planned) == 0 {
		return nil, nil
	}
	batch := make([]Statement, 0, len(planned))
	for _, dv := range planned {
		batch = append(batch, Statement{Query: `INSERT INTO deliveries (id, partner_code, agreement_id, trigger_kind, confirmation_id,
			category, subject_id, encounter_id, site_code, state, attempts, last_error, receipt, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', ?, ?)`,
			Args: []any{dv.ID, dv.Partner, dv.AgreementID, string(dv.Trigger), dv.ConfirmationID, dv.Category, dv.SubjectID,
				dv.EncounterID, dv.Site, string(dv.State), d.Time(now), d.Time(now)}})
	}
	if err := tx.ExecBatch(ctx, batch); err != nil {
		return nil, fmt.Errorf("%s: plan deliveries: %w", d.Name(), err)
	}
	for _, dv := range planned {
		event := huella.NewAuditEvent(ctx, huella.ActionDeliveryPlan, "delivery/"+dv.ID, dv.Site)
		event.Detail = dv.PlanDetail()
		if err := AppendAudit(ctx, d, tx, event, now); err != nil {
			return nil, err
		}
	}
	return planned, nil
}

// planEncounterDeliveries plans, inside CreateEncounter's transaction, the
// deliveries of an encounter that declares a conviction.
func planEncounterDeliveries(ctx context.Context, d Dialect, tx Tx, e *huella.Encounter, subjectID, encounterID string, now time.Time) error {
	ev := e.ConvictionTrigger(subjectID, encounterID)
	if ev == nil {
		return nil
	}
	_, err := planDeliveries(ctx, d, tx, ev, now)
	return err
}

// ConfirmForForwarding records the confirmation and plans its deliveries
// in one transaction.
func (s *Store) ConfirmForForwarding(ctx context.Context, c *huella.Confirmation) ([]*huella.Delivery, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	var planned []*huella.Delivery
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var err error
		planned, err = confirmInTx(ctx, s.d, tx, c, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return planned, nil
}

// confirmInTx records a confirmation and plans its deliveries in tx; it
// sets the confirmation's ID, Examiner and CreatedAt. DecideHit calls it in
// the transaction of the examiner's decision.
func confirmInTx(ctx context.Context, d Dialect, tx Tx, c *huella.Confirmation, now time.Time) ([]*huella.Delivery, error) {
	id := huella.NewID("cnf_", now)
	examiner := huella.ActorID(ctx)
	var site string
	err := tx.QueryRow(ctx, `SELECT site_code FROM encounters WHERE id = ?`, c.EncounterID).Scan(&site)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "encounter %s not found", c.EncounterID)
	} else if err != nil {
		return nil, fmt.Errorf("%s: confirm: %w", d.Name(), err)
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM subjects WHERE id = ?`, c.SubjectID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", c.SubjectID)
	} else if err != nil {
		return nil, fmt.Errorf("%s: confirm: %w", d.Name(), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO confirmations (id, kind, hit_id, category, subject_id, encounter_id,
		examiner, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, string(c.Kind), c.HitID, c.Category, c.SubjectID, c.EncounterID, examiner, c.Reason, d.Time(now)); err != nil {
		return nil, fmt.Errorf("%s: confirm: %w", d.Name(), err)
	}
	event := huella.NewAuditEvent(ctx, huella.ActionConfirmationCreate, "confirmation/"+id, site)
	event.Detail = c.AuditDetail()
	if err := AppendAudit(ctx, d, tx, event, now); err != nil {
		return nil, err
	}
	planned, err := planDeliveries(ctx, d, tx, &huella.TriggerEvent{Kind: c.Kind, SubjectID: c.SubjectID,
		EncounterID: c.EncounterID, Site: site, Category: c.Category, ConfirmationID: id}, now)
	if err != nil {
		return nil, err
	}
	c.ID, c.Examiner, c.CreatedAt = id, examiner, now
	if planned == nil {
		planned = []*huella.Delivery{}
	}
	return planned, nil
}

const deliveryColumns = `id, partner_code, agreement_id, trigger_kind, confirmation_id, category, subject_id, encounter_id,
	site_code, state, attempts, last_error, receipt, created_at, updated_at, published_at, delivered_at`

// FindDelivery returns the delivery, or ENOTFOUND.
func (s *Store) FindDelivery(ctx context.Context, id string) (*huella.Delivery, error) {
	list, err := s.queryDeliveries(ctx, s.db.Read(), `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "delivery %s not found", id)
	}
	return list[0], nil
}

// ListDeliveries returns the deliveries matching the filter, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f huella.DeliveryFilter) ([]*huella.Delivery, error) {
	limit, err := pageLimit(f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.Partner != "" {
		where, args = append(where, "partner_code = ?"), append(args, f.Partner)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if f.SubjectID != "" {
		where, args = append(where, "subject_id = ?"), append(args, f.SubjectID)
	}
	if f.After != nil { // newest first
		where, args = append(where, "(created_at, id) < (?, ?)"), append(args, s.d.Time(stored(f.After.At)), f.After.ID)
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit, f.Offset)
	return s.queryDeliveries(ctx, s.db.Read(), clause+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, args...)
}

// pageLimit returns the page size for limit (0: the default; at most
// the maximum), or EINVALID for a negative limit or offset.
func pageLimit(limit, offset int) (int, error) {
	switch {
	case limit < 0 || offset < 0:
		return 0, huella.Errorf(huella.EINVALID, "limit and offset must not be negative")
	case limit == 0:
		return defaultDeliveryLimit, nil
	case limit > maxDeliveryLimit:
		return maxDeliveryLimit, nil
	}
	return limit, nil
}

// PendingDeliveries returns up to limit pending deliveries, oldest first.
func (s *Store) PendingDeliveries(ctx context.Context, limit int) ([]*huella.Delivery, error) {
	limit, err := pageLimit(limit, 0)
	if err != nil {
		return nil, err
	}
	return s.queryDeliveries(ctx, s.db.Read(), `WHERE state = 'pending' ORDER BY updated_at, id LIMIT ?`, limit)
}

func (s *Store) queryDeliveries(ctx context.Context, q Querier, where string, args ...any) ([]*huella.Delivery, error) {
	rows, err := q.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+where, args...)
	if err != nil {
		return nil, s.errorf("deliveries", err)
	}
	defer rows.Close()
	list := []*huella.Delivery{}
	for rows.Next() {
		var d huella.Delivery
		var published, delivered time.Time
		if err := rows.Scan(&d.ID, &d.Partner, &d.AgreementID, &d.Trigger, &d.ConfirmationID, &d.Category, &d.SubjectID,
			&d.EncounterID, &d.Site, &d.State, &d.Attempts, &d.LastError, &d.Receipt, s.d.ScanTime(&d.CreatedAt, false),
			s.d.ScanTime(&d.UpdatedAt, false), s.d.ScanTime(&published, true), s.d.ScanTime(&delivered, true)); err != nil {
			return nil, s.errorf("deliveries", err)
		}
		d.PublishedAt, d.DeliveredAt = optional(published), optional(delivered)
		list = append(list, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("deliveries", err)
	}
	return list, nil
}

// MarkPublished moves the pending deliveries among ids to published. It is
// not audited: publishing moves no data out; attempts are.
func (s *Store) MarkPublished(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.d.Time(s.now())
	args := append([]any{now, now}, Anys(ids)...)
	if _, err := s.db.Write().Exec(ctx, `UPDATE deliveries SET state = 'published', published_at = ?, updated_at = ?
		WHERE state = 'pending' AND id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
		return s.errorf("mark published", err)
	}
	return nil
}

// RequeueStale moves back to pending the published deliveries idle since
// before, auditing each. Rows another process holds are left to it.
func (s *Store) RequeueStale(ctx context.Context, before time.Time) (int, error) {
	now := s.now()
	var n int
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		stale, err := s.queryDeliveries(ctx, tx, `WHERE state = 'published' AND updated_at < ? ORDER BY updated_at LIMIT 1000`+
			s.d.Lock("UPDATE SKIP LOCKED"), s.d.Time(stored(before)))
		if err != nil {
			return err
		}
		for _, d := range stale {
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'pending', updated_at = ? WHERE id = ?`, s.d.Time(now), d.ID); err != nil {
				return s.errorf("requeue", err)
			}
			if err := s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionDeliveryRequeue, "delivery/"+d.ID, d.Site), now); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}

// RecordAttempt appends the attempt and moves the delivery to state. The
// delivery's row is locked, so that two workers cannot both settle it.
func (s *Store) RecordAttempt(ctx context.Context, a *huella.DeliveryAttempt, state huella.DeliveryState) (*huella.Delivery, error) {
	if state != huella.DeliveryPublished && !state.Final() {
		return nil, huella.Errorf(huella.EINVALID, "an attempt leaves a delivery published, delivered or dead")
	}
	now := s.now()
	if a.At.IsZero() {
		a.At = now
	}
	a.At = stored(a.At)
	var out *huella.Delivery
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		list, err := s.queryDeliveries(ctx, tx, `WHERE id = ?`+s.d.Lock("UPDATE"), a.DeliveryID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return huella.Errorf(huella.ENOTFOUND, "delivery %s not found", a.DeliveryID)
		}
		d := list[0]
		if d.State.Final() {
			return huella.Errorf(huella.ECONFLICT, "delivery %s is already %s", d.ID, d.State)
		}
		a.N = d.Attempts + 1
		d.Attempts, d.LastError, d.State, d.UpdatedAt = a.N, a.Error, state, now
		var delivered any
		if state == huella.DeliveryDelivered {
			d.Receipt, d.DeliveredAt, d.LastError = a.Receipt, &now, ""
			delivered = s.d.Time(now)
		}
		if err := tx.ExecBatch(ctx, []Statement{{
			Query: `INSERT INTO delivery_attempts (delivery_id, n, at, status, error, duration_us, receipt)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{d.ID, a.N, s.d.Time(a.At), a.Status, a.Error, a.Duration.Microseconds(), a.Receipt},
		}, {
			Query: `UPDATE deliveries SET attempts = ?, last_error = ?, receipt = ?, state = ?, updated_at = ?,
				delivered_at = ? WHERE id = ?`,
			Args: []any{d.Attempts, d.LastError, d.Receipt, string(d.State), s.d.Time(now), delivered, d.ID},
		}}); err != nil {
			return s.errorf("record attempt", err)
		}
		event := huella.NewAuditEvent(ctx, attemptAction(state), "delivery/"+d.ID, d.Site)
		event.Detail = d.AttemptDetail(a)
		out = d
		return s.appendAudit(ctx, tx, event, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attemptAction is the audit action of an attempt that leaves a delivery in state.
func attemptAction(state huella.DeliveryState) string {
	switch state {
	case huella.DeliveryDelivered:
		return huella.ActionDeliveryDeliver
	case huella.DeliveryDead:
		return huella.ActionDeliveryDeadLetter
	}
	return huella.ActionDeliveryAttempt
}

// ListDeliveryAttempts returns the delivery's attempts, in order.
func (s *Store) ListDeliveryAttempts(ctx context.Context, id string) ([]*huella.DeliveryAttempt, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT delivery_id, n, at, status, error, duration_us, receipt
		FROM delivery_attempts WHERE delivery_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, s.errorf("attempts", err)
	}
	defer rows.Close()
	list := []*huella.DeliveryAttempt{}
	for rows.Next() {
		var a huella.DeliveryAttempt
		var us int64
		if err := rows.Scan(&a.DeliveryID, &a.N, s.d.ScanTime(&a.At, false), &a.Status, &a.Error, &us, &a.Receipt); err != nil {
			return nil, s.errorf("attempts", err)
		}
		a.Duration = time.Duration(us) * time.Microsecond
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("attempts", err)
	}
	return list, nil
}

// queryStrings runs a query of one text column and returns its values.
func queryStrings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Anys returns the list as arguments of a query.
func Anys(list []string) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
