package console

import (
	"context"
	"net/http"

	"github.com/huella-abis/huella"
)

// loadSites returns every site, by code and in order.
func (c *Console) loadSites(ctx context.Context) (map[string]*huella.Site, []*huella.Site, error) {
	list, err := c.cfg.Store.ListSites(ctx)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]*huella.Site, len(list))
	for _, s := range list {
		m[s.Code] = s
	}
	return m, list, nil
}

// accessibleSites returns the sites the user works at, in order.
func accessibleSites(user *huella.User, all []*huella.Site) []*huella.Site {
	var out []*huella.Site
	for _, s := range all {
		if user.CanAccessSite(s.Code) {
			out = append(out, s)
		}
	}
	return out
}

// handleHome sends each role to its first page.
func (c *Console) handleHome(w http.ResponseWriter, r *http.Request, req *request) {
	v := c.pageView(r, req, "home")
	if items := v.Nav(); len(items) > 0 {
		http.Redirect(w, r, items[0].Href, http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "home", v)
}
