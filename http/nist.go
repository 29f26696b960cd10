package http

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
		{Method: "GET", Path: "/v1/encounters/{id}/export", Summary: "An encounter as an EBTS-style ANSI/NIST-ITL transaction, one ISO/IEC 19794 record, or a CBEFF XML container of ISO/IEC 19794 records, with the options of huella export",
			Roles: access.Readers, RawResponse: "application/octet-stream", Handler: s.handleExport, Query: exportQuery},
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

// exportQuery are the export endpoint's options, the command line's
// "huella export" flags by the same names (snake case).
var exportQuery = []param{
	{"format", "string", "nist (default: an EBTS-style ANSI/NIST-ITL transaction), iso (one ISO/IEC 19794 record: give modality) or cbeff (CBEFF XML of ISO records)"},
	{"profile", "string", "ANSI/NIST transaction profile, format nist: ebts or inti"},
	{"tot", "string", "transaction type (1.004), format nist: 3 or 4 letters, one of the profile's; default CAR or the profile's first"},
	{"ori", "string", "originating agency identifier (1.008), format nist: 1-9 letters and digits; default HUELLA"},
	{"retention", "string", "retention code (2.005 RET), format nist: Y or N; EBTS requires it in a CAR or CNA"},
	{"arrest_offense", "string", "arrest offense literal (2.047 ASL), format nist: 1-300 printable characters; EBTS requires it in a CAR or CNA"},
	{"cri", "string", "controlling agency identifier (2.073 CRI), format nist: 1-9 letters and digits; default the ori"},
	{"iso_version", "integer", "edition of the face record, format iso or cbeff: 2005 (default) or 2011; finger and iris records are 2011"},
	{"modality", "string", "the record to return, format iso: finger, iris or face"},
}

// exportFormats are the formats each option of exportQuery applies to.
var exportFormats = map[string][]string{"profile": {"nist"}, "tot": {"nist"}, "ori": {"nist"}, "retention": {"nist"},
	"arrest_offense": {"nist"}, "cri": {"nist"}, "iso_version": {"iso", "cbeff"}, "modality": {"iso"}}

// exportOptions reads the export endpoint's query: each option only with
// the formats it applies to, each validated as the command line does.
func exportOptions(q url.Values) (format, modality string, nist nistmap.ExportOptions, iso isomap.Options, err error) {
	format = cmp.Or(q.Get("format"), "nist")
	if format != "nist" && format != "iso" && format != "cbeff" {
		return "", "", nist, iso, huella.Errorf(huella.EINVALID, "format must be nist, iso or cbeff")
	}
	for name, formats := range exportFormats {
		if q.Has(name) && !slices.Contains(formats, format) {
			return "", "", nist, iso, huella.Errorf(huella.EINVALID, "%s does not apply to format %s", name, format)
		}
	}
	if p := q.Get("profile"); p != "" {
		if nist.Profile = ansinist.Profiles[p]; nist.Profile == nil {
			return "", "", nist, iso, huella.Errorf(huella.EINVALID, "profile must be ebts or inti")
		}
	}
	nist.TransactionType, nist.Originator, nist.Retention = strings.ToUpper(q.Get("tot")), q.Get("ori"), q.Get("retention")
	nist.ArrestOffense, nist.ControllingAgency = q.Get("arrest_offense"), q.Get("cri")
	if err := nist.Validate(); err != nil {
		return "", "", nist, iso, err
	}
	if v := q.Get("iso_version"); v != "" {
		if iso.FaceVersion, err = strconv.Atoi(v); err != nil || (iso.FaceVersion != 2005 && iso.FaceVersion != 2011) {
			return "", "", nist, iso, huella.Errorf(huella.EINVALID, "iso_version must be 2005 or 2011")
		}
	}
	modality = q.Get("modality")
	if format == "iso" && modality != "finger" && modality != "iris" && modality != "face" {
		return "", "", nist, iso, huella.Errorf(huella.EINVALID, "format iso needs modality finger, iris or face")
	}
	return format, modality, nist, iso, nil
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	format, modality, nistOpt, isoOpt, err := exportOptions(r.URL.Query())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.Store.FindEncounter(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !huella.ActorFromContext(ctx).CanAccessSite(e.SiteCode) {
		s.Error(w, r, huella.Errorf(huella.EFORBIDDEN, "the encounter is at a site you do not work at"))
		return
	}
	images := func(smp *huella.Sample) ([]byte, error) { return s.Blobs.Get(ctx, smp.ImageRef) }
	var data []byte
	contentType, name, detail := "application/octet-stream", e.ID+".an2", "ansi/nist file"
	switch format {
	case "nist":
		data, err = nistmap.Export(e, images, nistOpt)
	case "iso":
		var recs *isomap.Records
		if recs, err = isomap.ExportWith(e, images, isoOpt); err == nil {
			data = map[string][]byte{"finger": recs.FingerImage, "iris": recs.Iris, "face": recs.Face}[modality]
			if data == nil {
				err = huella.Errorf(huella.ENOTFOUND, "the encounter has no %s sample", modality)
			}
		}
		name, detail = e.ID+"-"+modality+".iso", "iso/iec 19794 "+modality+" record"
	case "cbeff":
		data, err = isomap.ExportCBEFFWith(e, images, isoOpt)
		contentType, name, detail = "application/xml", e.ID+".xml", "cbeff xml"
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
