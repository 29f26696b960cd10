package http

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

// subjectReport is what Huella holds about one person, for a subject
// access request: the records, the decisions, what was sent to whom, and
// who read or changed them when.
type subjectReport struct {
	GeneratedAt time.Time            `json:"generated_at"`
	Subject     *huella.Subject      `json:"subject"` // with every encounter, merged ones included
	Deliveries  []*huella.Delivery   `json:"deliveries"`
	AuditTrail  []*huella.AuditEvent `json:"audit_trail"` // events naming the subject, its encounters, samples or hits
}

// reportRoutes are the subject access report endpoint.
func (s *Server) reportRoutes() []route {
	return []route{
		{Method: "GET", Path: "/v1/subjects/{id}/report", Summary: "Subject access report: everything held about a person, what was forwarded, and every access",
			Roles: access.Supervisors, Response: subjectReport{}, Handler: s.handleSubjectReport},
	}
}

// reportAuditPage is how many audit events the report reads at a time. The
// report walks the whole trail: it is rare, and the trail has no index by
// object.
const reportAuditPage = 1000

func (s *Server) handleSubjectReport(w http.ResponseWriter, r *http.Request) {
	ctx := huella.NewContextWithPurpose(r.Context(), huella.PurposeSubjectAccess)
	sub, err := s.Store.FindSubject(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rep := &subjectReport{GeneratedAt: s.Now().UTC(), Subject: sub, Deliveries: []*huella.Delivery{}, AuditTrail: []*huella.AuditEvent{}}
	objects := map[string]bool{"subject/" + sub.ID: true}
	subjects := []string{sub.ID}
	for _, e := range sub.Encounters {
		objects["encounter/"+e.ID] = true
		if !slices.Contains(subjects, e.SubjectID) {
			subjects = append(subjects, e.SubjectID)
			objects["subject/"+e.SubjectID] = true
		}
		for _, smp := range e.Samples {
			objects["sample/"+smp.ID] = true
		}
		if e.Identification != nil {
			for _, h := range e.Identification.Hits {
				objects["hit/"+h.ID] = true
			}
		}
	}
	for _, id := range subjects {
		list, err := s.Store.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: id, Limit: 1000})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		rep.Deliveries = append(rep.Deliveries, list...)
	}
	for after := int64(0); ; {
		events, err := s.Store.ListAuditEvents(ctx, after, reportAuditPage)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for _, ev := range events {
			if objects[ev.Object] || strings.Contains(ev.Detail, sub.ID) {
				rep.AuditTrail = append(rep.AuditTrail, ev)
			}
			after = ev.Seq
		}
		if len(events) < reportAuditPage {
			break
		}
	}
	e := huella.NewAuditEvent(ctx, huella.ActionExport, "subject/"+sub.ID, "")
	e.Time, e.Detail = s.Now(), "subject access report"
	if err := s.Store.AppendAudit(ctx, e); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rep)
}
