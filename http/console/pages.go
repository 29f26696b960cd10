package console

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/wsq"
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

type dashboardPage struct {
	Total, SiteCount int
	// Adjudication and forwarding, when the store keeps them (-1: not shown).
	PendingHits, ConfirmedHits, RejectedHits int
	Deliveries                               chart
	DeliveryTable                            []countRow
	MedianLag                                string
	ShowDeliveries                           bool
	From                                     string
	PerMonth                                 chart
	MonthTable                               [][]string // month, then one count per site
	SiteHeads                                []string
	ByNationality                            chart
	NationalityTable                         []countRow
}

// handleDashboard charts encounters per site per month and by nationality,
// over the sites the user may see. Counts are not personal data; as in the
// API, reading them is not audited.
func (c *Console) handleDashboard(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	sites, all, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	mine := accessibleSites(req.user, all)
	now := c.cfg.Now().UTC()
	from := time.Date(now.Year(), now.Month()-dashboardMonths+1, 1, 0, 0, 0, 0, time.UTC)
	var months []string
	for m := from; !m.After(now); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	f := huella.EncounterFilter{From: from}
	if req.user.Role.SiteScoped() {
		f.Sites = slices.Clone(req.user.Sites)
	}
	total, err := c.cfg.Store.EncounterStats(ctx, f)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "dashboard")
	v.sites = sites
	page := dashboardPage{Total: total.Total, SiteCount: len(mine), From: from.Format("2006-01-02")}
	values := make([][]int, len(months))
	for i := range values {
		values[i] = make([]int, len(mine))
	}
	for s, site := range mine {
		st, err := c.cfg.Store.EncounterStats(ctx, huella.EncounterFilter{Sites: []string{site.Code}, From: from})
		if err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		for i, m := range months {
			values[i][s] = st.ByMonth[m]
		}
		page.SiteHeads = append(page.SiteHeads, site.Code)
	}
	for i, m := range months {
		row := []string{m}
		for _, n := range values[i] {
			row = append(row, strconv.Itoa(n))
		}
		page.MonthTable = append(page.MonthTable, row)
	}
	var series []string
	for _, s := range mine {
		series = append(series, s.Code+" · "+s.Name)
	}
	page.PerMonth = stackedColumns("chart-months", v.T("dashboard.per_month"), shortMonths(months), series, values)
	page.ByNationality, page.NationalityTable = horizontalBars("chart-nationality", v.T("dashboard.by_nationality"), total.ByNationality,
		func(code string) string {
			if code == "" {
				return v.T("dashboard.unknown")
			}
			return code
		}, 10)
	for i := range page.ByNationality.Labels {
		if page.ByNationality.Labels[i].Text == "" {
			page.ByNationality.Labels[i].Text = "—"
		}
	}
	page.PendingHits, page.ConfirmedHits, page.RejectedHits = -1, -1, -1
	if ids, ok := c.cfg.Store.(huella.IdentityStore); ok {
		counts := []*int{&page.PendingHits, &page.ConfirmedHits, &page.RejectedHits}
		for i, st := range []huella.HitState{huella.HitPending, huella.HitConfirmed, huella.HitRejected} {
			hf := huella.HitFilter{State: st, Limit: 1000}
			if req.user.Role.SiteScoped() {
				hf.Sites = slices.Clone(req.user.Sites)
			}
			hits, err := ids.ListHits(ctx, hf)
			if err != nil {
				c.renderError(w, r, req.user, err)
				return
			}
			*counts[i] = len(hits)
		}
	}
	if fs, ok := c.cfg.Store.(huella.ForwardStore); ok && slices.Contains(partnerReaders, req.user.Role) {
		list, err := fs.ListDeliveries(ctx, huella.DeliveryFilter{Limit: 1000})
		if err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		page.ShowDeliveries = true
		byState := map[string]int{}
		var lags []time.Duration
		for _, d := range list {
			byState[string(d.State)]++
			if d.DeliveredAt != nil {
				lags = append(lags, d.DeliveredAt.Sub(d.CreatedAt))
			}
		}
		page.Deliveries, page.DeliveryTable = horizontalBars("chart-deliveries", v.T("dashboard.deliveries"), byState,
			func(s string) string { return v.Enum("delivery", s) }, 4)
		for i := range page.Deliveries.Labels {
			if page.Deliveries.Labels[i].Anchor == "end" {
				page.Deliveries.Labels[i].Text = v.Enum("delivery", page.Deliveries.Labels[i].Text)
			}
		}
		if len(lags) > 0 {
			slices.Sort(lags)
			page.MedianLag = roundDuration(lags[len(lags)/2])
		}
	}
	v.Data = page
	c.render(w, http.StatusOK, "dashboard", v)
}

// shortMonths turns "2026-11" into "11/26" to fit under a column.
func shortMonths(months []string) []string {
	out := make([]string, len(months))
	for i, m := range months {
		out[i] = m[5:7] + "/" + m[2:4]
	}
	return out
}

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
	if ids, ok := c.cfg.Store.(huella.IdentityStore); ok && slices.Contains(hitReaders, req.user.Role) {
		// The store lists hits oldest first: read up to its page limit
		// and keep the newest.
		f := huella.HitFilter{SubjectID: sub.ID, Limit: 1000}
		if req.user.Role.SiteScoped() {
			f.Sites = slices.Clone(req.user.Sites)
		}
		if page.Hits, err = ids.ListHits(ctx, f); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		page.Hits = page.Hits[max(0, len(page.Hits)-subjectHitsShown):]
		slices.Reverse(page.Hits) // newest first, as the timeline
		page.ShowHits = true
	}
	if fs, ok := c.cfg.Store.(huella.ForwardStore); ok && slices.Contains(partnerReaders, req.user.Role) {
		if page.Deliveries, err = fs.ListDeliveries(ctx, huella.DeliveryFilter{SubjectID: sub.ID, Limit: subjectDeliveriesShown}); err != nil {
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

// browserFormats are the image formats browsers show as they are; others
// are converted to PNG for display.
var browserFormats = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "bmp": "image/bmp"}

// handleImage serves a sample's image, decrypted, after auditing the read
// as the API does (sample.read). WSQ, TIFF and PGM images are converted to
// grey PNG so that any browser shows them.
func (c *Console) handleImage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	smp, e, err := c.cfg.Store.FindSample(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if !req.user.CanAccessSite(e.SiteCode) {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "the sample is at a site you do not work at"))
		return
	}
	c.serveImage(w, r, req, smp, e.SiteCode, string(smp.Modality))
}

// serveImage sends a sample's image, decrypted and in a format browsers
// show, after auditing the read (sample.read, with the site and detail
// given).
func (c *Console) serveImage(w http.ResponseWriter, r *http.Request, req *request, smp *huella.Sample, site, detail string) {
	ctx := r.Context()
	data, err := c.cfg.Blobs.Get(ctx, smp.ImageRef)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	contentType, ok := browserFormats[smp.Format]
	if !ok {
		if data, err = toPNG(smp.Format, data); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		contentType = "image/png"
	}
	if err := c.audit(ctx, huella.ActionSampleRead, "sample/"+smp.ID, site, detail); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(data)
}

// toPNG converts a stored image the browser cannot show to grey PNG.
func toPNG(format string, data []byte) ([]byte, error) {
	var err error
	var buf bytes.Buffer
	if format == "wsq" {
		f, derr := wsq.DecodeFile(data)
		if derr != nil {
			return nil, fmt.Errorf("console: decode wsq: %w", derr)
		}
		err = png.Encode(&buf, f.Image)
	} else {
		g, derr := imgproc.DecodeGray(data)
		if derr != nil {
			return nil, huella.Errorf(huella.EUNSUPPORTED, "the %s image cannot be shown", format)
		}
		err = png.Encode(&buf, g)
	}
	if err != nil {
		return nil, fmt.Errorf("console: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

type auditPage struct {
	Events       []*huella.AuditEvent
	After        int64
	Next, Prev   string
	ChainChecked int  // events whose hash and link were checked
	ChainOK      bool // every checked event's hash and link hold
	BrokenAt     int64
}

// handleAudit shows the audit trail, a page at a time, and checks the hash
// chain of the events shown. Reading it is itself audited.
func (c *Console) handleAudit(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.renderError(w, r, req.user, huella.Errorf(huella.EINVALID, "after must be a sequence number"))
			return
		}
		after = n
	}
	from := after
	if from > 0 {
		from-- // read the event before the page, to check the first link
	}
	events, err := c.cfg.Store.ListAuditEvents(ctx, from, auditPerPage+2)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if err := c.audit(ctx, huella.ActionAuditRead, "audit", "", fmt.Sprintf("after %d", after)); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	page := auditPage{After: after, ChainOK: true}
	var prev *huella.AuditEvent
	for _, e := range events {
		if e.Seq <= after {
			prev = e
			continue
		}
		if len(page.Events) == auditPerPage {
			page.Next = fmt.Sprintf("/audit?after=%d", page.Events[len(page.Events)-1].Seq)
			break
		}
		ok := bytes.Equal(e.Hash, e.ComputeHash())
		if prev != nil {
			ok = ok && bytes.Equal(e.PrevHash, prev.Hash) && e.Seq == prev.Seq+1
		} else if e.Seq == 1 {
			ok = ok && bytes.Equal(e.PrevHash, make([]byte, len(e.PrevHash))) && len(e.PrevHash) > 0
		}
		if !ok && page.ChainOK {
			page.ChainOK, page.BrokenAt = false, e.Seq
		}
		page.ChainChecked++
		page.Events = append(page.Events, e)
		prev = e
	}
	if after > 0 {
		page.Prev = fmt.Sprintf("/audit?after=%d", maxInt64(after-auditPerPage, 0))
	}
	v := c.pageView(r, req, "audit")
	v.Data = page
	c.render(w, http.StatusOK, "audit", v)
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// ShortHash shows the first bytes of a hash in hex.
func (v *view) ShortHash(h []byte) string {
	if len(h) > 6 {
		h = h[:6]
	}
	return fmt.Sprintf("%x", h)
}

type sitesPage struct {
	Sites []*huella.Site
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

// splitComma splits an Accept-Language header into its language tags.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if i := strings.IndexByte(p, ';'); i >= 0 {
			p = p[:i]
		}
		if p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}
