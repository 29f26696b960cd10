package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

type searchPage struct {
	Query     string
	Searched  bool
	Hits      []searchHit
	Scanned   int
	Truncated bool // the scan stopped at searchScanLimit
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
// record directly), by document number, or by name (every word of the
// query in a name, ignoring case and accents).
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
		words := strings.Fields(fold(q))
		doc := normaliseDocument(q)
		f := huella.EncounterFilter{Limit: searchPageSize}
		if req.user.Role.SiteScoped() {
			f.Sites = req.user.Sites
		}
		bySubject := map[string]*searchHit{}
		var order []string
		for f.Offset < searchScanLimit {
			list, err := c.cfg.Store.ListEncounters(ctx, f)
			if err != nil {
				c.renderError(w, r, req.user, err)
				return
			}
			page.Scanned += len(list)
			for _, e := range list {
				if !matches(e, words, doc) {
					continue
				}
				h := bySubject[e.SubjectID]
				if h == nil {
					h = &searchHit{SubjectID: e.SubjectID, LastSeen: e.CapturedAt, LastSite: e.SiteCode}
					bySubject[e.SubjectID] = h
					order = append(order, e.SubjectID)
				}
				h.add(e)
			}
			if len(list) < searchPageSize {
				break
			}
			f.Offset += searchPageSize
			page.Truncated = f.Offset >= searchScanLimit
		}
		for _, id := range order {
			if len(page.Hits) == searchMaxHits {
				page.Truncated = true
				break
			}
			page.Hits = append(page.Hits, *bySubject[id])
		}
		if err := c.audit(ctx, huella.ActionEncounterList, "encounters", "", fmt.Sprintf("search: %d subjects of %d encounters", len(page.Hits), page.Scanned)); err != nil {
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

// matches reports whether the encounter has a document with the number, or
// a name holding every word.
func matches(e *huella.Encounter, words []string, doc string) bool {
	for _, d := range e.Biographics.Documents {
		if doc != "" && normaliseDocument(d.Number) == doc {
			return true
		}
	}
	if len(words) == 0 {
		return false
	}
	for _, n := range e.Biographics.Names {
		name := fold(n.Given + " " + n.Family)
		all := true
		for _, w := range words {
			if !strings.Contains(name, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// accents maps accented Latin letters to their base letter.
var accents = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ñ", "n", "ç", "c", "ý", "y", "ÿ", "y",
)

// fold lowers case and removes accents, so that "Méndez" matches "mendez".
func fold(s string) string { return accents.Replace(strings.ToLower(s)) }

// normaliseDocument keeps a document number's letters and digits, upper case.
func normaliseDocument(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
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
