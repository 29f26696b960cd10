package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/http/internal/access"
)

type partnersPage struct {
	Partners   []*huella.Partner
	Agreements map[string][]*huella.Agreement
	Deliveries []*huella.Delivery
	Partner    string
	State      string
	States     []huella.DeliveryState
	Offset     int
	Next, Prev string
	// The form for a new partner and its agreement, for admins.
	CanEdit    bool
	Form       url.Values
	FormName   string // the form Error and Saved are about: partner or agreement
	Error      string
	Saved      string // the code of the partner just added, or given an agreement
	Formats    []huella.PayloadFormat
	Triggers   []huella.Trigger
	Categories []huella.WatchlistCategory
	Modalities []huella.Modality
	Fields     []huella.Field
	// Edit is the code of the partner whose edit form was refused (Error)
	// or saved (Saved); Done says what was just changed, for the list.
	Edit string
	Done string
}

// Partner states on the edit form: a suspended partner receives nothing.
const (
	partnerActive    = "active"
	partnerSuspended = "suspended"
)

// EditForm returns the values of a partner's edit form: what was typed
// when that form was refused, else the partner's settings.
func (p partnersPage) EditForm(pt *huella.Partner) url.Values {
	if p.FormName == "edit" && p.Edit == pt.Code && p.Error != "" {
		return p.Form
	}
	state := partnerActive
	if pt.Disabled {
		state = partnerSuspended
	}
	return url.Values{"name": {pt.Name}, "endpoint": {pt.Endpoint}, "format": {string(pt.Format)}, "ca_file": {pt.CAFile},
		"client_cert_file": {pt.ClientCertFile}, "client_key_file": {pt.ClientKeyFile}, "key_id": {pt.KeyID}, "state": {state}}
}

// PartnerStates lists the states a partner can be set to.
func (p partnersPage) PartnerStates() []string { return []string{partnerActive, partnerSuspended} }

// Fresh returns the form's values for the named form: what was typed
// when that form was refused, else the defaults.
func (p partnersPage) Fresh(form string) partnersPage {
	if p.FormName != form || p.Error == "" {
		p.Form = url.Values{"format": {string(huella.FormatJSON)}, "require_ack": {"on"}}
	}
	return p
}

// Checked reports whether the form has the value for the field (for
// checkboxes and selected options).
func (p partnersPage) Checked(name string, value any) bool {
	return slices.Contains(p.Form[name], fmt.Sprint(value))
}

// handlePartners lists the partners with their agreements, and the
// deliveries, newest first, by partner and state.
func (c *Console) handlePartners(w http.ResponseWriter, r *http.Request, req *request) {
	form := url.Values{"format": {string(huella.FormatJSON)}, "require_ack": {"on"}}
	c.renderPartners(w, r, req, http.StatusOK, partnersPage{Form: form})
}

func (c *Console) renderPartners(w http.ResponseWriter, r *http.Request, req *request, status int, page partnersPage) {
	ctx := r.Context()
	var err error
	q := r.URL.Query()
	page.Partner, page.State, page.Agreements = q.Get("partner"), q.Get("state"), map[string][]*huella.Agreement{}
	page.States = []huella.DeliveryState{huella.DeliveryPending, huella.DeliveryPublished, huella.DeliveryDelivered, huella.DeliveryDead}
	page.CanEdit = slices.Contains(access.Admins, req.user.Role)
	page.Formats = []huella.PayloadFormat{huella.FormatJSON, huella.FormatANSINIST}
	page.Triggers, page.Categories, page.Fields = huella.Triggers, huella.WatchlistCategories, huella.Fields
	page.Modalities = []huella.Modality{huella.ModalityFinger, huella.ModalityIris, huella.ModalityFace, huella.ModalitySMT}
	if page.Partners, err = c.cfg.Store.ListPartners(ctx); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	agreements, err := c.cfg.Store.ListAgreements(ctx, "")
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
	if page.Deliveries, err = c.cfg.Store.ListDeliveries(ctx, f); err != nil {
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
	c.render(w, status, "partners", v)
}

// handleCreatePartner adds a partner agency with its first sharing
// agreement. Both are checked by the domain's rules before either is
// stored, so that a refused agreement leaves no partner without one.
func (c *Console) handleCreatePartner(w http.ResponseWriter, r *http.Request, req *request) {
	f := r.PostForm
	p := &huella.Partner{Code: strings.ToUpper(strings.TrimSpace(f.Get("code"))), Name: strings.TrimSpace(f.Get("name")),
		Endpoint: strings.TrimSpace(f.Get("endpoint")), Format: huella.PayloadFormat(f.Get("format"))}
	c.saveAgreement(w, r, req, "partner", p, agreementFromForm(f, p.Code))
}

// handleCreateAgreement adds a sharing agreement to a partner already
// registered.
func (c *Console) handleCreateAgreement(w http.ResponseWriter, r *http.Request, req *request) {
	c.saveAgreement(w, r, req, "agreement", nil, agreementFromForm(r.PostForm, r.PostFormValue("partner")))
}

// agreementFromForm reads the agreement's fields of a form.
func agreementFromForm(f url.Values, partner string) *huella.Agreement {
	a := &huella.Agreement{Partner: partner, LegalBasis: strings.TrimSpace(f.Get("legal_basis")), RequireAck: f.Get("require_ack") != ""}
	for _, t := range f["triggers"] {
		a.Triggers = append(a.Triggers, huella.Trigger(t))
	}
	a.Categories = f["categories"]
	for _, m := range f["modalities"] {
		a.Modalities = append(a.Modalities, huella.Modality(m))
	}
	for _, x := range f["fields"] {
		a.Fields = append(a.Fields, huella.Field(x))
	}
	return a
}

// saveAgreement validates and stores the partner (when new) and the
// agreement, and shows the page again with the outcome on the named form.
func (c *Console) saveAgreement(w http.ResponseWriter, r *http.Request, req *request, form string, p *huella.Partner, a *huella.Agreement) {
	ctx := r.Context()
	var err error
	if p != nil {
		if err = p.Validate(); err == nil {
			err = p.CheckFiles(c.cfg.PartnerFileDir)
		}
	} else if _, err = c.cfg.Store.FindPartner(ctx, a.Partner); huella.ErrorCode(err) == huella.ENOTFOUND {
		err = huella.Errorf(huella.EINVALID, "agreement partner must be a partner code")
	}
	if err == nil {
		err = a.Validate()
	}
	if err == nil && p != nil {
		err = c.cfg.Store.CreatePartner(ctx, p)
	}
	if err == nil {
		err = c.cfg.Store.CreateAgreement(ctx, a)
	}
	if err != nil {
		if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.ECONFLICT {
			c.renderError(w, r, req.user, err)
			return
		}
		v := c.pageView(r, req, "partners")
		c.renderPartners(w, r, req, http.StatusBadRequest, partnersPage{Form: r.PostForm, FormName: form, Error: v.ErrorText(err)})
		return
	}
	c.cfg.Logger.Info("console agreement added", "partner", a.Partner, "agreement", a.ID, "new_partner", p != nil, "user", req.user.ID)
	blank := url.Values{"format": {string(huella.FormatJSON)}, "require_ack": {"on"}}
	c.renderPartners(w, r, req, http.StatusCreated, partnersPage{Form: blank, FormName: form, Saved: a.Partner})
}

// handleUpdatePartner changes a partner's settings as PUT
// /v1/partners/{code} does: every setting is replaced by the form's,
// under the same validation, and the state suspends or resumes deliveries.
func (c *Console) handleUpdatePartner(w http.ResponseWriter, r *http.Request, req *request) {
	f := r.PostForm
	code := r.PathValue("code")
	var err error
	p := &huella.Partner{Code: code, Name: strings.TrimSpace(f.Get("name")), Endpoint: strings.TrimSpace(f.Get("endpoint")),
		Format: huella.PayloadFormat(f.Get("format")), CAFile: strings.TrimSpace(f.Get("ca_file")),
		ClientCertFile: strings.TrimSpace(f.Get("client_cert_file")), ClientKeyFile: strings.TrimSpace(f.Get("client_key_file")),
		KeyID: strings.TrimSpace(f.Get("key_id")), Disabled: f.Get("state") == partnerSuspended}
	if p.Format == "" {
		p.Format = huella.FormatJSON
	}
	if st := f.Get("state"); st != partnerActive && st != partnerSuspended {
		err = huella.Errorf(huella.EINVALID, "partner state must be active or suspended")
	} else if err = p.CheckFiles(c.cfg.PartnerFileDir); err == nil {
		err = c.cfg.Store.UpdatePartner(r.Context(), p)
	}
	if err != nil {
		if huella.ErrorCode(err) != huella.EINVALID {
			c.renderError(w, r, req.user, err)
			return
		}
		v := c.pageView(r, req, "partners")
		c.renderPartners(w, r, req, http.StatusBadRequest, partnersPage{Form: f, FormName: "edit", Edit: code, Error: v.ErrorText(err)})
		return
	}
	c.cfg.Logger.Info("console partner updated", "partner", code, "disabled", p.Disabled, "user", req.user.ID)
	v := c.pageView(r, req, "partners")
	c.renderPartners(w, r, req, http.StatusOK, partnersPage{FormName: "edit", Edit: code, Done: v.T("partners.updated", code)})
}

// handleRevokeAgreement revokes a sharing agreement once the admin has
// ticked the confirmation, as POST /v1/agreements/{id}/revoke does: it
// plans no more deliveries, and its undelivered ones are parked.
func (c *Console) handleRevokeAgreement(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	a, err := c.cfg.Store.FindAgreement(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	v := c.pageView(r, req, "partners")
	if !a.Active {
		c.renderPartners(w, r, req, http.StatusConflict, partnersPage{FormName: "revoke", Error: v.T("partners.err.revoked")})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		c.renderPartners(w, r, req, http.StatusBadRequest, partnersPage{FormName: "revoke", Error: v.T("partners.err.confirm")})
		return
	}
	if err := c.cfg.Store.RevokeAgreement(ctx, a.ID); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	c.cfg.Logger.Info("console agreement revoked", "partner", a.Partner, "agreement", a.ID, "user", req.user.ID)
	c.renderPartners(w, r, req, http.StatusOK, partnersPage{FormName: "revoke", Done: v.T("partners.revoked_done", a.Partner)})
}

type deliveryPage struct {
	Delivery *huella.Delivery
	Attempts []*huella.DeliveryAttempt
}

// handleDelivery shows one delivery with every attempt.
func (c *Console) handleDelivery(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	d, err := c.cfg.Store.FindDelivery(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	attempts, err := c.cfg.Store.ListDeliveryAttempts(ctx, d.ID)
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
