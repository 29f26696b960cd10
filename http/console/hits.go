package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/http/internal/access"
)

type hitsPage struct {
	State, Kind string
	Hits        []*huella.Hit
	Offset      int
	Next, Prev  string
	Decided     *huella.Hit // the hit just decided, named by the redirect
	CanDecide   bool
}

// handleHits lists hits by state, oldest first: the examiner's queue.
func (c *Console) handleHits(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	q := r.URL.Query()
	page := hitsPage{State: q.Get("state"), Kind: q.Get("kind"), CanDecide: req.user.Role == huella.RoleExaminer}
	if id := q.Get("decided"); id != "" {
		// A decision, or a first confirmation under the two-person rule.
		if h, err := c.cfg.Adjudicate.Find(ctx, id); err == nil && (h.State != huella.HitPending || h.FirstExaminer != "") {
			page.Decided = h
		}
	}
	if page.State == "" {
		page.State = string(huella.HitPending)
	}
	f := huella.HitFilter{State: huella.HitState(page.State), Kind: huella.HitKind(page.Kind), Limit: hitsPerPage + 1}
	if page.State == "all" {
		f.State = ""
	}
	if o, err := strconv.Atoi(q.Get("offset")); err == nil && o > 0 {
		page.Offset, f.Offset = o, o
	}
	hits, err := c.cfg.Adjudicate.Queue(ctx, f)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if len(hits) > hitsPerPage {
		hits = hits[:hitsPerPage]
		page.Next = fmt.Sprintf("/hits?state=%s&kind=%s&offset=%d", page.State, page.Kind, page.Offset+hitsPerPage)
	}
	if page.Offset > 0 {
		page.Prev = fmt.Sprintf("/hits?state=%s&kind=%s&offset=%d", page.State, page.Kind, maxInt(page.Offset-hitsPerPage, 0))
	}
	if err := c.audit(ctx, huella.ActionHitRead, "hits", "", fmt.Sprintf("%d hits", len(hits))); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page.Hits = hits
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "hits")
	v.sites = sites
	v.Data = page
	c.render(w, http.StatusOK, "hits", v)
}

// comparison is one row of the side-by-side view: the probe's image and
// the candidate's at the same place, with the score when the engines
// compared them, and for fingers their minutiae with the pairs linked.
type comparison struct {
	Slot             string
	Probe, Candidate *huella.Sample
	Score            *huella.ModalityScore
	Minutiae         *minutiaeView
}

type hitPage struct {
	Hit         *huella.Hit
	Probe       *huella.Encounter
	Subject     *huella.Subject    // a duplicate's candidate
	Names       []huella.Name      // every name the candidate subject gave
	Entry       *huella.WatchEntry // a watchlist hit's candidate
	Watchlist   *huella.Watchlist
	Comparisons []comparison
	CanDecide   bool
	Error       string
	Reason      string
	candidate   []*huella.Sample // the candidate's samples, newest first
}

// handleHit shows a hit side by side: probe and candidate images at each
// finger, eye and face, the per-modality and fused scores and what the
// fused false match rate means, then the decision form.
func (c *Console) handleHit(w http.ResponseWriter, r *http.Request, req *request) {
	c.renderHit(w, r, req, http.StatusOK, "", "")
}

func (c *Console) renderHit(w http.ResponseWriter, r *http.Request, req *request, status int, problem, reason string) {
	ctx := r.Context()
	page, err := c.hitPage(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if err := c.audit(ctx, huella.ActionHitRead, "hit/"+page.Hit.ID, page.Hit.Site, string(page.Hit.Kind)); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page.CanDecide = req.user.Role == huella.RoleExaminer && page.Hit.State == huella.HitPending
	page.Error, page.Reason = problem, reason
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "hit")
	v.sites = sites
	v.Data = page
	c.render(w, status, "hit", v)
}

// hitPage lays out the adjudication service's view of a hit (which checks
// that the user may see it and compares the fingers minutia by minutia).
func (c *Console) hitPage(ctx context.Context, id string) (*hitPage, error) {
	v, err := c.cfg.Adjudicate.Hit(ctx, id)
	if err != nil {
		return nil, err
	}
	page := &hitPage{Hit: v.Hit, Probe: v.Probe, Subject: v.Subject, Entry: v.WatchEntry, Watchlist: v.Watchlist}
	var candidate []*huella.Sample
	switch {
	case v.Subject != nil:
		candidate = adjudicate.CandidateSamples(v.Subject)
		seen := map[huella.Name]bool{}
		for i := len(v.Subject.Encounters) - 1; i >= 0; i-- { // newest first, as the images
			for _, n := range v.Subject.Encounters[i].Biographics.Names {
				if !seen[n] {
					seen[n] = true
					page.Names = append(page.Names, n)
				}
			}
		}
	case v.WatchEntry != nil:
		candidate = v.WatchEntry.Samples
	}
	page.Comparisons = compare(v.Probe.Samples, candidate, v.Hit.Candidate)
	for i := range page.Comparisons {
		row := &page.Comparisons[i]
		for _, f := range v.Fingers {
			if row.Probe != nil && row.Candidate != nil && f.Probe.SampleID == row.Probe.ID && f.Candidate.SampleID == row.Candidate.ID {
				row.Minutiae = newMinutiaeView(f)
			}
		}
	}
	return page, nil
}

// HasMinutiae reports whether any row draws minutiae (the page then shows
// their legend).
func (p *hitPage) HasMinutiae() bool {
	for _, row := range p.Comparisons {
		if row.Minutiae != nil {
			return true
		}
	}
	return false
}

// slotKey names where a sample sits, so that probe and candidate images of
// the same finger, eye or face line up.
func slotKey(m huella.Modality, position int, eye huella.Eye) string {
	switch m {
	case huella.ModalityFinger:
		return fmt.Sprintf("finger-%d", position)
	case huella.ModalityIris:
		return "iris-" + string(eye)
	default:
		return string(m)
	}
}

// compare lines up the images of both sides: first the places the engines
// compared (with their scores), then the other places both sides have.
func compare(probe, candidate []*huella.Sample, cand *huella.Candidate) []comparison {
	first := func(list []*huella.Sample, key string) *huella.Sample {
		for _, s := range list {
			if s.Modality != huella.ModalitySMT && slotKey(s.Modality, s.Position, s.Eye) == key {
				return s
			}
		}
		return nil
	}
	var out []comparison
	done := map[string]bool{}
	if cand != nil {
		for i := range cand.Scores {
			sc := &cand.Scores[i]
			key := slotKey(sc.Modality, sc.Position, sc.Eye)
			done[key] = true
			out = append(out, comparison{Slot: key, Probe: first(probe, key), Candidate: first(candidate, key), Score: sc})
		}
	}
	for _, s := range probe {
		key := slotKey(s.Modality, s.Position, s.Eye)
		if s.Modality == huella.ModalitySMT || done[key] {
			continue
		}
		done[key] = true
		if other := first(candidate, key); other != nil {
			out = append(out, comparison{Slot: key, Probe: s, Candidate: other})
		}
	}
	return out
}

// handleDecide confirms or rejects a pending hit with a reason.
func (c *Console) handleDecide(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	state := huella.HitState(r.PostFormValue("decision"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	v := c.pageView(r, req, "hit")
	if state != huella.HitConfirmed && state != huella.HitRejected {
		c.renderHit(w, r, req, http.StatusBadRequest, v.T("hit.err.decision"), reason)
		return
	}
	if reason == "" {
		c.renderHit(w, r, req, http.StatusBadRequest, v.T("hit.err.reason"), reason)
		return
	}
	h, err := c.cfg.Adjudicate.Decide(ctx, r.PathValue("id"), state, reason)
	if err != nil {
		switch huella.ErrorCode(err) {
		case huella.EINVALID, huella.ECONFLICT:
			c.renderHit(w, r, req, access.Status(huella.ErrorCode(err)), v.ErrorText(err), reason)
		default:
			c.renderError(w, r, req.user, err)
		}
		return
	}
	c.cfg.Logger.Info("console hit decided", "hit", h.ID, "state", h.State, "user", req.user.ID)
	http.Redirect(w, r, "/hits?decided="+h.ID, http.StatusSeeOther)
}

// handleHitImage serves an image of a hit's probe or candidate. Examiners
// see the candidate's finger, iris and face images wherever they were
// taken while the hit is pending, since comparing them is their work
// (adjudicate.CandidateFor); the read is audited as sample.read.
func (c *Console) handleHitImage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	smp, h, err := c.cfg.Adjudicate.Sample(ctx, r.PathValue("id"), r.PathValue("sample"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	c.serveImage(w, r, req, smp, h.Site, string(smp.Modality)+" hit/"+h.ID)
}

// SlotName names a comparison's place: a finger, an eye or the face.
func (v *view) SlotName(key string) string {
	switch {
	case strings.HasPrefix(key, "finger-"):
		n, _ := strconv.Atoi(strings.TrimPrefix(key, "finger-"))
		return v.Finger(n)
	case strings.HasPrefix(key, "iris-"):
		return v.T("iris." + strings.TrimPrefix(key, "iris-"))
	default:
		return v.T("modality." + key)
	}
}
