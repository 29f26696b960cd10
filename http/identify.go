package http

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
)

// identifyRoutes are the endpoints of identification, watchlists and
// adjudication.
func (s *Server) identifyRoutes() []route {
	return []route{
		{Method: "POST", Path: "/v1/identify", Summary: "Search probe samples against every subject and active watchlist (1:N), without enrolling",
			Roles: access.Readers, Multipart: true, Request: probeRequest{}, Response: huella.Identification{}, Handler: s.handleIdentify},
		{Method: "POST", Path: "/v1/verify", Summary: "Compare probe samples with one subject (1:1)",
			Roles: access.Readers, Multipart: true, Request: probeRequest{}, Response: enroll.Verification{}, Handler: s.handleVerify},
		{Method: "GET", Path: "/v1/hits", Summary: "The adjudication queue: hits by state and kind, oldest first",
			Roles: access.HitReaders, Response: []huella.Hit{}, Handler: s.handleListHits,
			Query: []param{{"state", "string", "pending, confirmed, rejected or withdrawn"}, {"kind", "string", "duplicate or watchlist"}, {"site", "string", "site code (repeatable)"}}, Paged: true},
		{Method: "GET", Path: "/v1/hits/{id}", Summary: "A hit side by side: scores, the probe encounter and the candidate",
			Roles: access.HitReaders, Response: adjudicate.View{}, Handler: s.handleGetHit},
		{Method: "GET", Path: "/v1/hits/{id}/images/{sample}", Summary: "Fetch an image of a hit's probe or candidate, decrypted: the candidate's from any site while the hit is pending",
			Roles: access.HitReaders, RawResponse: "application/octet-stream", Handler: s.handleGetHitImage},
		{Method: "POST", Path: "/v1/hits/{id}/decision", Summary: "Confirm or reject a hit, with a reason (examiners, at their sites)",
			Roles: access.Examiners, Request: decisionRequest{}, Response: huella.Hit{}, Handler: s.handleDecideHit},
		{Method: "POST", Path: "/v1/subjects/{id}/unmerge", Summary: "Undo the merge of a subject; its history is kept",
			Roles: access.Supervisors, Handler: s.handleUnmerge},
		{Method: "GET", Path: "/v1/watchlists", Summary: "List watchlists (a partner sees its own)",
			Roles: access.WatchlistReaders, Response: []huella.Watchlist{}, Handler: s.handleListWatchlists, Paged: true},
		{Method: "POST", Path: "/v1/watchlists", Summary: "Create a watchlist (a partner creates its own)",
			Roles: access.WatchlistOwners, Request: huella.Watchlist{}, Response: huella.Watchlist{}, Handler: s.handleCreateWatchlist},
		{Method: "GET", Path: "/v1/watchlists/{id}/entries", Summary: "List a watchlist's entries, removed ones too (a partner reads its own lists)",
			Roles: access.WatchlistOwners, Response: []huella.WatchEntry{}, Handler: s.handleListWatchEntries, Paged: true},
		{Method: "POST", Path: "/v1/watchlists/{id}/entries", Summary: "Add an entry with biometrics to a watchlist; it is searched back against every subject",
			Roles: access.WatchlistOwners, Multipart: true, Request: watchEntryRequest{}, Response: watchEntryResponse{}, Handler: s.handleAddWatchEntry},
		{Method: "POST", Path: "/v1/watch-entries/{id}/remove", Summary: "Take an entry off its watchlist, with a reason; it is kept for the record, no longer searched, and its pending hits are withdrawn",
			Roles: access.WatchlistOwners, Request: removalRequest{}, Response: huella.WatchEntry{}, Handler: s.handleRemoveWatchEntry},
	}
}

// probeRequest is the JSON part "probe" of an identify or verify request.
type probeRequest struct {
	SubjectID string          `json:"subject_id,omitempty"` // verify only
	Samples   []sampleRequest `json:"samples"`
}

func (s *Server) readProbe(w http.ResponseWriter, r *http.Request) (*probeRequest, []*huella.Sample, [][]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxRequestSize())
	body := &probeRequest{}
	parts, err := s.readMultipart(r, "probe", body)
	if err != nil {
		return nil, nil, nil, err
	}
	samples, images, err := samplesFromRequest(body.Samples, parts)
	return body, samples, images, err
}

func (s *Server) maxRequestSize() int64 {
	if s.MaxRequestSize == 0 {
		return DefaultMaxRequestSize
	}
	return s.MaxRequestSize
}

func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request) {
	_, samples, images, err := s.readProbe(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := s.Enroll.Identify(r.Context(), samples, images)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	detail := fmt.Sprintf("samples=%d candidates=%d hits=%d", len(samples), len(id.Candidates), len(id.Hits))
	if err := s.audit(r, huella.ActionIdentify, "probe", "", detail); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	body, samples, images, err := s.readProbe(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if body.SubjectID == "" {
		s.Error(w, r, huella.Errorf(huella.EINVALID, "subject_id required"))
		return
	}
	v, err := s.Enroll.Verify(r.Context(), body.SubjectID, samples, images)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, huella.ActionVerify, "subject/"+body.SubjectID, "", fmt.Sprintf("match=%t", v.Match)); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleListHits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := huella.HitFilter{State: huella.HitState(q.Get("state")), Kind: huella.HitKind(q.Get("kind")), Sites: q["site"]}
	switch f.State {
	case "", huella.HitPending, huella.HitConfirmed, huella.HitRejected, huella.HitWithdrawn:
	default:
		s.Error(w, r, huella.Errorf(huella.EINVALID, "state must be pending, confirmed, rejected or withdrawn"))
		return
	}
	switch f.Kind {
	case "", huella.HitDuplicate, huella.HitWatchlist:
	default:
		s.Error(w, r, huella.Errorf(huella.EINVALID, "kind must be duplicate or watchlist"))
		return
	}
	pg, err := readPage(r, false)
	if err == nil {
		f.After, err = pg.key()
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit = pg.fetch()
	hits, err := s.Adjudicate.Queue(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	hits, more := trim(pg, hits)
	if hits == nil {
		hits = []*huella.Hit{}
	}
	if more {
		last := hits[len(hits)-1]
		setNext(w, r, &pageCursor{At: last.CreatedAt, ID: last.ID})
	}
	writeJSON(w, http.StatusOK, hits)
}

func (s *Server) handleGetHit(w http.ResponseWriter, r *http.Request) {
	v, err := s.Adjudicate.Hit(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, huella.ActionHitRead, "hit/"+v.Hit.ID, v.Hit.Site, ""); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleGetHitImage serves an image of a hit's view, as the console's hit
// page does: an examiner compares the candidate's images wherever they
// were taken while the hit is pending (adjudicate.CandidateFor). The read
// is audited as sample.read.
func (s *Server) handleGetHitImage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	smp, h, err := s.Adjudicate.Sample(ctx, r.PathValue("id"), r.PathValue("sample"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data, err := s.Blobs.Get(ctx, smp.ImageRef)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, huella.ActionSampleRead, "sample/"+smp.ID, h.Site, string(smp.Modality)+" hit/"+h.ID); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentTypes[smp.Format])
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}

// decisionRequest is an examiner's decision on a hit.
type decisionRequest struct {
	State  huella.HitState `json:"state"` // confirmed or rejected
	Reason string          `json:"reason"`
}

func (s *Server) handleDecideHit(w http.ResponseWriter, r *http.Request) {
	var req decisionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	h, err := s.Adjudicate.Decide(r.Context(), r.PathValue("id"), req.State, req.Reason)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) handleUnmerge(w http.ResponseWriter, r *http.Request) {
	if err := s.Adjudicate.Unmerge(r.Context(), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListWatchlists(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	lists, err := s.Store.ListWatchlists(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u := huella.ActorFromContext(r.Context())
	out := []*huella.Watchlist{}
	for _, l := range lists {
		if u.Role != huella.RolePartner || l.Owner == u.Partner {
			out = append(out, l)
		}
	}
	writePageByID(w, r, pg, out, func(l *huella.Watchlist) string { return l.ID }, s.Error)
}

func (s *Server) handleCreateWatchlist(w http.ResponseWriter, r *http.Request) {
	var wl huella.Watchlist
	if err := decodeJSON(w, r, &wl); err != nil {
		s.Error(w, r, err)
		return
	}
	if u := huella.ActorFromContext(r.Context()); wl.Owner == "" && u.Role == huella.RolePartner {
		wl.Owner = u.Partner
	} else if wl.Owner == "" {
		wl.Owner = huella.ProgramOwner // the program's own list
	}
	if err := huella.CheckWatchlistOwner(r.Context(), wl.Owner, s.Store); err != nil {
		s.Error(w, r, err)
		return
	}
	if wl.ValidFrom.IsZero() {
		wl.ValidFrom = s.Now()
	}
	wl.ID, wl.CreatedAt = "", time.Time{}
	if err := s.Store.CreateWatchlist(r.Context(), &wl); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wl)
}

// watchEntryRequest is the JSON part "entry" of a new watchlist entry.
type watchEntryRequest struct {
	Reference   string             `json:"reference"`
	Biographics huella.Biographics `json:"biographics"`
	Samples     []sampleRequest    `json:"samples"`
}

// watchEntryResponse returns the stored entry and the hits its retro search raised.
type watchEntryResponse struct {
	Entry *huella.WatchEntry `json:"entry"`
	Hits  []*huella.Hit      `json:"hits"`
}

// ownWatchlist returns the watchlist if the actor may work on it: a
// partner only on its own lists (EFORBIDDEN with the refusal given),
// everyone else the route admits on any. ENOTFOUND.
func (s *Server) ownWatchlist(ctx context.Context, id, refusal string) (*huella.Watchlist, error) {
	list, err := s.Store.FindWatchlist(ctx, id)
	if err != nil {
		return nil, err
	}
	if u := huella.ActorFromContext(ctx); u.Role == huella.RolePartner && list.Owner != u.Partner {
		return nil, huella.Errorf(huella.EFORBIDDEN, "%s", refusal)
	}
	return list, nil
}

// handleListWatchEntries lists a watchlist's entries; reading who is on a
// list is a personal read, audited.
func (s *Server) handleListWatchEntries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.ownWatchlist(ctx, r.PathValue("id"), "a partner reads its own watchlists only")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := pg.key()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	entries, err := s.Store.PageWatchEntries(ctx, list.ID, after, pg.fetch())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	entries, more := trim(pg, entries)
	if err := s.audit(r, huella.ActionWatchEntryList, "watchlist/"+list.ID, "", fmt.Sprintf("%d entries", len(entries))); err != nil {
		s.Error(w, r, err)
		return
	}
	if entries == nil {
		entries = []*huella.WatchEntry{}
	}
	if more {
		last := entries[len(entries)-1]
		setNext(w, r, &pageCursor{At: last.CreatedAt, ID: last.ID})
	}
	writeJSON(w, http.StatusOK, entries)
}

func (s *Server) handleAddWatchEntry(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := s.ownWatchlist(ctx, r.PathValue("id"), "a partner adds entries to its own watchlists only")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxRequestSize())
	body := &watchEntryRequest{}
	parts, err := s.readMultipart(r, "entry", body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	samples, images, err := samplesFromRequest(body.Samples, parts)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e := &huella.WatchEntry{WatchlistID: list.ID, Reference: body.Reference, Biographics: body.Biographics, Samples: samples}
	hits, err := s.Enroll.AddWatchEntry(ctx, e, images)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if hits == nil {
		hits = []*huella.Hit{}
	}
	writeJSON(w, http.StatusCreated, watchEntryResponse{Entry: e, Hits: hits})
}

// removalRequest says why a watchlist entry is taken off its list (a
// notice withdrawn, a conviction quashed).
type removalRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleRemoveWatchEntry(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req removalRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	e, err := s.Store.FindWatchEntry(ctx, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.ownWatchlist(ctx, e.WatchlistID, "a partner removes entries of its own watchlists only"); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Enroll.RemoveWatchEntry(ctx, id, req.Reason); err != nil {
		s.Error(w, r, err)
		return
	}
	if e, err = s.Store.FindWatchEntry(ctx, id); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
