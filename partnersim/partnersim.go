// Package partnersim is a partner agency's receiving end, for tests and
// demonstrations (huella partner-sim): it receives deliveries, verifies
// their Ed25519 signatures against Huella's published keys, applies each
// Idempotency-Key once, keeps what it got, and can be told to fail, hang
// or be slow.
package partnersim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/huella-abis/huella/forward"
)

// Mode is how the simulator answers deliveries.
type Mode string

// Modes.
const (
	ModeOK   Mode = "ok"   // verify, apply once, answer 200 with a receipt
	ModeFail Mode = "fail" // answer 503 without looking
	ModeHang Mode = "hang" // hold the request until the mode changes or the caller gives up
	ModeSlow Mode = "slow" // wait Delay, then as ok
	// ModeLoseAck applies the delivery, then answers 504 as if the
	// response were lost on the way back: the sender retries, and the
	// repeat must take no second effect.
	ModeLoseAck Mode = "lose-ack"
)

// maxBody bounds a delivery's size.
const maxBody = 256 << 20

// Received is one delivery applied by the simulator.
type Received struct {
	IdempotencyKey string            `json:"idempotency_key"`
	DeliveryID     string            `json:"delivery_id"`
	Receipt        string            `json:"receipt"`
	At             time.Time         `json:"at"`    // when it was applied
	Posts          int               `json:"posts"` // how many times it was POSTed (applied once)
	ContentType    string            `json:"content_type"`
	Document       *forward.Document `json:"-"` // decoded JSON body, nil for other formats
	Body           []byte            `json:"-"`
	// AuditCheckpoint is the sender's signed audit checkpoint that came
	// with the delivery (forward.HeaderAuditCheckpoint), kept as a witness.
	AuditCheckpoint string `json:"audit_checkpoint,omitempty"`
}

// Stats counts what the simulator saw.
type Stats struct {
	Posts      int `json:"posts"`      // every POST
	Applied    int `json:"applied"`    // distinct Idempotency-Keys applied
	Duplicates int `json:"duplicates"` // repeats of an applied key, answered with its receipt
	Rejected   int `json:"rejected"`   // bad signature, unknown key or malformed
	Failed     int `json:"failed"`     // answered 503 in fail mode
}

// Sim is the simulator. Create it with New; it is an http.Handler.
type Sim struct {
	// JWKSURL, when set, is fetched for the keys (again when a delivery
	// names a key the simulator does not know).
	JWKSURL string
	// Dir, when set, receives each applied body as <idempotency key>.body.
	Dir string
	Now func() time.Time

	mu       sync.Mutex
	keys     *forward.JWKS
	mode     Mode
	delay    time.Duration
	received map[string]*Received
	order    []string
	stats    Stats
	mux      *http.ServeMux
}

// New returns a simulator in ok mode that trusts the given keys (nil: none
// until JWKSURL is fetched).
func New(keys *forward.JWKS) *Sim {
	s := &Sim{keys: keys, Now: time.Now, mode: ModeOK, received: make(map[string]*Received), mux: http.NewServeMux()}
	if s.keys == nil {
		s.keys = &forward.JWKS{}
	}
	s.mux.HandleFunc("POST /deliveries", s.handleDelivery)
	s.mux.HandleFunc("GET /received", s.handleReceived)
	s.mux.HandleFunc("POST /control", s.handleControl)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return s
}

// ServeHTTP serves POST /deliveries, GET /received, POST /control and GET /healthz.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetMode changes how deliveries are answered; delay applies to ModeSlow.
func (s *Sim) SetMode(m Mode, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode, s.delay = m, delay
}

// SetKeys replaces the trusted keys.
func (s *Sim) SetKeys(keys *forward.JWKS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// Stats returns the counts so far.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Received returns the applied deliveries in the order applied.
func (s *Sim) Received() []*Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Received, 0, len(s.order))
	for _, k := range s.order {
		r := *s.received[k]
		out = append(out, &r)
	}
	return out
}

func (s *Sim) currentMode() (Mode, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode, s.delay
}

func (s *Sim) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)

func (s *Sim) handleDelivery(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *Stats) { st.Posts++ })
	mode, delay := s.currentMode()
	switch mode {
	case ModeFail:
		s.count(func(st *Stats) { st.Failed++ })
		http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
		return
	case ModeHang:
		for mode == ModeHang {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			mode, delay = s.currentMode()
		}
	}
	if mode == ModeSlow {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.reject(w, http.StatusBadRequest, "unreadable body")
		return
	}
	key := r.Header.Get(forward.HeaderIdempotencyKey)
	if !keyPattern.MatchString(key) {
		s.reject(w, http.StatusBadRequest, "Idempotency-Key required")
		return
	}
	if err := s.verify(r.Context(), r.Header.Get(forward.HeaderKeyID), r.Header.Get(forward.HeaderSignature), body); err != nil {
		s.reject(w, http.StatusUnauthorized, err.Error())
		return
	}
	rec, duplicate, err := s.apply(key, r.Header.Get(forward.HeaderDelivery), r.Header.Get("Content-Type"), body)
	if err == nil && !duplicate {
		s.mu.Lock()
		rec.AuditCheckpoint = r.Header.Get(forward.HeaderAuditCheckpoint)
		s.mu.Unlock()
	}
	if err != nil {
		s.reject(w, http.StatusInternalServerError, "could not store")
		return
	}
	if mode == ModeLoseAck {
		http.Error(w, `{"error":"gateway timeout"}`, http.StatusGatewayTimeout)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"receipt": rec.Receipt, "idempotency_key": key, "duplicate": duplicate})
}

func (s *Sim) reject(w http.ResponseWriter, status int, why string) {
	s.count(func(st *Stats) { st.Rejected++ })
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": why})
}

// verify checks the signature, fetching the key set once more when the
// key is unknown and a JWKS URL is set (our keys were rotated).
func (s *Sim) verify(ctx context.Context, kid, signature string, body []byte) error {
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	err := keys.Verify(kid, signature, body)
	if err == forward.ErrUnknownKey && s.JWKSURL != "" {
		if fresh, ferr := FetchJWKS(ctx, s.JWKSURL); ferr == nil {
			s.SetKeys(fresh)
			err = fresh.Verify(kid, signature, body)
		}
	}
	return err
}

// apply stores the delivery under its key unless the key was applied
// before, in which case it returns the first receipt.
func (s *Sim) apply(key, deliveryID, contentType string, body []byte) (*Received, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.received[key]; ok {
		rec.Posts++
		s.stats.Duplicates++
		return rec, true, nil
	}
	if s.Dir != "" {
		if err := os.WriteFile(filepath.Join(s.Dir, key+".body"), body, 0o600); err != nil {
			return nil, false, err
		}
	}
	rec := &Received{IdempotencyKey: key, DeliveryID: deliveryID, Receipt: fmt.Sprintf("rcpt-%06d", len(s.order)+1),
		At: s.Now(), Posts: 1, ContentType: contentType, Body: body}
	if contentType == "application/json" {
		var doc forward.Document
		if json.Unmarshal(body, &doc) == nil {
			rec.Document = &doc
		}
	}
	s.received[key] = rec
	s.order = append(s.order, key)
	s.stats.Applied++
	return rec, false, nil
}

func (s *Sim) handleReceived(w http.ResponseWriter, r *http.Request) {
	list := s.Received()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"stats": s.Stats(), "received": list})
}

func (s *Sim) handleControl(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Mode  Mode   `json:"mode"`
		Delay string `json:"delay"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil ||
		!slices.Contains([]Mode{ModeOK, ModeFail, ModeHang, ModeSlow, ModeLoseAck}, req.Mode) {
		http.Error(w, `{"error":"want {\"mode\": \"ok|fail|hang|slow|lose-ack\", \"delay\": \"500ms\"}"}`, http.StatusBadRequest)
		return
	}
	var delay time.Duration
	if req.Delay != "" {
		var err error
		if delay, err = time.ParseDuration(req.Delay); err != nil {
			http.Error(w, `{"error":"bad delay"}`, http.StatusBadRequest)
			return
		}
	}
	s.SetMode(req.Mode, delay)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"mode\":%q}\n", req.Mode)
}

// FetchJWKS reads a key set from a URL such as
// https://huella.example/.well-known/jwks.json.
func FetchJWKS(ctx context.Context, url string) (*forward.JWKS, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("partnersim: jwks: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("partnersim: jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("partnersim: jwks: status %d", resp.StatusCode)
	}
	var set forward.JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("partnersim: jwks: %w", err)
	}
	return &set, nil
}
