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
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO partners (code, name, endpoint, format, ca_file, client_cert_file,
			client_key_file, key_id, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Code, p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID,
			p.Disabled, micros(now), micros(now))
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "partner %s exists", p.Code)
		} else if err != nil {
			return fmt.Errorf("sqlite: create partner: %w", err)
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionPartnerCreate, "partner/"+p.Code, ""), now)
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
	var created int64
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE partners SET name = ?, endpoint = ?, format = ?, ca_file = ?,
			client_cert_file = ?, client_key_file = ?, key_id = ?, disabled = ?, updated_at = ? WHERE code = ?
			RETURNING created_at`,
			p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID, p.Disabled,
			micros(now), p.Code).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "partner %s not found", p.Code)
		} else if err != nil {
			return fmt.Errorf("sqlite: update partner: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionPartnerUpdate, "partner/"+p.Code, "")
		event.Detail = p.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err == nil {
		p.CreatedAt, p.UpdatedAt = fromMicros(created), now
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

// ListPartners returns every partner, by code.
func (s *Store) ListPartners(ctx context.Context) ([]*huella.Partner, error) {
	return s.queryPartners(ctx, `ORDER BY code`)
}

func (s *Store) queryPartners(ctx context.Context, where string, args ...any) ([]*huella.Partner, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+partnerColumns+` FROM partners `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: partners: %w", err)
	}
	defer rows.Close()
	list := []*huella.Partner{}
	for rows.Next() {
		var p huella.Partner
		var created, updated int64
		if err := rows.Scan(&p.Code, &p.Name, &p.Endpoint, &p.Format, &p.CAFile, &p.ClientCertFile, &p.ClientKeyFile,
			&p.KeyID, &p.Disabled, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: partners: %w", err)
		}
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		list = append(list, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: partners: %w", err)
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
	lists := make([]string, 4)
	for i, v := range []any{sqlstore.NonNil(a.Triggers), sqlstore.NonNil(a.Categories), sqlstore.NonNil(a.Modalities), sqlstore.NonNil(a.Fields)} {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("sqlite: create agreement: %w", err)
		}
		lists[i] = string(b)
	}
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM partners WHERE code = ?`, a.Partner).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.EINVALID, "unknown partner %s", a.Partner)
		} else if err != nil {
			return fmt.Errorf("sqlite: create agreement: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreements (id, partner_code, triggers, categories, modalities, fields,
			legal_basis, require_ack, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			id, a.Partner, lists[0], lists[1], lists[2], lists[3], a.LegalBasis, a.RequireAck, micros(now)); err != nil {
			return fmt.Errorf("sqlite: create agreement: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionAgreementCreate, "agreement/"+id, "")
		event.Detail = a.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err == nil {
		a.ID, a.CreatedAt, a.Active, a.RevokedAt = id, now, true, nil
	}
	return err
}

// RevokeAgreement deactivates the agreement and parks its undelivered
// deliveries.
func (s *Store) RevokeAgreement(ctx context.Context, id string) error {
	now := s.now()
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agreements SET active = 0, revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(now), id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke agreement: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return huella.Errorf(huella.ENOTFOUND, "agreement %s not found", id)
		}
		res, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'agreement revoked', updated_at = ?
			WHERE agreement_id = ? AND state IN ('pending', 'published')`, micros(now), id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke agreement: %w", err)
		}
		parked, _ := res.RowsAffected()
		event := huella.NewAuditEvent(ctx, huella.ActionAgreementRevoke, "agreement/"+id, "")
		event.Detail = huella.RevocationDetail(parked)
		return appendAudit(ctx, tx, event, now)
	})
}

const agreementColumns = `id, partner_code, triggers, categories, modalities, fields, legal_basis, require_ack, active, created_at, revoked_at`

// FindAgreement returns the agreement, or ENOTFOUND.
func (s *Store) FindAgreement(ctx context.Context, id string) (*huella.Agreement, error) {
	list, err := queryAgreements(ctx, s.read, `WHERE id = ?`, id)
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
		return queryAgreements(ctx, s.read, `ORDER BY created_at, id`)
	}
	return queryAgreements(ctx, s.read, `WHERE partner_code = ? ORDER BY created_at, id`, partner)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryAgreements(ctx context.Context, q querier, where string, args ...any) ([]*huella.Agreement, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+agreementColumns+` FROM agreements `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: agreements: %w", err)
	}
	defer rows.Close()
	list := []*huella.Agreement{}
	for rows.Next() {
		var a huella.Agreement
		var triggers, categories, modalities, fields string
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Partner, &triggers, &categories, &modalities, &fields, &a.LegalBasis,
			&a.RequireAck, &a.Active, &created, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: agreements: %w", err)
		}
		for _, p := range []struct {
			text string
			dst  any
		}{{triggers, &a.Triggers}, {categories, &a.Categories}, {modalities, &a.Modalities}, {fields, &a.Fields}} {
			if err := json.Unmarshal([]byte(p.text), p.dst); err != nil {
				return nil, fmt.Errorf("sqlite: agreements: %w", err)
			}
		}
		a.Categories = sqlstore.NilIfEmpty(a.Categories)
		a.CreatedAt = fromMicros(created)
		if revoked.Valid {
			t := fromMicros(revoked.Int64)
			a.RevokedAt = &t
		}
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: agreements: %w", err)
	}
	return list, nil
}

// planDeliveries inserts, inside the caller's transaction, the deliveries
// the event calls for under the active agreements, each with its audit
// event, and returns them. It is the one place where a decision becomes
// deliveries, so that both are committed together or not at all.
func planDeliveries(ctx context.Context, tx *sql.Tx, ev *huella.TriggerEvent, now time.Time) ([]*huella.Delivery, error) {
	agreements, err := queryAgreements(ctx, tx, `WHERE active = 1 AND triggers LIKE ?`, `%"`+string(ev.Kind)+`"%`)
	if err != nil || len(agreements) == 0 {
		return nil, err
	}
	disabled := make(map[string]bool)
	rows, err := tx.QueryContext(ctx, `SELECT code FROM partners WHERE disabled`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: plan deliveries: %w", err)
	}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: plan deliveries: %w", err)
		}
		disabled[code] = true
	}
	rows.Close()
	forwarded := make(map[string]bool)
	if ev.Kind == huella.TriggerDuplicate {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT partner_code FROM deliveries WHERE subject_id = ? AND state = 'delivered'`, ev.SubjectID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: plan deliveries: %w", err)
		}
		for rows.Next() {
			var code string
			if err := rows.Scan(&code); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: plan deliveries: %w", err)
			}
			forwarded[code] = true
		}
		rows.Close()
	}
	planned := huella.PlanDeliveries(ev, agreements, disabled, forwarded, now)
	for _, d := range planned {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, partner_code, agreement_id, trigger_kind, confirmation_id,
			category, subject_id, encounter_id, site_code, state, attempts, last_error, receipt, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', ?, ?)`,
			d.ID, d.Partner, d.AgreementID, string(d.Trigger), d.ConfirmationID, d.Category, d.SubjectID, d.EncounterID,
			d.Site, string(d.State), micros(now), micros(now)); err != nil {
			return nil, fmt.Errorf("sqlite: plan deliveries: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionDeliveryPlan, "delivery/"+d.ID, d.Site)
		event.Detail = d.PlanDetail()
		if err := appendAudit(ctx, tx, event, now); err != nil {
			return nil, err
		}
	}
	return planned, nil
}

// planEncounterDeliveries plans, inside CreateEncounter's transaction, the
// deliveries of an encounter that declares a conviction.
func planEncounterDeliveries(ctx context.Context, tx *sql.Tx, e *huella.Encounter, ids encounterIDs, now time.Time) error {
	ev := e.ConvictionTrigger(ids.subject, ids.encounter)
	if ev == nil {
		return nil
	}
	_, err := planDeliveries(ctx, tx, ev, now)
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
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		planned, err = confirmInTx(ctx, tx, c, now)
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
func confirmInTx(ctx context.Context, tx *sql.Tx, c *huella.Confirmation, now time.Time) ([]*huella.Delivery, error) {
	id := huella.NewID("cnf_", now)
	examiner := huella.ActorID(ctx)
	var site, subject string
	err := tx.QueryRowContext(ctx, `SELECT site_code, subject_id FROM encounters WHERE id = ?`, c.EncounterID).Scan(&site, &subject)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "encounter %s not found", c.EncounterID)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: confirm: %w", err)
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM subjects WHERE id = ?`, c.SubjectID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", c.SubjectID)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: confirm: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO confirmations (id, kind, hit_id, category, subject_id, encounter_id,
		examiner, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, string(c.Kind), c.HitID, c.Category, c.SubjectID, c.EncounterID, examiner, c.Reason, micros(now)); err != nil {
		return nil, fmt.Errorf("sqlite: confirm: %w", err)
	}
	event := huella.NewAuditEvent(ctx, huella.ActionConfirmationCreate, "confirmation/"+id, site)
	event.Detail = c.AuditDetail()
	if err := appendAudit(ctx, tx, event, now); err != nil {
		return nil, err
	}
	planned, err := planDeliveries(ctx, tx, &huella.TriggerEvent{Kind: c.Kind, SubjectID: c.SubjectID,
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
	list, err := queryDeliveries(ctx, s.read, `WHERE id = ?`, id)
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
	limit, err := deliveryLimit(f.Limit, f.Offset)
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
		where, args = append(where, "(created_at, id) < (?, ?)"), append(args, micros(stored(f.After.At)), f.After.ID)
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit, f.Offset)
	return queryDeliveries(ctx, s.read, clause+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, args...)
}

func deliveryLimit(limit, offset int) (int, error) {
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
	limit, err := deliveryLimit(limit, 0)
	if err != nil {
		return nil, err
	}
	return queryDeliveries(ctx, s.read, `WHERE state = 'pending' ORDER BY updated_at, id LIMIT ?`, limit)
}

func queryDeliveries(ctx context.Context, q querier, where string, args ...any) ([]*huella.Delivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	defer rows.Close()
	list := []*huella.Delivery{}
	for rows.Next() {
		var d huella.Delivery
		var created, updated int64
		var published, delivered sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Partner, &d.AgreementID, &d.Trigger, &d.ConfirmationID, &d.Category, &d.SubjectID,
			&d.EncounterID, &d.Site, &d.State, &d.Attempts, &d.LastError, &d.Receipt, &created, &updated,
			&published, &delivered); err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
		d.PublishedAt, d.DeliveredAt = optionalTime(published), optionalTime(delivered)
		list = append(list, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	return list, nil
}

func optionalTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// MarkPublished moves the pending deliveries among ids to published. It is
// not audited: publishing moves no data out; attempts are.
func (s *Store) MarkPublished(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := micros(s.now())
	args := []any{now, now}
	for _, id := range ids {
		args = append(args, id)
	}
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'published', published_at = ?, updated_at = ?
			WHERE state = 'pending' AND id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return fmt.Errorf("sqlite: mark published: %w", err)
		}
		return nil
	})
}

// RequeueStale moves back to pending the published deliveries idle since
// before, auditing each.
func (s *Store) RequeueStale(ctx context.Context, before time.Time) (int, error) {
	now := s.now()
	var n int
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		stale, err := queryDeliveries(ctx, tx, `WHERE state = 'published' AND updated_at < ? ORDER BY updated_at LIMIT 1000`, micros(before))
		if err != nil {
			return err
		}
		for _, d := range stale {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', updated_at = ? WHERE id = ?`, micros(now), d.ID); err != nil {
				return fmt.Errorf("sqlite: requeue: %w", err)
			}
			if err := appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionDeliveryRequeue, "delivery/"+d.ID, d.Site), now); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}

// RecordAttempt appends the attempt and moves the delivery to state.
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
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		list, err := queryDeliveries(ctx, tx, `WHERE id = ?`, a.DeliveryID)
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, n, at, status, error, duration_us, receipt)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, a.N, micros(a.At), a.Status, a.Error, a.Duration.Microseconds(), a.Receipt); err != nil {
			return fmt.Errorf("sqlite: record attempt: %w", err)
		}
		d.Attempts, d.LastError, d.State, d.UpdatedAt = a.N, a.Error, state, now
		var delivered any
		if state == huella.DeliveryDelivered {
			d.Receipt, d.DeliveredAt, d.LastError = a.Receipt, &now, ""
			delivered = micros(now)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET attempts = ?, last_error = ?, receipt = ?, state = ?,
			updated_at = ?, delivered_at = ? WHERE id = ?`,
			d.Attempts, d.LastError, d.Receipt, string(d.State), micros(now), delivered, d.ID); err != nil {
			return fmt.Errorf("sqlite: record attempt: %w", err)
		}
		event := huella.NewAuditEvent(ctx, attemptAction(state), "delivery/"+d.ID, d.Site)
		event.Detail = d.AttemptDetail(a)
		out = d
		return appendAudit(ctx, tx, event, now)
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
	rows, err := s.read.QueryContext(ctx, `SELECT delivery_id, n, at, status, error, duration_us, receipt
		FROM delivery_attempts WHERE delivery_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts: %w", err)
	}
	defer rows.Close()
	list := []*huella.DeliveryAttempt{}
	for rows.Next() {
		var a huella.DeliveryAttempt
		var at, us int64
		if err := rows.Scan(&a.DeliveryID, &a.N, &at, &a.Status, &a.Error, &us, &a.Receipt); err != nil {
			return nil, fmt.Errorf("sqlite: attempts: %w", err)
		}
		a.At, a.Duration = fromMicros(at), time.Duration(us)*time.Microsecond
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: attempts: %w", err)
	}
	return list, nil
}
