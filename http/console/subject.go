package console

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

type subjectPage struct {
	Subject   *huella.Subject
	Timeline  []encounterPage // newest first
	Names     []huella.Name   // every name given, first seen first
	Sites     []string        // every site the person was seen at
	CanEnroll bool
	CanPurge  bool // a supervisor, of a subject not merged into another
	// PurgeReasons are the reasons a supervisor may give: retention is
	// the command line's.
	PurgeReasons []huella.PurgeReason
	Nationals    []string
	FirstSeen    *huella.Encounter
	LatestSeen   *huella.Encounter
	// Hits about the subject (examiners and supervisors; examiners those
	// at their sites) and deliveries about them to partners (supervisors,
	// admins, auditors); nil when the user may not see them.
	Hits       []*huella.Hit
	Deliveries []*huella.Delivery
	ShowHits   bool
	ShowDelivs bool
}

// subjectHitsShown and subjectDeliveriesShown bound the lists on a
// subject's page; the queue and the partners page have them all.
const (
	subjectHitsShown       = 50
	subjectDeliveriesShown = 50
)

// handleSubject shows a subject's history across sites. As in the API,
// encounters at sites a site-scoped user does not work at show only when,
// where and why they happened.
func (c *Console) handleSubject(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	sub, err := c.cfg.Store.FindSubject(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	visible := !req.user.Role.SiteScoped()
	for _, e := range sub.Encounters {
		visible = visible || req.user.CanAccessSite(e.SiteCode)
	}
	if !visible {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "the subject has no encounter at a site you work at"))
		return
	}
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page := subjectPage{Subject: sub, CanEnroll: req.user.Role == huella.RoleOfficer,
		CanPurge:     req.user.Role == huella.RoleSupervisor && sub.MergedInto == "",
		PurgeReasons: []huella.PurgeReason{huella.PurgeCourtOrder, huella.PurgeDataProtection, huella.PurgeEnrollmentError}}
	if slices.Contains(access.HitReaders, req.user.Role) {
		// The store lists hits oldest first: read up to its page limit
		// and keep the newest.
		f := huella.HitFilter{SubjectID: sub.ID, Limit: 1000}
		if req.user.Role.SiteScoped() {
			f.Sites = slices.Clone(req.user.Sites)
		}
		if page.Hits, err = c.cfg.Store.ListHits(ctx, f); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		page.Hits = page.Hits[max(0, len(page.Hits)-subjectHitsShown):]
		slices.Reverse(page.Hits) // newest first, as the timeline
		page.ShowHits = true
	}
	if slices.Contains(access.DeliveryReaders, req.user.Role) {
		if page.Deliveries, err = c.cfg.Store.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: sub.ID, Limit: subjectDeliveriesShown}); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		page.ShowDelivs = true
	}
	if err := c.audit(ctx, huella.ActionSubjectRead, "subject/"+sub.ID, "", fmt.Sprintf("%d hits, %d deliveries shown", len(page.Hits), len(page.Deliveries))); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	seenName := map[huella.Name]bool{}
	seenSite := map[string]bool{}
	seenNat := map[string]bool{}
	for _, e := range sub.Encounters {
		ok := req.user.CanAccessSite(e.SiteCode)
		if ok {
			for _, n := range e.Biographics.Names {
				if !seenName[n] {
					seenName[n] = true
					page.Names = append(page.Names, n)
				}
			}
			if nat := e.Biographics.Nationality; nat != "" && !seenNat[nat] {
				seenNat[nat] = true
				page.Nationals = append(page.Nationals, nat)
			}
		}
		if !seenSite[e.SiteCode] {
			seenSite[e.SiteCode] = true
			page.Sites = append(page.Sites, e.SiteCode)
		}
		page.Timeline = append([]encounterPage{{Encounter: e, Visible: ok}}, page.Timeline...)
	}
	if n := len(sub.Encounters); n > 0 {
		page.FirstSeen, page.LatestSeen = sub.Encounters[0], sub.Encounters[n-1]
	}
	v := c.pageView(r, req, "subject")
	v.sites = sites
	v.Data = page
	c.render(w, http.StatusOK, "subject", v)
}
