package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/huella-abis/huella"
)

type encountersPage struct {
	Sites          []*huella.Site
	Site, From, To string
	Encounters     []*huella.Encounter
	Offset, Limit  int
	Prev, Next     string // links to the neighbouring pages
}

// handleEncounters lists encounters by site and capture date, newest
// first; the list is audited as the API's is.
func (c *Console) handleEncounters(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	sites, all, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	q := r.URL.Query()
	page := encountersPage{Sites: accessibleSites(req.user, all), Site: q.Get("site"), From: q.Get("from"), To: q.Get("to"), Limit: encountersPerPage}
	f := huella.EncounterFilter{Limit: encountersPerPage + 1}
	if page.Site != "" {
		if !req.user.CanAccessSite(page.Site) {
			c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "you do not work at site %s", page.Site))
			return
		}
		f.Sites = []string{page.Site}
	} else if req.user.Role.SiteScoped() {
		f.Sites = slices.Clone(req.user.Sites)
	}
	if f.From, err = parseDate(page.From, 0); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if f.To, err = parseDate(page.To, 1); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if o, err := strconv.Atoi(q.Get("offset")); err == nil && o > 0 {
		page.Offset = o
	}
	f.Offset = page.Offset
	list, err := c.cfg.Store.ListEncounters(ctx, f)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	more := len(list) > encountersPerPage
	if more {
		list = list[:encountersPerPage]
	}
	if err := c.audit(ctx, huella.ActionEncounterList, "encounters", page.Site, fmt.Sprintf("%d encounters", len(list))); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page.Encounters = list
	link := func(offset int) string {
		v := url.Values{}
		for _, k := range []string{"site", "from", "to"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		return "/encounters?" + v.Encode()
	}
	if page.Offset > 0 {
		page.Prev = link(maxInt(page.Offset-encountersPerPage, 0))
	}
	if more {
		page.Next = link(page.Offset + encountersPerPage)
	}
	v := c.pageView(r, req, "encounters")
	v.sites = sites
	v.Data = page
	c.render(w, http.StatusOK, "encounters", v)
}

// parseDate reads a yyyy-mm-dd date as UTC midnight, plus days.
func parseDate(s string, days int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, huella.Errorf(huella.EINVALID, "a date must look like 2026-11-26")
	}
	return t.AddDate(0, 0, days), nil
}

type encounterPage struct {
	Encounter *huella.Encounter
	Visible   bool
}

// handleEncounter shows one encounter, audited as encounter.read.
func (c *Console) handleEncounter(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	e, err := c.cfg.Store.FindEncounter(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if !req.user.CanAccessSite(e.SiteCode) {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "the encounter is at a site you do not work at"))
		return
	}
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if err := c.audit(ctx, huella.ActionEncounterRead, "encounter/"+e.ID, e.SiteCode, ""); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "encounter")
	v.sites = sites
	v.Data = encounterPage{Encounter: e, Visible: true}
	c.render(w, http.StatusOK, "encounter", v)
}
