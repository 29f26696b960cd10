package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

type searchPage struct {
	Query     string
	Searched  bool
	Hits      []searchHit
	Truncated bool // more encounters or subjects matched than are shown
}

// searchHit is one subject with the matching encounters.
type searchHit struct {
	SubjectID  string
	Names      []huella.Name
	Documents  []huella.Document
	Sites      []string
	LastSeen   time.Time
	LastSite   string
	Encounters int
}

// handleSearch finds subjects by subject or encounter ID (which open the
// record directly), or by name and document number through the store's
// index: every word of the query begins a word of one name (case and
// accents ignored), or the query is a document number.
func (c *Console) handleSearch(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page := searchPage{Query: q}
	switch {
	case q == "":
	case strings.HasPrefix(q, "sub_") && len(q) == 30:
		http.Redirect(w, r, "/subjects/"+q, http.StatusSeeOther)
		return
	case strings.HasPrefix(q, "enc_") && len(q) == 30:
		http.Redirect(w, r, "/encounters/"+q, http.StatusSeeOther)
		return
	default:
		page.Searched = true
		var filters []huella.EncounterFilter
		if words := huella.NameWords(q); len(words) > 0 && len(words) <= huella.MaxNameWords {
			filters = append(filters, huella.EncounterFilter{Name: q})
		}
		if huella.DocumentKey(q) != "" {
			filters = append(filters, huella.EncounterFilter{Document: q})
		}
		var found []*huella.Encounter
		seen := map[string]bool{}
		for _, f := range filters {
			f.Limit = searchMaxEncounters
			if req.user.Role.SiteScoped() {
				f.Sites = req.user.Sites
			}
			list, err := c.cfg.Store.ListEncounters(ctx, f)
			if err != nil {
				c.renderError(w, r, req.user, err)
				return
			}
			page.Truncated = page.Truncated || len(list) == searchMaxEncounters
			for _, e := range list {
				if !seen[e.ID] {
					seen[e.ID] = true
					found = append(found, e)
				}
			}
		}
		// Newest first, one line per subject.
		slices.SortFunc(found, func(a, b *huella.Encounter) int { return b.CapturedAt.Compare(a.CapturedAt) })
		bySubject := map[string]*searchHit{}
		var order []string
		for _, e := range found {
			h := bySubject[e.SubjectID]
			if h == nil {
				h = &searchHit{SubjectID: e.SubjectID, LastSeen: e.CapturedAt, LastSite: e.SiteCode}
				bySubject[e.SubjectID] = h
				order = append(order, e.SubjectID)
			}
			h.add(e)
		}
		for _, id := range order {
			if len(page.Hits) == searchMaxHits {
				page.Truncated = true
				break
			}
			page.Hits = append(page.Hits, *bySubject[id])
		}
		// The audit says how many were found, never the words searched.
		if err := c.audit(ctx, huella.ActionEncounterList, "encounters", "", fmt.Sprintf("search by name or document: %d subjects, %d encounters", len(page.Hits), len(found))); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
	}
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "search")
	v.sites = sites
	v.Data = page
	c.render(w, http.StatusOK, "search", v)
}

func (h *searchHit) add(e *huella.Encounter) {
	h.Encounters++
	for _, n := range e.Biographics.Names {
		if !containsName(h.Names, n) {
			h.Names = append(h.Names, n)
		}
	}
	for _, d := range e.Biographics.Documents {
		if !containsDoc(h.Documents, d) {
			h.Documents = append(h.Documents, d)
		}
	}
	if !containsString(h.Sites, e.SiteCode) {
		h.Sites = append(h.Sites, e.SiteCode)
	}
}

func containsName(list []huella.Name, n huella.Name) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func containsDoc(list []huella.Document, d huella.Document) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
