package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/huella-abis/huella"
)

// Partners and deliveries are for those who oversee forwarding: they show
// IDs, states and receipts, never the forwarded record.
var partnerReaders = []huella.Role{huella.RoleSupervisor, huella.RoleAdmin, huella.RoleAuditor}

// forwardStore returns the store's forwarding side, or EUNSUPPORTED.
func (c *Console) forwardStore() (huella.ForwardStore, error) {
	fs, ok := c.cfg.Store.(huella.ForwardStore)
	if !ok {
		return nil, huella.Errorf(huella.EUNSUPPORTED, "forwarding is not available with this store")
	}
	return fs, nil
}

type partnersPage struct {
	Partners   []*huella.Partner
	Agreements map[string][]*huella.Agreement
	Deliveries []*huella.Delivery
	Partner    string
	State      string
	States     []huella.DeliveryState
	Offset     int
	Next, Prev string
}

// handlePartners lists the partners with their agreements, and the
// deliveries, newest first, by partner and state.
func (c *Console) handlePartners(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	fs, err := c.forwardStore()
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	q := r.URL.Query()
	page := partnersPage{Partner: q.Get("partner"), State: q.Get("state"), Agreements: map[string][]*huella.Agreement{},
		States: []huella.DeliveryState{huella.DeliveryPending, huella.DeliveryPublished, huella.DeliveryDelivered, huella.DeliveryDead}}
	if page.Partners, err = fs.ListPartners(ctx); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	agreements, err := fs.ListAgreements(ctx, "")
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	for _, a := range agreements {
		page.Agreements[a.Partner] = append(page.Agreements[a.Partner], a)
	}
	f := huella.DeliveryFilter{Partner: page.Partner, State: huella.DeliveryState(page.State), Limit: deliveriesPerPage + 1}
	if o, err := strconv.Atoi(q.Get("offset")); err == nil && o > 0 {
		page.Offset, f.Offset = o, o
	}
	if page.Deliveries, err = fs.ListDeliveries(ctx, f); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	link := func(offset int) string {
		return fmt.Sprintf("/partners?partner=%s&state=%s&offset=%d", page.Partner, page.State, offset)
	}
	if len(page.Deliveries) > deliveriesPerPage {
		page.Deliveries = page.Deliveries[:deliveriesPerPage]
		page.Next = link(page.Offset + deliveriesPerPage)
	}
	if page.Offset > 0 {
		page.Prev = link(maxInt(page.Offset-deliveriesPerPage, 0))
	}
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "partners")
	v.sites = sites
	v.Data = page
	c.render(w, http.StatusOK, "partners", v)
}

type deliveryPage struct {
	Delivery *huella.Delivery
	Attempts []*huella.DeliveryAttempt
}

// handleDelivery shows one delivery with every attempt.
func (c *Console) handleDelivery(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	fs, err := c.forwardStore()
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	d, err := fs.FindDelivery(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	attempts, err := fs.ListDeliveryAttempts(ctx, d.ID)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	sites, _, err := c.loadSites(ctx)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "delivery")
	v.sites = sites
	v.Data = deliveryPage{Delivery: d, Attempts: attempts}
	c.render(w, http.StatusOK, "delivery", v)
}

// Lag says how long a delivery took from its decision to the partner's
// acceptance, or has waited so far.
func (v *view) Lag(d *huella.Delivery) string {
	end := d.UpdatedAt
	if d.DeliveredAt != nil {
		end = *d.DeliveredAt
	}
	return roundDuration(end.Sub(d.CreatedAt))
}

// Duration formats a duration for people.
func (v *view) Duration(d time.Duration) string { return roundDuration(d) }

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}
