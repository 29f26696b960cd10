package huella

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The details the audit trail records of each change, written once for
// every store: identifiers, counts and states, never biographic values.

// EnrollDetail describes an enrolled encounter: the subject it joined
// (new unless the encounter claimed one), and how much it holds.
func (e *Encounter) EnrollDetail(subjectID string) string {
	return fmt.Sprintf("subject=%s new_subject=%t samples=%d smts=%d", subjectID, e.SubjectID == "", len(e.Samples), len(e.SMTs))
}

// RaiseDetail describes a hit as it is raised.
func (h *Hit) RaiseDetail() string {
	d := fmt.Sprintf("kind=%s encounter=%s llr=%.1f", h.Kind, h.EncounterID, h.Candidate.LLR)
	if h.State == HitWithdrawn {
		d += " state=withdrawn"
	}
	return d
}

// DecisionDetail describes a hit's decision, withdrawal or first of two
// confirmations.
func (h *Hit) DecisionDetail() string {
	state := string(h.State)
	if h.State == HitPending && h.FirstExaminer != "" {
		state = "first-confirmation"
	}
	return fmt.Sprintf("kind=%s state=%s", h.Kind, state)
}

// MergeDetail describes a subject's merge into another.
func MergeDetail(into string) string { return "into=" + into }

// AuditDetail describes a watchlist as it is created.
func (w *Watchlist) AuditDetail() string {
	return fmt.Sprintf("owner=%s category=%s", w.Owner, w.Category)
}

// AuditDetail describes a watch entry as it is added.
func (w *WatchEntry) AuditDetail() string {
	return fmt.Sprintf("watchlist=%s samples=%d", w.WatchlistID, len(w.Samples))
}

// RemovalDetail describes a watch entry's removal from a watchlist and the
// pending hits it withdrew.
func RemovalDetail(watchlistID string, withdrawnHits int) string {
	return fmt.Sprintf("watchlist=%s withdrawn_hits=%d", watchlistID, withdrawnHits)
}

// AuditDetail describes a partner as it is saved.
func (p *Partner) AuditDetail() string { return fmt.Sprintf("disabled=%t", p.Disabled) }

// AuditDetail describes a sharing agreement as it is saved: what it
// covers and sends.
func (a *Agreement) AuditDetail() string {
	str := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return fmt.Sprintf("partner=%s triggers=%s categories=%s modalities=%s fields=%s require_ack=%t",
		a.Partner, str(a.Triggers), str(a.Categories), str(a.Modalities), str(a.Fields), a.RequireAck)
}

// RevocationDetail describes an agreement's revocation: how many
// undelivered deliveries it parked.
func RevocationDetail(parked int64) string { return fmt.Sprintf("parked=%d", parked) }

// PlanDetail describes a delivery as it is planned.
func (d *Delivery) PlanDetail() string {
	return fmt.Sprintf("partner=%s agreement=%s trigger=%s encounter=%s", d.Partner, d.AgreementID, d.Trigger, d.EncounterID)
}

// AttemptDetail describes one attempt at a delivery.
func (d *Delivery) AttemptDetail(a *DeliveryAttempt) string {
	detail := fmt.Sprintf("partner=%s attempt=%d status=%d", d.Partner, a.N, a.Status)
	if a.Receipt != "" {
		detail += " receipt=" + a.Receipt
	}
	if a.Error != "" {
		detail += " error=" + a.Error
	}
	return detail
}

// AuditDetail describes a confirmation recorded for forwarding.
func (c *Confirmation) AuditDetail() string {
	return fmt.Sprintf("kind=%s hit=%s category=%s encounter=%s subject=%s", c.Kind, c.HitID, c.Category, c.EncounterID, c.SubjectID)
}

// AccessDetail describes a user's role and sites as they change.
func (u *User) AccessDetail() string {
	return "role=" + string(u.Role) + " sites=" + strings.Join(u.Sites, ",")
}
