package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
	"github.com/jackc/pgx/v5"
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO partners (code, name, endpoint, format, ca_file, client_cert_file,
			client_key_file, key_id, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			p.Code, p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID, p.Disabled, now)
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "partner %s exists", p.Code)
		} else if err != nil {
			return fmt.Errorf("postgres: create partner: %w", err)
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
	var created time.Time
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE partners SET name = $1, endpoint = $2, format = $3, ca_file = $4,
			client_cert_file = $5, client_key_file = $6, key_id = $7, disabled = $8, updated_at = $9 WHERE code = $10
			RETURNING created_at`,
			p.Name, p.Endpoint, string(p.Format), p.CAFile, p.ClientCertFile, p.ClientKeyFile, p.KeyID, p.Disabled,
			now, p.Code).Scan(&created)
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "partner %s not found", p.Code)
		} else if err != nil {
			return fmt.Errorf("postgres: update partner: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionPartnerUpdate, "partner/"+p.Code, "")
		event.Detail = p.AuditDetail()
		return appendAudit(ctx, tx, event, now)
	})
	if err == nil {
		p.CreatedAt, p.UpdatedAt = created.UTC(), now
	}
	return err
}

const partnerColumns = `code, name, endpoint, format, ca_file, client_cert_file, client_key_file, key_id, disabled, created_at, updated_at`

// FindPartner returns the partner with the code, or ENOTFOUND.
func (s *Store) FindPartner(ctx context.Context, code string) (*huella.Partner, error) {
	list, err := s.queryPartners(ctx, `WHERE code = $1`, code)
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
	return s.queryPartners(ctx, `ORDER BY code COLLATE "C"`)
}

func (s *Store) queryPartners(ctx context.Context, where string, args ...any) ([]*huella.Partner, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+partnerColumns+` FROM partners `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: partners: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Partner, error) {
		var p huella.Partner
		err := row.Scan(&p.Code, &p.Name, &p.Endpoint, &p.Format, &p.CAFile, &p.ClientCertFile, &p.ClientKeyFile,
			&p.KeyID, &p.Disabled, &p.CreatedAt, &p.UpdatedAt)
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		return &p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: partners: %w", err)
	}
	return sqlstore.NonNil(list), nil
}

// toStrings converts a list of string kinds to []string for a text[] column.
func toStrings[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

func fromStrings[T ~string](list []string) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = T(v)
	}
	return out
}

// CreateAgreement stores a new active agreement and sets ID and CreatedAt.
func (s *Store) CreateAgreement(ctx context.Context, a *huella.Agreement) error {
	if err := a.Validate(); err != nil {
		return err
	}
	now := s.now()
	id := huella.NewID("agr_", now)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM partners WHERE code = $1)`, a.Partner).Scan(&found); err != nil {
			return fmt.Errorf("postgres: create agreement: %w", err)
		}
		if !found {
			return huella.Errorf(huella.EINVALID, "unknown partner %s", a.Partner)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agreements (id, partner_code, triggers, categories, modalities, fields,
			legal_basis, require_ack, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9)`,
			id, a.Partner, toStrings(a.Triggers), sqlstore.NonNil(a.Categories), toStrings(a.Modalities), toStrings(a.Fields),
			a.LegalBasis, a.RequireAck, now); err != nil {
			return fmt.Errorf("postgres: create agreement: %w", err)
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
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE agreements SET active = false, revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, now, id)
		if err != nil {
			return fmt.Errorf("postgres: revoke agreement: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return huella.Errorf(huella.ENOTFOUND, "agreement %s not found", id)
		}
		tag, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'dead', last_error = 'agreement revoked', updated_at = $1
			WHERE agreement_id = $2 AND state IN ('pending', 'published')`, now, id)
		if err != nil {
			return fmt.Errorf("postgres: revoke agreement: %w", err)
		}
		event := huella.NewAuditEvent(ctx, huella.ActionAgreementRevoke, "agreement/"+id, "")
		event.Detail = huella.RevocationDetail(tag.RowsAffected())
		return appendAudit(ctx, tx, event, now)
	})
}

const agreementColumns = `id, partner_code, triggers, categories, modalities, fields, legal_basis, require_ack, active, created_at, revoked_at`

// FindAgreement returns the agreement, or ENOTFOUND.
func (s *Store) FindAgreement(ctx context.Context, id string) (*huella.Agreement, error) {
	list, err := queryAgreements(ctx, s.pool, `WHERE id = $1`, id)
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
		return queryAgreements(ctx, s.pool, `ORDER BY created_at, id`)
	}
	return queryAgreements(ctx, s.pool, `WHERE partner_code = $1 ORDER BY created_at, id`, partner)
}

// querier is what the pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryAgreements(ctx context.Context, q querier, where string, args ...any) ([]*huella.Agreement, error) {
	rows, err := q.Query(ctx, `SELECT `+agreementColumns+` FROM agreements `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: agreements: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Agreement, error) {
		var a huella.Agreement
		var triggers, categories, modalities, fields []string
		err := row.Scan(&a.ID, &a.Partner, &triggers, &categories, &modalities, &fields, &a.LegalBasis,
			&a.RequireAck, &a.Active, &a.CreatedAt, &a.RevokedAt)
		a.Triggers, a.Categories = fromStrings[huella.Trigger](triggers), sqlstore.NilIfEmpty(categories)
		a.Modalities, a.Fields = fromStrings[huella.Modality](modalities), fromStrings[huella.Field](fields)
		a.CreatedAt = a.CreatedAt.UTC()
		a.RevokedAt = utc(a.RevokedAt)
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: agreements: %w", err)
	}
	return sqlstore.NonNil(list), nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// planDeliveries inserts, inside the caller's transaction, the deliveries
// the event calls for under the active agreements, each with its audit
// event, and returns them. It is the one place where a decision becomes
// deliveries, so that both are committed together or not at all.
func planDeliveries(ctx context.Context, tx pgx.Tx, ev *huella.TriggerEvent, now time.Time) ([]*huella.Delivery, error) {
	agreements, err := queryAgreements(ctx, tx, `WHERE active AND $1 = ANY (triggers)`, string(ev.Kind))
	if err != nil || len(agreements) == 0 {
		return nil, err
	}
	codes := func(query string, args ...any) (map[string]bool, error) {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		list, err := pgx.CollectRows(rows, pgx.RowTo[string])
		set := make(map[string]bool, len(list))
		for _, c := range list {
			set[c] = true
		}
		return set, err
	}
	disabled, err := codes(`SELECT code FROM partners WHERE disabled`)
	if err != nil {
		return nil, fmt.Errorf("postgres: plan deliveries: %w", err)
	}
	forwarded := map[string]bool{}
	if ev.Kind == huella.TriggerDuplicate {
		if forwarded, err = codes(`SELECT DISTINCT partner_code FROM deliveries WHERE subject_id = $1 AND state = 'delivered'`, ev.SubjectID); err != nil {
			return nil, fmt.Errorf("postgres: plan deliveries: %w", err)
		}
	}
	planned := huella.PlanDeliveries(ev, agreements, disabled, forwarded, now)
	if len(planned) == 0 {
		return nil, nil
	}
	batch := &pgx.Batch{}
	for _, d := range planned {
		batch.Queue(`INSERT INTO deliveries (id, partner_code, agreement_id, trigger_kind, confirmation_id,
			category, subject_id, encounter_id, site_code, state, attempts, last_error, receipt, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, '', '', $11, $11)`,
			d.ID, d.Partner, d.AgreementID, string(d.Trigger), d.ConfirmationID, d.Category, d.SubjectID, d.EncounterID,
			d.Site, string(d.State), now)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("postgres: plan deliveries: %w", err)
	}
	for _, d := range planned {
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
func planEncounterDeliveries(ctx context.Context, tx pgx.Tx, e *huella.Encounter, ids encounterIDs, now time.Time) error {
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
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
func confirmInTx(ctx context.Context, tx pgx.Tx, c *huella.Confirmation, now time.Time) ([]*huella.Delivery, error) {
	id := huella.NewID("cnf_", now)
	examiner := huella.ActorID(ctx)
	var site string
	err := tx.QueryRow(ctx, `SELECT site_code FROM encounters WHERE id = $1`, c.EncounterID).Scan(&site)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, huella.Errorf(huella.ENOTFOUND, "encounter %s not found", c.EncounterID)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: confirm: %w", err)
	}
	var found bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1)`, c.SubjectID).Scan(&found); err != nil {
		return nil, fmt.Errorf("postgres: confirm: %w", err)
	}
	if !found {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject %s not found", c.SubjectID)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO confirmations (id, kind, hit_id, category, subject_id, encounter_id,
		examiner, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, string(c.Kind), c.HitID, c.Category, c.SubjectID, c.EncounterID, examiner, c.Reason, now); err != nil {
		return nil, fmt.Errorf("postgres: confirm: %w", err)
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
	list, err := queryDeliveries(ctx, s.pool, `WHERE id = $1`, id)
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
		args = append(args, f.Partner)
		where = append(where, fmt.Sprintf("partner_code = $%d", len(args)))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.SubjectID != "" {
		args = append(args, f.SubjectID)
		where = append(where, fmt.Sprintf("subject_id = $%d", len(args)))
	}
	if f.After != nil { // newest first
		args = append(args, stored(f.After.At), f.After.ID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit, f.Offset)
	return queryDeliveries(ctx, s.pool, clause+fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
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
	return queryDeliveries(ctx, s.pool, `WHERE state = 'pending' ORDER BY updated_at, id LIMIT $1`, limit)
}

func queryDeliveries(ctx context.Context, q querier, where string, args ...any) ([]*huella.Delivery, error) {
	rows, err := q.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Delivery, error) {
		var d huella.Delivery
		err := row.Scan(&d.ID, &d.Partner, &d.AgreementID, &d.Trigger, &d.ConfirmationID, &d.Category, &d.SubjectID,
			&d.EncounterID, &d.Site, &d.State, &d.Attempts, &d.LastError, &d.Receipt, &d.CreatedAt, &d.UpdatedAt,
			&d.PublishedAt, &d.DeliveredAt)
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		d.PublishedAt, d.DeliveredAt = utc(d.PublishedAt), utc(d.DeliveredAt)
		return &d, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	return sqlstore.NonNil(list), nil
}

// MarkPublished moves the pending deliveries among ids to published. It is
// not audited: publishing moves no data out; attempts are.
func (s *Store) MarkPublished(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'published', published_at = $1, updated_at = $1
		WHERE state = 'pending' AND id = ANY ($2)`, s.now(), ids); err != nil {
		return fmt.Errorf("postgres: mark published: %w", err)
	}
	return nil
}

// RequeueStale moves back to pending the published deliveries idle since
// before, auditing each.
func (s *Store) RequeueStale(ctx context.Context, before time.Time) (int, error) {
	now := s.now()
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		stale, err := queryDeliveries(ctx, tx, `WHERE state = 'published' AND updated_at < $1 ORDER BY updated_at LIMIT 1000
			FOR UPDATE SKIP LOCKED`, stored(before))
		if err != nil {
			return err
		}
		for _, d := range stale {
			if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'pending', updated_at = $1 WHERE id = $2`, now, d.ID); err != nil {
				return fmt.Errorf("postgres: requeue: %w", err)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		list, err := queryDeliveries(ctx, tx, `WHERE id = $1 FOR UPDATE`, a.DeliveryID)
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
		var delivered *time.Time
		if state == huella.DeliveryDelivered {
			d.Receipt, d.DeliveredAt, d.LastError = a.Receipt, &now, ""
			delivered = &now
		}
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO delivery_attempts (delivery_id, n, at, status, error, duration_us, receipt)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, d.ID, a.N, a.At, a.Status, a.Error, a.Duration.Microseconds(), a.Receipt)
		batch.Queue(`UPDATE deliveries SET attempts = $1, last_error = $2, receipt = $3, state = $4, updated_at = $5,
			delivered_at = $6 WHERE id = $7`, d.Attempts, d.LastError, d.Receipt, string(d.State), now, delivered, d.ID)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("postgres: record attempt: %w", err)
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
	rows, err := s.pool.Query(ctx, `SELECT delivery_id, n, at, status, error, duration_us, receipt
		FROM delivery_attempts WHERE delivery_id = $1 ORDER BY n`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.DeliveryAttempt, error) {
		var a huella.DeliveryAttempt
		var us int64
		err := row.Scan(&a.DeliveryID, &a.N, &a.At, &a.Status, &a.Error, &us, &a.Receipt)
		a.At, a.Duration = a.At.UTC(), time.Duration(us)*time.Microsecond
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts: %w", err)
	}
	return sqlstore.NonNil(list), nil
}
