package http

import (
	"net/http"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

// purgeRoutes are the endpoint that erases a person's records. Only
// supervisors purge: they answer for the program's records at every site;
// administrators manage users, sites and partners and never see records.
func (s *Server) purgeRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/subjects/{id}/purge",
			Summary: "Purge a subject on order (court order, data-protection request, enrollment error): its records, images and hits are erased, the subjects merged into it with it; the audit trail keeps one event with the reason and counts",
			Roles:   access.Supervisors, Request: purgeRequest{}, Response: huella.Purge{}, Handler: s.handlePurgeSubject},
	}
}

// purgeRequest says why a subject is purged: one of court-order,
// data-protection-request, enrollment-error or retention. It is a
// category, never free text: it outlives the records in the audit trail.
type purgeRequest struct {
	Reason huella.PurgeReason `json:"reason"`
}

func (s *Server) handlePurgeSubject(w http.ResponseWriter, r *http.Request) {
	var req purgeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.Enroll == nil {
		s.Error(w, r, huella.Errorf(huella.EUNSUPPORTED, "purging is not enabled"))
		return
	}
	p, err := s.Enroll.PurgeSubject(r.Context(), r.PathValue("id"), req.Reason)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
