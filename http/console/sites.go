package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/huella-abis/huella"
)

type sitesPage struct {
	Sites []*huella.Site
	// Links is each site's link to the center (nil: this node is neither
	// a center of sites nor a site node).
	Links map[string]SiteLink
	Form  url.Values
	Error string
	Saved string
}

func (c *Console) handleSites(w http.ResponseWriter, r *http.Request, req *request) {
	c.renderSites(w, r, req, http.StatusOK, sitesPage{Form: url.Values{}})
}

func (c *Console) renderSites(w http.ResponseWriter, r *http.Request, req *request, status int, page sitesPage) {
	_, sites, err := c.loadSites(r.Context())
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page.Sites = sites
	if c.cfg.SiteLinks != nil {
		page.Links = c.cfg.SiteLinks(r.Context())
	}
	v := c.pageView(r, req, "sites")
	v.Data = page
	c.render(w, status, "sites", v)
}

func (c *Console) handleCreateSite(w http.ResponseWriter, r *http.Request, req *request) {
	s := &huella.Site{
		Code: strings.TrimSpace(r.PostFormValue("code")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Country: strings.TrimSpace(r.PostFormValue("country")), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone")),
	}
	v := c.pageView(r, req, "sites")
	if err := c.cfg.Store.CreateSite(r.Context(), s); err != nil {
		if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.ECONFLICT {
			c.renderError(w, r, req.user, err)
			return
		}
		c.renderSites(w, r, req, http.StatusBadRequest, sitesPage{Form: r.PostForm, Error: v.ErrorText(err)})
		return
	}
	c.renderSites(w, r, req, http.StatusCreated, sitesPage{Form: url.Values{}, Saved: s.Code})
}
