package huella

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Audit actions of forwarding. Objects are "partner/<code>",
// "agreement/<id>", "confirmation/<id>" and "delivery/<id>".
const (
	ActionPartnerCreate       = "partner.create"
	ActionPartnerUpdate       = "partner.update"
	ActionAgreementCreate     = "agreement.create"
	ActionAgreementRevoke     = "agreement.revoke"
	ActionConfirmationCreate  = "confirmation.create"
	ActionDeliveryPlan        = "delivery.plan"
	ActionDeliveryAttempt     = "delivery.attempt"
	ActionDeliveryDeliver     = "delivery.deliver"
	ActionDeliveryDeadLetter  = "delivery.dead-letter"
	ActionDeliveryRequeue     = "delivery.requeue"
	ActionDeliveryReceiptList = "delivery.receipt-list"
)

// PayloadFormat is how a partner wants deliveries encoded.
type PayloadFormat string

// Payload formats.
const (
	FormatJSON     PayloadFormat = "json"     // Huella's JSON delivery document
	FormatANSINIST PayloadFormat = "ansinist" // an ANSI/NIST-ITL traditional transaction
)

// Partner is an agency Huella forwards records to: where, in which format,
// over which TLS settings, signed with which of our keys.
type Partner struct {
	Code     string        `json:"code"` // e.g. GT-PNC: 2-32 capital letters, digits and dashes
	Name     string        `json:"name"`
	Endpoint string        `json:"endpoint"` // https:// URL deliveries are POSTed to (http:// only on loopback)
	Format   PayloadFormat `json:"format"`
	// TLS: files of the CA that signs the partner's server certificate
	// (empty: the system roots) and of our client certificate and key for
	// mutual TLS (empty: none).
	CAFile         string    `json:"ca_file,omitempty"`
	ClientCertFile string    `json:"client_cert_file,omitempty"`
	ClientKeyFile  string    `json:"client_key_file,omitempty"`
	KeyID          string    `json:"key_id,omitempty"` // our signing key for this partner; empty: the current key
	Disabled       bool      `json:"disabled,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

var partnerCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// Validate reports the first rule the partner breaks, as an EINVALID error.
func (p *Partner) Validate() error {
	switch {
	case !partnerCodePattern.MatchString(p.Code):
		return Errorf(EINVALID, "partner code must be 2-32 capital letters, digits and dashes, such as GT-PNC")
	case p.Name == "" || len(p.Name) > 200:
		return Errorf(EINVALID, "partner name required (at most 200 characters)")
	case p.Format != FormatJSON && p.Format != FormatANSINIST:
		return Errorf(EINVALID, "partner format must be json or ansinist")
	case (p.ClientCertFile == "") != (p.ClientKeyFile == ""):
		return Errorf(EINVALID, "a client certificate needs its key, and a key its certificate")
	case len(p.KeyID) > 100:
		return Errorf(EINVALID, "key_id longer than 100 characters")
	}
	u, err := url.Parse(p.Endpoint)
	if err != nil || u.Host == "" || u.User != nil {
		return Errorf(EINVALID, "partner endpoint must be an absolute https URL without credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return Errorf(EINVALID, "partner endpoint must use https (http only on loopback, for tests)")
		}
	default:
		return Errorf(EINVALID, "partner endpoint must be an absolute https URL without credentials")
	}
	return nil
}

// CheckFiles reports, as an EINVALID error, a TLS file of the partner
// (CA, client certificate or key) that is not an absolute path inside dir,
// the directory the operator keeps partners' TLS files in. The forwarder
// reads these files, so a path elsewhere (say /etc/shadow) could make it
// read, and an error message echo, what no administrator of partners may
// see. With dir empty no file is accepted.
func (p *Partner) CheckFiles(dir string) error {
	for _, f := range []struct{ name, path string }{
		{"ca_file", p.CAFile}, {"client_cert_file", p.ClientCertFile}, {"client_key_file", p.ClientKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if dir == "" {
			return Errorf(EINVALID, "%s: no directory for partners' TLS files is configured", f.name)
		}
		if !filepath.IsAbs(f.path) || !inside(dir, f.path) {
			return Errorf(EINVALID, "%s must be an absolute path inside the partners' TLS directory %s", f.name, dir)
		}
		// A symbolic link inside the directory must not lead out of it.
		real, err := filepath.EvalSymlinks(f.path)
		if err != nil {
			if os.IsNotExist(err) {
				continue // not there yet: the forwarder reports it when it reads it
			}
			return Errorf(EINVALID, "%s cannot be read", f.name)
		}
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil || !inside(realDir, real) {
			return Errorf(EINVALID, "%s must be an absolute path inside the partners' TLS directory %s", f.name, dir)
		}
	}
	return nil
}

// inside reports whether path lies inside dir once both are cleaned.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

// ProgramOwner owns the program's own watchlists.
const ProgramOwner = "PROGRAM"

// PartnerFinder finds a partner by code (ENOTFOUND when there is none).
type PartnerFinder interface {
	FindPartner(ctx context.Context, code string) (*Partner, error)
}

// CheckWatchlistOwner reports whether the actor in ctx may create a
// watchlist owned by owner: a partner only its own lists, a supervisor
// only the program's, an administrator the program's or an existing
// partner's (found with partners; nil: no partner exists). EFORBIDDEN
// for a list the actor may not create, EINVALID for an unknown owner.
func CheckWatchlistOwner(ctx context.Context, owner string, partners PartnerFinder) error {
	u := ActorFromContext(ctx)
	switch {
	case u == nil:
		return Errorf(EUNAUTHORIZED, "no user")
	case u.Role == RolePartner:
		if owner != u.Partner {
			return Errorf(EFORBIDDEN, "a partner creates watchlists of its own")
		}
		return nil
	case owner == ProgramOwner:
		return nil
	case u.Role != RoleAdmin:
		return Errorf(EFORBIDDEN, "a %s creates the program's watchlists only; a partner's are created by the partner or an administrator", u.Role)
	case partners == nil:
		return Errorf(EINVALID, "watchlist owner %s is no partner", owner)
	}
	if _, err := partners.FindPartner(ctx, owner); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EINVALID, "watchlist owner %s is no partner", owner)
		}
		return err
	}
	return nil
}

// Trigger is a kind of event that may forward a record to partners.
type Trigger string

// Triggers.
const (
	TriggerConviction Trigger = "conviction" // an encounter with a declared conviction
	TriggerHit        Trigger = "hit"        // an examiner confirmed a watchlist hit
	TriggerDuplicate  Trigger = "duplicate"  // an examiner confirmed a duplicate of a subject already forwarded to the partner
)

// Triggers lists every trigger.
var Triggers = []Trigger{TriggerConviction, TriggerHit, TriggerDuplicate}

// Field is a part of a record that an agreement may let leave. Anything not
// named is never sent: minimisation is an allow-list.
type Field string

// Fields a delivery may carry.
const (
	FieldNames           Field = "names"            // names and aliases
	FieldBirthDate       Field = "birth_date"       // date of birth, as partial as known
	FieldSex             Field = "sex"              // sex
	FieldNationality     Field = "nationality"      // nationality
	FieldPlaceOfBirth    Field = "place_of_birth"   // place of birth
	FieldDocuments       Field = "documents"        // identity documents
	FieldCriminalHistory Field = "criminal_history" // declared status and offence
	FieldCapture         Field = "capture"          // site, time and reason of the encounter
	FieldSMTs            Field = "smts"             // scar, mark and tattoo descriptions
)

// Fields lists every field.
var Fields = []Field{FieldNames, FieldBirthDate, FieldSex, FieldNationality, FieldPlaceOfBirth,
	FieldDocuments, FieldCriminalHistory, FieldCapture, FieldSMTs}

// Agreement is a sharing agreement with one partner: which triggers
// forward, which watchlist categories, which modalities and fields may
// leave, on which legal basis, and whether the partner must acknowledge.
type Agreement struct {
	ID         string     `json:"id"`
	Partner    string     `json:"partner"`
	Triggers   []Trigger  `json:"triggers"`
	Categories []string   `json:"categories,omitempty"` // watchlist categories, for the hit trigger
	Modalities []Modality `json:"modalities"`           // sample images that may leave
	Fields     []Field    `json:"fields"`               // record fields that may leave
	LegalBasis string     `json:"legal_basis"`          // e.g. the treaty or memorandum and article
	RequireAck bool       `json:"require_ack"`          // a delivery is done only with the partner's receipt
	Active     bool       `json:"active"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Validate reports the first rule the agreement breaks, as an EINVALID error.
func (a *Agreement) Validate() error {
	switch {
	case !partnerCodePattern.MatchString(a.Partner):
		return Errorf(EINVALID, "agreement partner must be a partner code")
	case len(a.Triggers) == 0:
		return Errorf(EINVALID, "an agreement needs at least one trigger")
	case a.LegalBasis == "":
		return Errorf(EINVALID, "legal_basis required")
	}
	if err := checkText("legal_basis", a.LegalBasis, 500); err != nil {
		return err
	}
	for _, t := range a.Triggers {
		if !slices.Contains(Triggers, t) {
			return Errorf(EINVALID, "unknown trigger %q", t)
		}
	}
	if slices.Contains(a.Triggers, TriggerHit) && len(a.Categories) == 0 {
		return Errorf(EINVALID, "the hit trigger needs at least one watchlist category")
	}
	for _, c := range a.Categories {
		if !slices.Contains(WatchlistCategories, WatchlistCategory(c)) {
			return Errorf(EINVALID, "unknown watchlist category %q", c)
		}
	}
	for _, m := range a.Modalities {
		switch m {
		case ModalityFinger, ModalityIris, ModalityFace, ModalitySMT:
		default:
			return Errorf(EINVALID, "unknown modality %q", m)
		}
	}
	for _, f := range a.Fields {
		if !slices.Contains(Fields, f) {
			return Errorf(EINVALID, "unknown field %q", f)
		}
	}
	return nil
}

// Allows reports whether the agreement lets the field leave.
func (a *Agreement) Allows(f Field) bool { return slices.Contains(a.Fields, f) }

// AllowsModality reports whether the agreement lets images of m leave.
func (a *Agreement) AllowsModality(m Modality) bool { return slices.Contains(a.Modalities, m) }

// covers reports whether the active agreement forwards the event.
func (a *Agreement) covers(ev *TriggerEvent, forwarded map[string]bool) bool {
	if !a.Active || !slices.Contains(a.Triggers, ev.Kind) {
		return false
	}
	switch ev.Kind {
	case TriggerHit:
		return slices.Contains(a.Categories, ev.Category)
	case TriggerDuplicate:
		return forwarded[a.Partner]
	}
	return true
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states. A delivery is written pending in the transaction of the
// decision that triggers it, published by the relay onto the work queue,
// then ends delivered (the partner accepted it) or dead (parked after
// retrying for too long, or its agreement was revoked).
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryPublished DeliveryState = "published"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryDead      DeliveryState = "dead"
)

// Final reports whether no more attempts will be made.
func (s DeliveryState) Final() bool { return s == DeliveryDelivered || s == DeliveryDead }

// Delivery is one record to send to one partner under one agreement. Its
// ID is also its Idempotency-Key and its message ID on the work queue, so
// that however often it is published or retried, it takes effect once.
type Delivery struct {
	ID             string        `json:"id"`
	Partner        string        `json:"partner"`
	AgreementID    string        `json:"agreement_id"`
	Trigger        Trigger       `json:"trigger"`
	ConfirmationID string        `json:"confirmation_id,omitempty"`
	Category       string        `json:"category,omitempty"`
	SubjectID      string        `json:"subject_id"`
	EncounterID    string        `json:"encounter_id"`
	Site           string        `json:"site"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"`
	LastError      string        `json:"last_error,omitempty"` // never personal data: a status or a network error
	Receipt        string        `json:"receipt,omitempty"`    // the partner's acknowledgement
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	PublishedAt    *time.Time    `json:"published_at,omitempty"`
	DeliveredAt    *time.Time    `json:"delivered_at,omitempty"`
}

// IdempotencyKey is the key the partner deduplicates the delivery by.
func (d *Delivery) IdempotencyKey() string { return d.ID }

// DeliveryAttempt is one try at sending a delivery.
type DeliveryAttempt struct {
	DeliveryID string        `json:"delivery_id"`
	N          int           `json:"n"` // 1, 2, 3…
	At         time.Time     `json:"at"`
	Status     int           `json:"status,omitempty"` // HTTP status; 0 when none came back
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
	Receipt    string        `json:"receipt,omitempty"`
}

// TriggerEvent is a decision that may forward a record: what happened, to
// which subject and encounter.
type TriggerEvent struct {
	Kind           Trigger
	SubjectID      string
	EncounterID    string
	Site           string
	Category       string // watchlist category, for hits
	ConfirmationID string
}

// PlanDeliveries returns the deliveries the event calls for: one per
// partner whose active agreement covers it (the oldest such agreement),
// none to disabled partners. forwarded tells, for the duplicate trigger,
// which partners already received the subject. Stores call it inside the
// transaction that records the decision and insert what it returns.
func PlanDeliveries(ev *TriggerEvent, agreements []*Agreement, disabled map[string]bool, forwarded map[string]bool, now time.Time) []*Delivery {
	sorted := slices.Clone(agreements)
	slices.SortStableFunc(sorted, func(a, b *Agreement) int { return a.CreatedAt.Compare(b.CreatedAt) })
	seen := make(map[string]bool)
	var out []*Delivery
	for _, a := range sorted {
		if seen[a.Partner] || disabled[a.Partner] || !a.covers(ev, forwarded) {
			continue
		}
		seen[a.Partner] = true
		out = append(out, &Delivery{
			ID: NewID("dlv_", now), Partner: a.Partner, AgreementID: a.ID, Trigger: ev.Kind,
			ConfirmationID: ev.ConfirmationID, Category: ev.Category, SubjectID: ev.SubjectID,
			EncounterID: ev.EncounterID, Site: ev.Site, State: DeliveryPending, CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}

// Confirmation is an examiner's decision that forwards: a confirmed
// watchlist hit or a confirmed duplicate. The adjudication workflow records
// it with ForwardStore.ConfirmForForwarding, which plans its deliveries in
// the same transaction.
type Confirmation struct {
	ID          string    `json:"id"`
	Kind        Trigger   `json:"kind"`               // hit or duplicate
	HitID       string    `json:"hit_id,omitempty"`   // the confirmed hit, for hits
	Category    string    `json:"category,omitempty"` // the watchlist entry's category, for hits
	SubjectID   string    `json:"subject_id"`
	EncounterID string    `json:"encounter_id"` // the encounter to forward
	Examiner    string    `json:"examiner"`     // user ID, from the context's actor
	Reason      string    `json:"reason,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Validate reports the first rule the confirmation breaks, as an EINVALID error.
func (c *Confirmation) Validate() error {
	switch {
	case c.Kind != TriggerHit && c.Kind != TriggerDuplicate:
		return Errorf(EINVALID, "confirmation kind must be hit or duplicate")
	case c.Kind == TriggerHit && !slices.Contains(WatchlistCategories, WatchlistCategory(c.Category)):
		return Errorf(EINVALID, "a hit confirmation needs a watchlist category")
	case c.SubjectID == "" || c.EncounterID == "":
		return Errorf(EINVALID, "subject_id and encounter_id required")
	}
	return checkText("reason", c.Reason, 1000)
}

// DeliveryFilter selects deliveries. Zero fields do not filter.
type DeliveryFilter struct {
	Partner   string
	State     DeliveryState
	SubjectID string // deliveries about this subject
	Limit     int    // at most this many (0: 100, at most 1000), newest first
	Offset    int
	After     *PageKey // the deliveries after (older than) this one (created at, then ID)
}

// ForwardStore keeps partners, agreements, confirmations and deliveries.
// It is separate from Store so that stores grow it without breaking
// Store's other implementations; sqlite.Store and postgres.Store implement
// both. As in Store, every change appends its audit events in the same
// transaction. A Store also plans deliveries inside CreateEncounter when
// the encounter declares a conviction.
type ForwardStore interface {
	// CreatePartner stores a new partner. EINVALID, ECONFLICT if the code is taken.
	CreatePartner(ctx context.Context, p *Partner) error
	// UpdatePartner replaces a partner's settings. EINVALID, ENOTFOUND.
	UpdatePartner(ctx context.Context, p *Partner) error
	// FindPartner returns the partner with the code, or ENOTFOUND.
	FindPartner(ctx context.Context, code string) (*Partner, error)
	// ListPartners returns every partner, by code.
	ListPartners(ctx context.Context) ([]*Partner, error)

	// CreateAgreement stores a new active agreement, setting ID and
	// CreatedAt. EINVALID, also for an unknown partner.
	CreateAgreement(ctx context.Context, a *Agreement) error
	// RevokeAgreement deactivates an agreement: it plans no more
	// deliveries, and its undelivered ones are parked. ENOTFOUND.
	RevokeAgreement(ctx context.Context, id string) error
	// FindAgreement returns the agreement, or ENOTFOUND.
	FindAgreement(ctx context.Context, id string) (*Agreement, error)
	// ListAgreements returns the partner's agreements ("" for every
	// partner's), oldest first.
	ListAgreements(ctx context.Context, partner string) ([]*Agreement, error)

	// ConfirmForForwarding records the confirmation and plans its
	// deliveries in one transaction, and returns them. EINVALID; ENOTFOUND
	// if the encounter is unknown.
	ConfirmForForwarding(ctx context.Context, c *Confirmation) ([]*Delivery, error)

	// FindDelivery returns the delivery, or ENOTFOUND.
	FindDelivery(ctx context.Context, id string) (*Delivery, error)
	// ListDeliveries returns the deliveries matching the filter, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// ListDeliveryAttempts returns the delivery's attempts, in order.
	ListDeliveryAttempts(ctx context.Context, id string) ([]*DeliveryAttempt, error)
	// PendingDeliveries returns up to limit pending deliveries, oldest first.
	PendingDeliveries(ctx context.Context, limit int) ([]*Delivery, error)
	// MarkPublished moves the pending deliveries among ids to published.
	MarkPublished(ctx context.Context, ids []string) error
	// RequeueStale moves back to pending the published deliveries with no
	// activity since before, so that the relay publishes them again (a
	// work-queue message lost with a NATS server's storage), and returns
	// how many.
	RequeueStale(ctx context.Context, before time.Time) (int, error)
	// RecordAttempt appends the attempt (setting its N) and moves the
	// delivery to state: published (to retry), delivered (with the
	// attempt's receipt) or dead. It returns the delivery as updated.
	// ENOTFOUND; ECONFLICT if the delivery is already final.
	RecordAttempt(ctx context.Context, a *DeliveryAttempt, state DeliveryState) (*Delivery, error)
}

// Queue is the work queue between the relay, which publishes deliveries
// written to the outbox, and the delivery workers (natsbus.Bus, on NATS
// JetStream). It delivers each message to one worker at a time, again
// after the ack wait if that worker neither acknowledges nor naks it.
type Queue interface {
	// Publish adds a message and returns once it is stored. A second
	// message with the same id within the deduplication window is dropped.
	Publish(ctx context.Context, id string, data []byte) error
	// Next waits up to wait for the next message; nil, nil when none came.
	Next(ctx context.Context, wait time.Duration) (QueueMessage, error)
}

// QueueMessage is one message handed to a worker.
type QueueMessage interface {
	Data() []byte
	// Ack removes the message: it is done with.
	Ack() error
	// NakWithDelay hands the message back, to be redelivered after delay.
	NakWithDelay(delay time.Duration) error
	// InProgress tells the queue the worker is still at it, resetting the ack wait.
	InProgress() error
	// Term removes the message without success: it is never redelivered.
	Term() error
}
