package http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
)

// routes is the API: the mux, the access checks and the OpenAPI document
// are all made from this table.
func (s *Server) routes() []route {
	return slices.Concat(s.recordRoutes(), s.identifyRoutes(), s.nistRoutes(), s.reportRoutes(), s.purgeRoutes(), s.forwardRoutes())
}

// recordRoutes are the endpoints of enrollment, records and administration.
func (s *Server) recordRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/encounters", Summary: "Enroll an encounter: biographics and images in one multipart request. A subject_id is a claim, linked only if the biometrics verify it (else a hit for an examiner)",
			Roles: access.Officers, Headers: []param{idempotencyKey}, Multipart: true, Request: encounterRequest{}, Response: huella.Encounter{}, Handler: s.handleCreateEncounter},
		{Method: "GET", Path: "/v1/encounters", Summary: "List or search encounters by site, capture time, name and document, newest first",
			Roles: access.Readers, Response: []huella.Encounter{}, Handler: s.handleListEncounters,
			Query: []param{{"site", "string", "site code (repeatable)"}, {"from", "string", "captured at or after (RFC 3339)"},
				{"to", "string", "captured before (RFC 3339)"},
				{"name", "string", "every word begins a word of one of the encounter's names (case and accents ignored)"},
				{"document", "string", "a document number (letters and digits compared)"},
				{"offset", "integer", "deprecated (use cursor): skip this many"}}, Paged: true},
		{Method: "GET", Path: "/v1/encounters/{id}", Summary: "Read an encounter",
			Roles: access.Readers, Response: huella.Encounter{}, Handler: s.handleGetEncounter},
		{Method: "GET", Path: "/v1/subjects/{id}", Summary: "Read a subject with its encounters at every site",
			Roles: access.Readers, Response: huella.Subject{}, Handler: s.handleGetSubject},
		{Method: "GET", Path: "/v1/samples/{id}/image", Summary: "Fetch a sample's image, decrypted",
			Roles: access.Readers, RawResponse: "application/octet-stream", Handler: s.handleGetSampleImage},
		{Method: "GET", Path: "/v1/stats/encounters", Summary: "Count encounters by site, nationality and month",
			Roles: access.Stats, Response: huella.EncounterStats{}, Handler: s.handleStats,
			Query: []param{{"site", "string", "site code (repeatable)"}, {"from", "string", "RFC 3339"}, {"to", "string", "RFC 3339"}}},
		{Method: "GET", Path: "/v1/sites", Summary: "List sites, by code", Roles: access.Everyone, Response: []huella.Site{}, Handler: s.handleListSites, Paged: true},
		{Method: "POST", Path: "/v1/sites", Summary: "Create a site", Roles: access.Admins,
			Request: huella.Site{}, Response: huella.Site{}, Handler: s.handleCreateSite},
		{Method: "GET", Path: "/v1/users", Summary: "List users", Roles: access.Admins, Response: []huella.User{}, Handler: s.handleListUsers,
			Query: []param{{"sort", "string", "name (default) or last-used: the most recently used token first, never-used last"}}, Paged: true},
		{Method: "POST", Path: "/v1/users", Summary: "Create a user; the API token is shown once", Roles: access.Admins,
			Request: userRequest{}, Response: userResponse{}, Handler: s.handleCreateUser},
		{Method: "POST", Path: "/v1/users/{id}/disable", Summary: "Disable a user: their token and console sessions stop working at once",
			Roles: access.Admins, Response: huella.User{}, Handler: s.handleDisableUser},
		{Method: "POST", Path: "/v1/users/{id}/enable", Summary: "Enable a disabled user again",
			Roles: access.Admins, Response: huella.User{}, Handler: s.handleEnableUser},
		{Method: "POST", Path: "/v1/users/{id}/token", Summary: "Rotate a user's token: the old one stops working, the new one is shown once",
			Roles: access.Admins, Request: tokenRequest{}, Response: userResponse{}, Handler: s.handleRotateToken},
		{Method: "GET", Path: "/v1/me", Summary: "The calling user", Roles: access.Everyone, Response: huella.User{}, Handler: s.handleMe},
		{Method: "GET", Path: "/v1/audit", Summary: "Read the hash-chained audit trail", Roles: access.Auditors,
			Response: []huella.AuditEvent{}, Handler: s.handleListAudit,
			Query: []param{{"after", "integer", "events after this sequence number (the first page; then follow Link rel=\"next\")"}}, Paged: true},
	}
}

// idempotencyKey documents the header that makes an enrollment safe to
// retry (enroll.Request.IdempotencyKey).
var idempotencyKey = param{"Idempotency-Key", "string", "1-255 printable ASCII characters: a retry with the same key and content gets the first answer, the key with other content is a 409"}

// encounterRequest is the JSON part "encounter" of an enrollment request.
// Each sample names the multipart part holding its image.
type encounterRequest struct {
	SubjectID       string                 `json:"subject_id,omitempty"`
	Site            string                 `json:"site"`
	CapturedAt      time.Time              `json:"captured_at"`
	Reason          huella.Reason          `json:"reason"`
	CriminalHistory huella.CriminalHistory `json:"criminal_history"`
	Purpose         huella.Purpose         `json:"purpose,omitempty"`
	Biographics     huella.Biographics     `json:"biographics"`
	Samples         []sampleRequest        `json:"samples"`
	SMTs            []huella.SMT           `json:"smts,omitempty"`
	// FingerAbsences are the fingers not printed (amputated or
	// unprintable); no sample may be of an absent finger.
	FingerAbsences []huella.FingerAbsence `json:"finger_absences,omitempty"`
}

type sampleRequest struct {
	Image      string            `json:"image"` // name of the multipart part with the image
	Modality   huella.Modality   `json:"modality"`
	Position   int               `json:"position,omitempty"`
	Impression huella.Impression `json:"impression,omitempty"`
	Eye        huella.Eye        `json:"eye,omitempty"`
	Format     string            `json:"format,omitempty"` // image format, or iso19794-4, -5, -6 or cbeff for a record (isomap)
	PPI        int               `json:"ppi,omitempty"`
	Device     string            `json:"device,omitempty"`
}

// handleCreateEncounter reads a multipart request: the part "encounter"
// (JSON, first) and one part per image, named as the samples say. Images
// are held in memory, never written to disk in plain text.
func (s *Server) handleCreateEncounter(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxRequestSize())
	req, err := s.readEncounterRequest(r)
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
	writeJSON(w, http.StatusCreated, e)
}

// enroll runs the enrollment flow; the service counts it (Observe).
func (s *Server) enroll(ctx context.Context, req *enroll.Request) (*huella.Encounter, error) {
	return s.Enroll.Enroll(ctx, req)
}

func (s *Server) readEncounterRequest(r *http.Request) (*enroll.Request, error) {
	body := &encounterRequest{}
	parts, err := s.readMultipart(r, "encounter", body)
	if err != nil {
		return nil, err
	}
	e := &huella.Encounter{
		SubjectID:       body.SubjectID,
		SiteCode:        body.Site,
		CapturedAt:      body.CapturedAt,
		Reason:          body.Reason,
		CriminalHistory: body.CriminalHistory,
		Purpose:         body.Purpose,
		Biographics:     body.Biographics,
		FingerAbsences:  body.FingerAbsences,
	}
	samples, images, err := samplesFromRequest(body.Samples, parts)
	if err != nil {
		return nil, err
	}
	e.Samples = samples
	req := &enroll.Request{Encounter: e, Images: images}
	for i := range body.SMTs {
		m := body.SMTs[i]
		m.ID, m.SampleID = "", ""
		e.SMTs = append(e.SMTs, &m)
	}
	return req, nil
}

// readMultipart reads a multipart request: the JSON part named jsonPart
// (decoded strictly into v) and image parts, each held in memory (never
// written to disk in plain text) and bounded by the image size limit.
func (s *Server) readMultipart(r *http.Request, jsonPart string, v any) (map[string][]byte, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, huella.Errorf(huella.EINVALID, "this request needs a multipart/form-data body")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, huella.Errorf(huella.EINVALID, "malformed multipart body")
	}
	maxImage := int64(s.Enroll.MaxImageSize)
	if maxImage == 0 {
		maxImage = enroll.DefaultMaxImageSize
	}
	seenJSON := false
	parts := make(map[string][]byte)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, multipartError(err)
		}
		name := p.FormName()
		if name == jsonPart {
			if seenJSON {
				return nil, huella.Errorf(huella.EINVALID, "more than one %s part", jsonPart)
			}
			seenJSON = true
			if err := decodeStrict(json.NewDecoder(io.LimitReader(p, DefaultMaxJSONSize)), v); err != nil {
				return nil, err
			}
			continue
		}
		if name == "" || parts[name] != nil {
			return nil, huella.Errorf(huella.EINVALID, "every image part needs a unique name")
		}
		data, err := io.ReadAll(io.LimitReader(p, maxImage+1))
		if err != nil {
			return nil, multipartError(err)
		}
		if int64(len(data)) > maxImage {
			return nil, huella.Errorf(huella.ETOOLARGE, "image part %q larger than %d bytes", name, maxImage)
		}
		parts[name] = data
	}
	if !seenJSON {
		return nil, huella.Errorf(huella.EINVALID, "the part %q (JSON) is required", jsonPart)
	}
	return parts, nil
}

// multipartError keeps a body-size error (a 413) and hides anything else
// behind a plain "malformed" message.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return huella.Errorf(huella.EINVALID, "malformed multipart body")
}

// samplesFromRequest turns the samples of a request into domain samples
// and their images, checking that every image part is used exactly once.
func samplesFromRequest(srs []sampleRequest, parts map[string][]byte) ([]*huella.Sample, [][]byte, error) {
	var samples []*huella.Sample
	var images [][]byte
	used := make(map[string]bool)
	for i, sr := range srs {
		data, ok := parts[sr.Image]
		if !ok || used[sr.Image] {
			return nil, nil, huella.Errorf(huella.EINVALID, "samples[%d]: no unused image part named %q", i, sr.Image)
		}
		used[sr.Image] = true
		samples = append(samples, &huella.Sample{
			Modality: sr.Modality, Position: sr.Position, Impression: sr.Impression, Eye: sr.Eye,
			Format: sr.Format, PPI: sr.PPI, Device: sr.Device,
		})
		images = append(images, data)
	}
	for name := range parts {
		if !used[name] {
			return nil, nil, huella.Errorf(huella.EINVALID, "image part %q is not named by any sample", name)
		}
	}
	return samples, images, nil
}

func (s *Server) handleGetEncounter(w http.ResponseWriter, r *http.Request) {
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
	if err := s.audit(r, huella.ActionEncounterRead, "encounter/"+e.ID, e.SiteCode, ""); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// handleGetSubject returns a subject's whole history. For users scoped to
// sites, encounters at other sites show only when and where they happened:
// enough to know the person was seen before, no personal data.
func (s *Server) handleGetSubject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user := huella.ActorFromContext(ctx)
	sub, err := s.Store.FindSubject(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !user.CanReadSubject(sub) {
		s.Error(w, r, huella.Errorf(huella.EFORBIDDEN, "the subject has no encounter at a site you work at"))
		return
	}
	for i, e := range sub.Encounters {
		if !user.CanAccessSite(e.SiteCode) {
			sub.Encounters[i] = huella.RedactedEncounter(e)
		}
	}
	if err := s.audit(r, huella.ActionSubjectRead, "subject/"+sub.ID, "", ""); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sub)
}

func (s *Server) handleGetSampleImage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	smp, e, err := s.Store.FindSample(ctx, r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !huella.ActorFromContext(ctx).CanAccessSite(e.SiteCode) {
		s.Error(w, r, huella.Errorf(huella.EFORBIDDEN, "the sample is at a site you do not work at"))
		return
	}
	data, err := s.Blobs.Get(ctx, smp.ImageRef)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, huella.ActionSampleRead, "sample/"+smp.ID, e.SiteCode, string(smp.Modality)); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentTypes[smp.Format])
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}

var contentTypes = map[string]string{
	"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff", "bmp": "image/bmp",
	"wsq": "image/x-wsq", "jp2": "image/jp2", "pgm": "image/x-portable-graymap",
}

func (s *Server) handleListEncounters(w http.ResponseWriter, r *http.Request) {
	f, err := s.encounterFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	pg, err := readPage(r, true)
	if err == nil {
		f.After, err = pg.key()
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit, f.Offset = pg.fetch(), pg.Offset
	f.Name, f.Document = r.URL.Query().Get("name"), r.URL.Query().Get("document")
	list, err := s.Store.ListEncounters(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, more := trim(pg, list)
	// The audit says what kind of search it was, never the words searched.
	detail := fmt.Sprintf("%d encounters", len(list))
	if f.Name != "" {
		detail += ", by name"
	}
	if f.Document != "" {
		detail += ", by document"
	}
	if err := s.audit(r, huella.ActionEncounterList, "encounters", "", detail); err != nil {
		s.Error(w, r, err)
		return
	}
	if list == nil {
		list = []*huella.Encounter{}
	}
	if more {
		last := list[len(list)-1]
		setNext(w, r, &pageCursor{At: last.CapturedAt, ID: last.ID})
	}
	writeJSON(w, http.StatusOK, list)
}

// encounterFilter reads site, from and to, and limits site-scoped users to
// their sites: asking for another site is EFORBIDDEN.
func (s *Server) encounterFilter(r *http.Request) (huella.EncounterFilter, error) {
	var f huella.EncounterFilter
	q := r.URL.Query()
	user := huella.ActorFromContext(r.Context())
	f.Sites = q["site"]
	for _, site := range f.Sites {
		if !user.CanAccessSite(site) {
			return f, huella.Errorf(huella.EFORBIDDEN, "you do not work at site %s", site)
		}
	}
	if len(f.Sites) == 0 && user.Role.SiteScoped() {
		f.Sites = slices.Clone(user.Sites)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, huella.Errorf(huella.EINVALID, "%s must be an RFC 3339 time", p.name)
			}
			*p.dst = t
		}
	}
	return f, nil
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	f, err := s.encounterFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st, err := s.Store.EncounterStats(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleListSites(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sites, err := s.Store.ListSites(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sites, next, err := pageByID(pg, sites, func(s *huella.Site) string { return s.Code })
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if sites == nil {
		sites = []*huella.Site{}
	}
	setNext(w, r, next)
	writeJSON(w, http.StatusOK, sites)
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request) {
	var site huella.Site
	if err := decodeJSON(w, r, &site); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Store.CreateSite(r.Context(), &site); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, site)
}

// userRequest creates a user; the server makes the token.
type userRequest struct {
	Name    string      `json:"name"`
	Role    huella.Role `json:"role"`
	Sites   []string    `json:"sites,omitempty"`
	Partner string      `json:"partner,omitempty"`
	// ExpiresInDays is the token's lifetime: at most 90 days for people
	// (the default), up to 730 for partner systems.
	ExpiresInDays int `json:"expires_in_days,omitempty"`
}

// userResponse returns the new user and its token, shown only this once.
type userResponse struct {
	User  *huella.User `json:"user"`
	Token string       `json:"token"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	lifetime, err := huella.TokenLifetime(req.Role, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	token := NewToken()
	u := &huella.User{Name: req.Name, Role: req.Role, Sites: req.Sites, Partner: req.Partner}
	u.IssueToken(huella.HashToken(token), s.Now(), lifetime)
	if err := s.Store.CreateUser(r.Context(), u); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, userResponse{User: u, Token: token})
}

// NewToken returns a new random API token (256 bits, URL-safe base64).
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("huella: crypto/rand failed: " + err.Error())
	}
	return "hu_" + base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	sort := r.URL.Query().Get("sort")
	if sort != "" && sort != "name" && sort != "last-used" {
		s.Error(w, r, huella.Errorf(huella.EINVALID, "sort must be name or last-used"))
		return
	}
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	users, err := s.Store.ListUsers(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var next *pageCursor
	if sort == "last-used" {
		huella.SortByTokenUse(users)
		users, next, err = pageByTokenUse(pg, users)
	} else {
		users, next, err = pageByID(pg, users, func(u *huella.User) string { return u.ID })
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if users == nil {
		users = []*huella.User{}
	}
	setNext(w, r, next)
	writeJSON(w, http.StatusOK, users)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, huella.ActorFromContext(r.Context()))
}

func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			s.Error(w, r, huella.Errorf(huella.EINVALID, "after must be a sequence number"))
			return
		}
	}
	if pg.Cursor != nil {
		after = pg.Cursor.Seq
	}
	events, err := s.Store.ListAuditEvents(r.Context(), after, pg.fetch())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	events, more := trim(pg, events)
	if err := s.audit(r, huella.ActionAuditRead, "audit", "", fmt.Sprintf("after %d", after)); err != nil {
		s.Error(w, r, err)
		return
	}
	if events == nil {
		events = []*huella.AuditEvent{}
	}
	if more {
		setNext(w, r, &pageCursor{Seq: events[len(events)-1].Seq})
	}
	writeJSON(w, http.StatusOK, events)
}

// audit appends the event for a read of personal data. The read is refused
// if it cannot be audited.
func (s *Server) audit(r *http.Request, action, object, site, detail string) error {
	e := huella.NewAuditEvent(r.Context(), action, object, site)
	e.Time = s.Now()
	e.Detail = detail
	return s.Store.AppendAudit(r.Context(), e)
}
