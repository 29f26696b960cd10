package http

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/http/internal/access"
)

// forwardRoutes are the endpoints of forwarding to partner agencies:
// partners and agreements (admins), deliveries (admins, supervisors and
// auditors) and receipts (each partner, its own).
func (s *Server) forwardRoutes() []route {
	return []route{
		{Method: "GET", Path: "/v1/partners", Summary: "List partner agencies, by code", Roles: access.Admins,
			Response: []huella.Partner{}, Handler: s.handleListPartners, Paged: true},
		{Method: "POST", Path: "/v1/partners", Summary: "Add a partner agency", Roles: access.Admins,
			Request: partnerRequest{}, Response: huella.Partner{}, Handler: s.handleCreatePartner},
		{Method: "PUT", Path: "/v1/partners/{code}", Summary: "Change a partner agency's endpoint, format, TLS settings, key or state", Roles: access.Admins,
			Request: partnerRequest{}, Response: huella.Partner{}, Handler: s.handleUpdatePartner},
		{Method: "GET", Path: "/v1/partners/{code}/agreements", Summary: "List a partner's sharing agreements", Roles: access.Admins,
			Response: []huella.Agreement{}, Handler: s.handleListAgreements, Paged: true},
		{Method: "POST", Path: "/v1/partners/{code}/agreements", Summary: "Add a sharing agreement: triggers, categories, modalities and fields that may leave, legal basis", Roles: access.Admins,
			Request: agreementRequest{}, Response: huella.Agreement{}, Handler: s.handleCreateAgreement},
		{Method: "POST", Path: "/v1/agreements/{id}/revoke", Summary: "Revoke a sharing agreement; its undelivered deliveries are parked", Roles: access.Admins,
			Response: huella.Agreement{}, Handler: s.handleRevokeAgreement},
		{Method: "GET", Path: "/v1/deliveries", Summary: "List deliveries to partners, newest first", Roles: access.DeliveryReaders,
			Response: []huella.Delivery{}, Handler: s.handleListDeliveries,
			Query: []param{{"partner", "string", "partner code"}, {"state", "string", "pending, published, delivered or dead"},
				{"offset", "integer", "deprecated (use cursor): skip this many"}}, Paged: true},
		{Method: "GET", Path: "/v1/deliveries/{id}/attempts", Summary: "A delivery's attempts and the partner's answers", Roles: access.DeliveryReaders,
			Response: []huella.DeliveryAttempt{}, Handler: s.handleListAttempts, Paged: true},
		{Method: "GET", Path: "/v1/receipts", Summary: "The calling partner's deliveries and their receipts", Roles: access.Partners,
			Response: []receipt{}, Handler: s.handleListReceipts,
			Query: []param{{"offset", "integer", "deprecated (use cursor): skip this many"}}, Paged: true},
	}
}

// EnableForwarding serves our public signing keys at
// /.well-known/jwks.json (no token: partners verify deliveries with them)
// and adds the forwarder's metrics to /metrics. Call it before Open.
func (s *Server) EnableForwarding(keys *forward.KeyRing, metrics *forward.Metrics) error {
	s.mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		writeJSON(w, http.StatusOK, keys.JWKS())
	})
	if metrics != nil {
		for _, c := range metrics.Collectors() {
			if err := s.metrics.registry.Register(c); err != nil {
				return fmt.Errorf("http: forwarding metrics: %w", err)
			}
		}
	}
	return nil
}

// partnerRequest creates or changes a partner.
type partnerRequest struct {
	Code           string               `json:"code"` // ignored by PUT, which takes it from the path
	Name           string               `json:"name"`
	Endpoint       string               `json:"endpoint"`
	Format         huella.PayloadFormat `json:"format"`
	CAFile         string               `json:"ca_file,omitempty"`
	ClientCertFile string               `json:"client_cert_file,omitempty"`
	ClientKeyFile  string               `json:"client_key_file,omitempty"`
	KeyID          string               `json:"key_id,omitempty"`
	Disabled       bool                 `json:"disabled,omitempty"`
}

func (p partnerRequest) partner() *huella.Partner {
	if p.Format == "" {
		p.Format = huella.FormatJSON
	}
	return &huella.Partner{Code: p.Code, Name: p.Name, Endpoint: p.Endpoint, Format: p.Format, CAFile: p.CAFile,
		ClientCertFile: p.ClientCertFile, ClientKeyFile: p.ClientKeyFile, KeyID: p.KeyID, Disabled: p.Disabled}
}

// agreementRequest creates an agreement with the partner in the path.
type agreementRequest struct {
	Triggers   []huella.Trigger  `json:"triggers"`
	Categories []string          `json:"categories,omitempty"`
	Modalities []huella.Modality `json:"modalities"`
	Fields     []huella.Field    `json:"fields"`
	LegalBasis string            `json:"legal_basis"`
	RequireAck bool              `json:"require_ack"`
}

// receipt is what a partner sees of a delivery to it.
type receipt struct {
	DeliveryID     string               `json:"delivery_id"`
	IdempotencyKey string               `json:"idempotency_key"`
	Trigger        huella.Trigger       `json:"trigger"`
	State          huella.DeliveryState `json:"state"`
	Attempts       int                  `json:"attempts"`
	Receipt        string               `json:"receipt,omitempty"`
	CreatedAt      time.Time            `json:"created_at"`
	DeliveredAt    *time.Time           `json:"delivered_at,omitempty"`
}

func (s *Server) handleListPartners(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.Store.ListPartners(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePageByID(w, r, pg, list, func(p *huella.Partner) string { return p.Code }, s.Error)
}

func (s *Server) handleCreatePartner(w http.ResponseWriter, r *http.Request) {
	var req partnerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	p := req.partner()
	if err := p.CheckFiles(s.PartnerFileDir); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Store.CreatePartner(r.Context(), p); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) handleUpdatePartner(w http.ResponseWriter, r *http.Request) {
	var req partnerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	req.Code = r.PathValue("code")
	p := req.partner()
	if err := p.CheckFiles(s.PartnerFileDir); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Store.UpdatePartner(r.Context(), p); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleListAgreements(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	code := r.PathValue("code")
	if _, err := s.Store.FindPartner(r.Context(), code); err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.Store.ListAgreements(r.Context(), code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePageByID(w, r, pg, list, func(a *huella.Agreement) string { return a.ID }, s.Error)
}

func (s *Server) handleCreateAgreement(w http.ResponseWriter, r *http.Request) {
	var req agreementRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	code := r.PathValue("code")
	if _, err := s.Store.FindPartner(r.Context(), code); err != nil {
		s.Error(w, r, err)
		return
	}
	a := &huella.Agreement{Partner: code, Triggers: req.Triggers, Categories: req.Categories, Modalities: req.Modalities,
		Fields: req.Fields, LegalBasis: req.LegalBasis, RequireAck: req.RequireAck}
	if err := s.Store.CreateAgreement(r.Context(), a); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) handleRevokeAgreement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Store.RevokeAgreement(r.Context(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Store.FindAgreement(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	f := huella.DeliveryFilter{Partner: r.URL.Query().Get("partner"), State: huella.DeliveryState(r.URL.Query().Get("state"))}
	switch f.State {
	case "", huella.DeliveryPending, huella.DeliveryPublished, huella.DeliveryDelivered, huella.DeliveryDead:
	default:
		s.Error(w, r, huella.Errorf(huella.EINVALID, "state must be pending, published, delivered or dead"))
		return
	}
	pg, err := readPage(r, true)
	if err == nil {
		f.After, err = pg.key()
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit, f.Offset = pg.fetch(), pg.Offset
	list, err := s.Store.ListDeliveries(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, more := trim(pg, list)
	if list == nil {
		list = []*huella.Delivery{}
	}
	if more {
		last := list[len(list)-1]
		setNext(w, r, &pageCursor{At: last.CreatedAt, ID: last.ID})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleListAttempts(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d, err := s.Store.FindDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.Store.ListDeliveryAttempts(r.Context(), d.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writePageByID(w, r, pg, list, func(a *huella.DeliveryAttempt) string { return strconv.Itoa(a.N) }, s.Error)
}

// handleListReceipts lists the calling partner's deliveries: a partner
// sees only its own; a partner user without a partner code sees none.
func (s *Server) handleListReceipts(w http.ResponseWriter, r *http.Request) {
	user := huella.ActorFromContext(r.Context())
	f := huella.DeliveryFilter{Partner: user.Partner}
	pg, err := readPage(r, true)
	if err == nil {
		f.After, err = pg.key()
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit, f.Offset = pg.fetch(), pg.Offset
	list := []*huella.Delivery{}
	if user.Partner != "" {
		if list, err = s.Store.ListDeliveries(r.Context(), f); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	list, more := trim(pg, list)
	if more {
		last := list[len(list)-1]
		setNext(w, r, &pageCursor{At: last.CreatedAt, ID: last.ID})
	}
	if err := s.audit(r, huella.ActionDeliveryReceiptList, "partner/"+user.Partner, "", fmt.Sprintf("%d deliveries", len(list))); err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]receipt, 0, len(list))
	for _, d := range list {
		out = append(out, receipt{DeliveryID: d.ID, IdempotencyKey: d.IdempotencyKey(), Trigger: d.Trigger, State: d.State,
			Attempts: d.Attempts, Receipt: d.Receipt, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// RegisterMetrics adds collectors of other components (the matcher
// shards' client, say) to /metrics. Call it before Open.
func (s *Server) RegisterMetrics(collectors ...prometheus.Collector) error {
	for _, c := range collectors {
		if err := s.metrics.registry.Register(c); err != nil {
			return fmt.Errorf("http: metrics: %w", err)
		}
	}
	return nil
}
