package console

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

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
	counts := []*int{&page.PendingHits, &page.ConfirmedHits, &page.RejectedHits}
	for i, st := range []huella.HitState{huella.HitPending, huella.HitConfirmed, huella.HitRejected} {
		hf := huella.HitFilter{State: st, Limit: 1000}
		if req.user.Role.SiteScoped() {
			hf.Sites = slices.Clone(req.user.Sites)
		}
		hits, err := c.cfg.Store.ListHits(ctx, hf)
		if err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		*counts[i] = len(hits)
	}
	if slices.Contains(access.DeliveryReaders, req.user.Role) {
		list, err := c.cfg.Store.ListDeliveries(ctx, huella.DeliveryFilter{Limit: 1000})
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
