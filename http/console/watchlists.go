package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
)

// programOwner owns the program's own watchlists.
const programOwner = "PROGRAM"

// watchNameRows is how many names (the name and aliases) an entry form takes.
const watchNameRows = 2

type watchlistsPage struct {
	Watchlists []*huella.Watchlist
	// The forms, for owners only.
	CanEdit    bool
	Partner    string // a partner's code: its lists' owner, forced
	Categories []huella.WatchlistCategory
	Fingers    []int
	Names      []int
	Sexes      []string
	Form       url.Values
	Error      string
	Saved      string // the name of the watchlist just created
	Entry      *huella.WatchEntry
	Hits       []*huella.Hit
	ShowHits   bool // the user may open the hits
	// The entries of each list (by watchlist ID), removed ones included,
	// for owners only, and the names of the users who removed some.
	Entries map[string][]*huella.WatchEntry
	Users   map[string]string
	Removed string // the reference of the entry just removed
	// RemoveError is why the removal of entry RemoveEntry was refused.
	RemoveEntry, RemoveError string
}

// UserName returns the name of a user, or the ID if unknown.
func (p watchlistsPage) UserName(id string) string {
	if name, ok := p.Users[id]; ok {
		return name
	}
	return id
}

// Val returns the form's value of the field.
func (p watchlistsPage) Val(name string) string { return p.Form.Get(name) }

// Field names a field of a numbered row: Field "given" 0 is "given_0".
func (p watchlistsPage) Field(name string, i int) string { return fmt.Sprintf("%s_%d", name, i) }

// handleWatchlists lists the watchlists in force and past, with their
// owners and categories. Owners (supervisors, admins, a partner for its
// own lists) also see each list's entries by reference, removed ones
// greyed with who removed them, when and why; others see entries only
// through hits. A partner sees its own lists.
func (c *Console) handleWatchlists(w http.ResponseWriter, r *http.Request, req *request) {
	c.renderWatchlists(w, r, req, http.StatusOK, watchlistsPage{Form: url.Values{}})
}

func (c *Console) renderWatchlists(w http.ResponseWriter, r *http.Request, req *request, status int, page watchlistsPage) {
	ids := c.cfg.Store
	lists, err := ids.ListWatchlists(r.Context())
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	for _, l := range lists {
		if req.user.Role != huella.RolePartner || l.Owner == req.user.Partner {
			page.Watchlists = append(page.Watchlists, l)
		}
	}
	for _, role := range access.WatchlistOwners {
		page.CanEdit = page.CanEdit || role == req.user.Role
	}
	for _, role := range access.HitReaders {
		page.ShowHits = page.ShowHits || role == req.user.Role
	}
	if req.user.Role == huella.RolePartner {
		page.Partner = req.user.Partner
	}
	if page.CanEdit {
		if err := c.loadWatchEntries(r.Context(), ids, &page); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
	}
	page.Categories = huella.WatchlistCategories
	page.Sexes = []string{"U", "F", "M", "X"}
	for i := 1; i <= 10; i++ {
		page.Fingers = append(page.Fingers, i)
	}
	for i := 0; i < watchNameRows; i++ {
		page.Names = append(page.Names, i)
	}
	v := c.pageView(r, req, "watchlists")
	v.Data = page
	c.render(w, status, "watchlists", v)
}

// handleCreateWatchlist creates a watchlist; a partner's is its own, the
// others' the program's unless they name an owner.
func (c *Console) handleCreateWatchlist(w http.ResponseWriter, r *http.Request, req *request) {
	ids := c.cfg.Adjudicate.Store
	v := c.pageView(r, req, "watchlists")
	wl := &huella.Watchlist{Name: strings.TrimSpace(r.PostFormValue("name")), Owner: strings.TrimSpace(r.PostFormValue("owner")),
		Category: huella.WatchlistCategory(r.PostFormValue("category"))}
	fail := func(msg string) {
		c.renderWatchlists(w, r, req, http.StatusBadRequest, watchlistsPage{Form: r.PostForm, Error: msg})
	}
	if req.user.Role == huella.RolePartner {
		wl.Owner = req.user.Partner
	} else if wl.Owner == "" {
		wl.Owner = programOwner
	}
	if err := huella.CheckWatchlistOwner(r.Context(), wl.Owner, c.cfg.Store); err != nil {
		if huella.ErrorCode(err) != huella.EINVALID && huella.ErrorCode(err) != huella.EFORBIDDEN {
			c.renderError(w, r, req.user, err)
			return
		}
		fail(v.ErrorText(err))
		return
	}
	var ok bool
	if wl.ValidFrom, ok = parseFormTime(r.PostFormValue("valid_from")); !ok {
		fail(v.T("watchlists.err.date", v.T("watchlists.valid_from")))
		return
	}
	if wl.ValidFrom.IsZero() {
		wl.ValidFrom = c.cfg.Now()
	}
	if wl.ValidUntil, ok = parseFormTime(r.PostFormValue("valid_until")); !ok {
		fail(v.T("watchlists.err.date", v.T("watchlists.valid_until")))
		return
	}
	if err := ids.CreateWatchlist(r.Context(), wl); err != nil {
		if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.ECONFLICT {
			c.renderError(w, r, req.user, err)
			return
		}
		fail(v.ErrorText(err))
		return
	}
	c.cfg.Logger.Info("console watchlist created", "watchlist", wl.ID, "user", req.user.ID)
	c.renderWatchlists(w, r, req, http.StatusCreated, watchlistsPage{Form: url.Values{}, Saved: wl.Name})
}

// parseFormTime reads an <input type="datetime-local"> or <input
// type="date"> value in UTC; empty is the zero time.
func parseFormTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{datetimeLayout, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// handleAddWatchEntry adds a person with their images to a watchlist
// through the enrollment service, which stores them, extracts templates
// and searches them back against every subject; the hits raised are shown.
func (c *Console) handleAddWatchEntry(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxEnrollSize)
	maxImage := enroll.DefaultMaxImageSize
	if c.cfg.Enroll.MaxImageSize != 0 {
		maxImage = c.cfg.Enroll.MaxImageSize
	}
	form, files, err := readUpload(r, req, int64(maxImage))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	ids := c.cfg.Adjudicate.Store
	list, err := ids.FindWatchlist(ctx, form.Get("watchlist"))
	if err != nil {
		if huella.ErrorCode(err) == huella.ENOTFOUND {
			v := c.pageView(r, req, "watchlists")
			c.renderWatchlists(w, r, req, http.StatusBadRequest, watchlistsPage{Form: form, Error: v.T("watchlists.err.no_list")})
			return
		}
		c.renderError(w, r, req.user, err)
		return
	}
	if req.user.Role == huella.RolePartner && list.Owner != req.user.Partner {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "a partner adds entries to its own watchlists only"))
		return
	}
	if c.cfg.Enroll.Identifier == nil {
		c.renderError(w, r, req.user, huella.Errorf(huella.EUNAVAILABLE, "watchlist entries need the identification engines, which are not running"))
		return
	}
	v := c.pageView(r, req, "watchlists")
	e, images, slots := buildWatchEntry(v, list.ID, form, files)
	hits, err := c.cfg.Enroll.AddWatchEntry(ctx, e, images)
	if err != nil {
		switch huella.ErrorCode(err) {
		case huella.EINVALID, huella.ETOOLARGE, huella.EUNSUPPORTED, huella.EUNPROCESSABLE, huella.EUNAVAILABLE:
			c.renderWatchlists(w, r, req, access.Status(huella.ErrorCode(err)), watchlistsPage{Form: form, Error: sampleErrorText(v, err, slots)})
		default:
			c.renderError(w, r, req.user, err)
		}
		return
	}
	c.cfg.Logger.Info("console watch entry added", "watchlist", list.ID, "entry", e.ID, "hits", len(hits), "user", req.user.ID)
	c.renderWatchlists(w, r, req, http.StatusCreated, watchlistsPage{Form: url.Values{}, Entry: e, Hits: hits})
}

// buildWatchEntry turns the form into an entry and its images, naming each
// image by its place on the form for error messages.
func buildWatchEntry(v *view, listID string, form url.Values, files map[string][]byte) (*huella.WatchEntry, [][]byte, []string) {
	e := &huella.WatchEntry{WatchlistID: listID, Reference: strings.TrimSpace(form.Get("reference"))}
	for i := 0; i < watchNameRows; i++ {
		n := huella.Name{Given: strings.TrimSpace(form.Get(fmt.Sprintf("given_%d", i))), Family: strings.TrimSpace(form.Get(fmt.Sprintf("family_%d", i)))}
		if n != (huella.Name{}) {
			e.Biographics.Names = append(e.Biographics.Names, n)
		}
	}
	if len(e.Biographics.Names) > 0 {
		e.Biographics.Sex = huella.Sex(form.Get("sex"))
		if e.Biographics.Sex == "" {
			e.Biographics.Sex = huella.SexUnknown
		}
	}
	var images [][]byte
	var slots []string
	add := func(s huella.Sample, data []byte, slot string) {
		e.Samples = append(e.Samples, &s)
		images = append(images, data)
		slots = append(slots, slot)
	}
	for pos := 1; pos <= 10; pos++ {
		if data := files[fmt.Sprintf("finger_%d", pos)]; data != nil {
			add(huella.Sample{Modality: huella.ModalityFinger, Position: pos, Impression: huella.ImpressionPlain}, data, v.Finger(pos))
		}
	}
	for _, eye := range []huella.Eye{huella.EyeRight, huella.EyeLeft} {
		if data := files["iris_"+string(eye)]; data != nil {
			add(huella.Sample{Modality: huella.ModalityIris, Eye: eye}, data, v.T("iris."+string(eye)))
		}
	}
	if data := files["face"]; data != nil {
		add(huella.Sample{Modality: huella.ModalityFace}, data, v.T("modality.face"))
	}
	return e, images, slots
}

// Active reports whether the watchlist is in force now.
func (v *view) Active(w *huella.Watchlist) bool { return w.Active(v.now) }

// loadWatchEntries reads the entries of the page's lists, and the names of
// the users who removed some of them.
func (c *Console) loadWatchEntries(ctx context.Context, ids huella.IdentityStore, page *watchlistsPage) error {
	page.Entries = map[string][]*huella.WatchEntry{}
	var removed bool
	for _, l := range page.Watchlists {
		entries, err := ids.ListWatchEntries(ctx, l.ID)
		if err != nil {
			return err
		}
		page.Entries[l.ID] = entries
		for _, e := range entries {
			removed = removed || e.Removed()
		}
	}
	if !removed {
		return nil
	}
	users, err := c.cfg.Store.ListUsers(ctx)
	if err != nil {
		return err
	}
	page.Users = map[string]string{}
	for _, u := range users {
		page.Users[u.ID] = u.Name
	}
	return nil
}

// handleRemoveWatchEntry takes an entry off its watchlist with the reason
// typed (a notice withdrawn, a conviction quashed), as the API does: a
// partner only from its own lists. The entry is kept, greyed, and its
// pending hits are withdrawn; the running identifier stops matching it at
// once.
func (c *Console) handleRemoveWatchEntry(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	ids := c.cfg.Adjudicate.Store
	id := r.PathValue("id")
	e, err := ids.FindWatchEntry(ctx, id)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	list, err := ids.FindWatchlist(ctx, e.WatchlistID)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if req.user.Role == huella.RolePartner && list.Owner != req.user.Partner {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "a partner removes entries of its own watchlists only"))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if err := c.cfg.Enroll.RemoveWatchEntry(ctx, id, reason); err != nil {
		code := huella.ErrorCode(err)
		if code != huella.EINVALID && code != huella.ECONFLICT {
			c.renderError(w, r, req.user, err)
			return
		}
		v := c.pageView(r, req, "watchlists")
		msg := v.ErrorText(err)
		if code == huella.EINVALID && reason == "" {
			msg = v.T("watchlists.err.reason")
		}
		c.renderWatchlists(w, r, req, access.Status(code), watchlistsPage{Form: url.Values{}, RemoveEntry: id, RemoveError: msg})
		return
	}
	c.cfg.Logger.Info("console watch entry removed", "watchlist", list.ID, "entry", id, "user", req.user.ID)
	c.renderWatchlists(w, r, req, http.StatusOK, watchlistsPage{Form: url.Values{}, Removed: e.Reference})
}
