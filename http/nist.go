package http

import (
	"fmt"
	"io"
	"net/http"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/http/internal/access"
	"github.com/huella-abis/huella/isomap"
	"github.com/huella-abis/huella/nistmap"
)

// nistRoutes are the ANSI/NIST-ITL import and export endpoints.
func (s *Server) nistRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/import", Summary: "Enroll an ANSI/NIST-ITL transaction (the request body) as an encounter at a site",
			Roles: access.Officers, Headers: []param{idempotencyKey}, RawRequest: "application/octet-stream", Response: importResponse{}, Handler: s.handleImport,
			Query: []param{{"site", "string", "site code of the encounter (required)"}, {"reason", "string", "encounter reason (default detention)"}}},
		{Method: "GET", Path: "/v1/encounters/{id}/export", Summary: "An encounter as an EBTS-style ANSI/NIST-ITL transaction, or as a CBEFF XML container of ISO/IEC 19794 records",
			Roles: access.Readers, RawResponse: "application/octet-stream", Handler: s.handleExport,
			Query: []param{{"format", "string", "nist (default) or cbeff"}, {"profile", "string", "ANSI/NIST transaction profile: ebts or inti (format nist)"}}},
	}
}

// importResponse is the enrolled encounter and what was not mapped.
type importResponse struct {
	Encounter *huella.Encounter `json:"encounter"`
	Notes     []string          `json:"notes"` // what stays only in the original transaction
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxRequestSize())
	data, err := io.ReadAll(r.Body)
	if err != nil {
		s.Error(w, r, multipartError(err))
		return
	}
	q := r.URL.Query()
	req, notes, err := nistmap.Import(data, nistmap.ImportOptions{Site: q.Get("site"), Reason: huella.Reason(q.Get("reason")), Now: s.Now()})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	e, err := s.enroll(r.Context(), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if notes == nil {
		notes = []string{}
	}
	writeJSON(w, http.StatusCreated, importResponse{Encounter: e, Notes: notes})
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	e, err := s.Store.FindEncounter(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !huella.ActorFromContext(ctx).CanAccessSite(e.SiteCode) {
		s.Error(w, r, huella.Errorf(huella.EFORBIDDEN, "the encounter is at a site you do not work at"))
		return
	}
	q := r.URL.Query()
	images := func(smp *huella.Sample) ([]byte, error) { return s.Blobs.Get(ctx, smp.ImageRef) }
	var data []byte
	contentType, name, detail := "application/octet-stream", e.ID+".an2", "ansi/nist file"
	switch q.Get("format") {
	case "", "nist":
		opt := nistmap.ExportOptions{}
		if p := q.Get("profile"); p != "" {
			if opt.Profile = ansinist.Profiles[p]; opt.Profile == nil {
				s.Error(w, r, huella.Errorf(huella.EINVALID, "profile must be ebts or inti"))
				return
			}
		}
		data, err = nistmap.Export(e, images, opt)
	case "cbeff":
		data, err = isomap.ExportCBEFF(e, images)
		contentType, name, detail = "application/xml", e.ID+".xml", "cbeff xml"
	default:
		err = huella.Errorf(huella.EINVALID, "format must be nist or cbeff")
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, huella.ActionExport, "encounter/"+e.ID, e.SiteCode, detail); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}
