// Package http serves Huella's JSON API under /v1, its OpenAPI document,
// health and readiness probes and Prometheus metrics.
package http

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/http/internal/access"
	"github.com/huella-abis/huella/internal/admit"
	"github.com/huella-abis/huella/internal/buildinfo"
	"github.com/huella-abis/huella/internal/requestid"
)

// Default request limits. A request with images (an encounter, an
// ANSI/NIST transaction) is read whole before it is decoded: 64 MB holds
// a ten-print encounter at 1000 ppi with irises, face and tattoos.
const (
	DefaultMaxRequestSize = 64 << 20
	DefaultMaxJSONSize    = 1 << 20
)

// Server is the HTTP server. Set the exported fields, then Open.
type Server struct {
	Store          huella.Database
	Blobs          huella.BlobStore
	Enroll         *enroll.Service
	Adjudicate     *adjudicate.Service
	Logger         *slog.Logger
	Now            func() time.Time
	MaxRequestSize int64 // bytes; DefaultMaxRequestSize when zero
	// Console, when set, serves the web console at every path the API does
	// not claim (set it before Open).
	Console http.Handler
	// Ready, when set, must also return nil for /readyz to report ready
	// (for example once the galleries are loaded).
	Ready func() error
	// TLS, when set, makes Open serve HTTPS with it (see TLSConfig), and
	// every response carry Strict-Transport-Security.
	TLS *tls.Config
	// TrustProxy believes a reverse proxy's X-Forwarded-Proto: set it only
	// when every request comes through a proxy that sets that header.
	TrustProxy bool
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Uploads admits requests that carry images: their bodies share one
	// memory budget and their decoding a bounded number of slots. NewServer
	// sets a gate with the defaults; share it with the console.
	Uploads *admit.Gate
	// PartnerFileDir is the only directory partners' TLS files may be
	// named in (huella.Partner.CheckFiles); empty accepts none.
	PartnerFileDir string

	mux     *http.ServeMux
	server  *http.Server
	ln      net.Listener
	metrics *metrics
	ops     *opsMetrics // observe.go
	// metricsServer serves /metrics on its own address (OpenMetrics); the
	// API's address then answers /metrics with 404.
	metricsServer *http.Server
	metricsLn     net.Listener
}

// NewServer returns a server with its routes registered.
func NewServer(store huella.Database, blobs huella.BlobStore, enroller *enroll.Service, logger *slog.Logger) *Server {
	s := &Server{
		Store:   store,
		Blobs:   blobs,
		Enroll:  enroller,
		Logger:  slog.New(requestid.Handler(logger.Handler())),
		Now:     time.Now,
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
		Uploads: admit.NewGate(0, 0),
	}
	s.ops = newOpsMetrics(s)
	s.ops.register(s.metrics.registry)
	s.Observe()
	if store != nil {
		s.Adjudicate = &adjudicate.Service{Store: store, Blobs: blobs, Logger: s.Logger}
		if enroller != nil {
			s.Adjudicate.Identifier = enroller.Identifier
		}
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.metricsServer != nil {
			s.Error(w, r, huella.Errorf(huella.ENOTFOUND, "no such endpoint"))
			return
		}
		s.serveMetrics(w, r)
	})
	s.mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.authenticated(rt, rt.Handler))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.methodNotAllowed(w, r) {
			return
		}
		if s.Console == nil || strings.HasPrefix(r.URL.Path, "/v1/") {
			s.Error(w, r, huella.Errorf(huella.ENOTFOUND, "no such endpoint"))
			return
		}
		s.Console.ServeHTTP(w, r)
	})
	return s
}

// Handler returns the server's handler, for tests and embedding.
func (s *Server) Handler() http.Handler {
	return s.accessLog(s.recoverer(s.secureHeaders(privateHeaders(s.mux))))
}

// privateHeaders marks every response as not to be cached (records and
// images of people must not linger in shared or browser caches) and not to
// be content-sniffed. A handler may still set its own Cache-Control.
func privateHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// serveMetrics serves the Prometheus metrics, behind MetricsToken when set.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.MetricsToken != "" {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.MetricsToken)) != 1 {
			s.Error(w, r, huella.Errorf(huella.EUNAUTHORIZED, "the metrics need their bearer token"))
			return
		}
	}
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// OpenMetrics serves /metrics on addr, apart from the API (for example on
// an address only the monitoring network reaches); the API's address then
// answers /metrics with 404. Call it before Open.
func (s *Server) OpenMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.metricsLn = ln
	s.metricsServer = &http.Server{
		Handler:           s.recoverer(privateHeaders(mux)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	go s.metricsServer.Serve(ln)
	return nil
}

// MetricsURL returns the URL of /metrics when served apart (OpenMetrics),
// else "".
func (s *Server) MetricsURL() string {
	if s.metricsLn == nil {
		return ""
	}
	return "http://" + s.metricsLn.Addr().String() + "/metrics"
}

// Open starts serving on addr ("127.0.0.1:0" picks a free port).
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	s.server = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		TLSConfig:         s.TLS,
	}
	if s.TLS != nil {
		go s.server.ServeTLS(ln, "", "")
	} else {
		go s.server.Serve(ln)
	}
	return nil
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	if s.TLS != nil {
		return "https://" + s.ln.Addr().String()
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting requests and waits up to 10 s for those running.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if s.metricsServer != nil {
		errs = append(errs, s.metricsServer.Shutdown(ctx))
	}
	if s.server != nil {
		errs = append(errs, s.server.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.Ping(r.Context()); err != nil {
		s.Logger.WarnContext(r.Context(), "not ready", "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.Ready != nil {
		if err := s.Ready(); err != nil {
			http.Error(w, huella.ErrorMessage(err), http.StatusServiceUnavailable)
			return
		}
	}
	writeJSON(w, http.StatusOK, readyResponse{Status: "ready", Info: buildinfo.Read()})
}

// route is one API endpoint: its access rule and handler. The route table
// drives the mux, the access checks and the OpenAPI document.
type route struct {
	Method, Path string
	Summary      string
	Roles        []huella.Role // who may call it at all
	Query        []param       // documented query parameters
	Headers      []param       // documented request headers
	Request      any           // JSON request body type, for the OpenAPI document
	Multipart    bool          // multipart/form-data body
	RawRequest   string        // content type of a non-JSON request body
	Response     any           // JSON response body type
	RawResponse  string        // content type of a non-JSON response
	Paged        bool          // a list: takes limit and cursor, links the next page (page.go)
	Handler      http.HandlerFunc
}

type param struct{ Name, Type, Description string }

// authenticated resolves the bearer token to a user, checks the route's
// roles, puts the user and purpose in the context and records metrics.
func (s *Server) authenticated(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.metrics.requests.WithLabelValues(rt.Method+" "+rt.Path, fmt.Sprint(sw.status)).Inc()
			s.metrics.duration.WithLabelValues(rt.Method + " " + rt.Path).Observe(time.Since(start).Seconds())
		}()
		user, err := s.authenticate(r)
		if err != nil {
			s.Error(sw, r, err)
			return
		}
		if !roleIn(user.Role, rt.Roles) {
			s.Error(sw, r, huella.Errorf(huella.EFORBIDDEN, "role %s may not %s %s", user.Role, rt.Method, rt.Path))
			return
		}
		purpose := huella.Purpose(r.Header.Get("X-Huella-Purpose"))
		if purpose == "" {
			purpose = access.Purpose(user.Role)
		} else if !purpose.Valid() {
			s.Error(sw, r, huella.Errorf(huella.EINVALID, "unknown purpose in X-Huella-Purpose"))
			return
		}
		ctx := huella.NewContextWithActor(r.Context(), user)
		ctx = huella.NewContextWithPurpose(ctx, purpose)
		if rt.Multipart || rt.RawRequest != "" {
			// Images: read whole under the memory budget, then decoded in
			// one of the bounded slots.
			s.Uploads.Wrap(sw, r.WithContext(ctx), s.maxRequestSize(), next.ServeHTTP, func(err error) { s.Error(sw, r, err) })
			return
		}
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

func (s *Server) authenticate(r *http.Request) (*huella.User, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "missing bearer token")
	}
	u, err := s.Store.FindUserByTokenHash(r.Context(), huella.HashToken(token))
	if err != nil {
		return nil, err
	}
	// The store matched the hash; compare again in constant time so that a
	// store doing a prefix or case-insensitive lookup cannot widen access.
	if subtle.ConstantTimeCompare(u.TokenHash, huella.HashToken(token)) != 1 {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "invalid token")
	}
	now := s.Now()
	if u.TokenExpired(now) {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "token expired: ask an administrator for a new one")
	}
	if u.TokenUseStale(now) {
		// Bookkeeping for "tokens by last use": a failure costs a late
		// entry, not the request.
		if err := s.Store.RecordTokenUse(r.Context(), u.ID, now); err != nil {
			s.Logger.WarnContext(r.Context(), "record token use", "user", u.ID, "err", err)
		}
	}
	return u, nil
}

func roleIn(r huella.Role, roles []huella.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// recoverer turns a panic in a handler into a 500 and a log line.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeProblem(w, http.StatusInternalServerError, huella.EINTERNAL, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Error writes err as {code, message}. Internal errors are logged in full
// and shown as "internal error". Messages never carry personal data.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = huella.Errorf(huella.ETOOLARGE, "request larger than %d bytes", mbe.Limit)
	}
	code := huella.ErrorCode(err)
	if code == huella.EINTERNAL {
		s.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, access.Status(code), code, huella.ErrorMessage(err))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads a strict JSON body: unknown fields, wrong types, trailing
// data and bodies over the limit are EINVALID or ETOOLARGE.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxJSONSize)
	return decodeStrict(json.NewDecoder(r.Body), v)
}

func decodeStrict(dec *json.Decoder, v any) error {
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return huella.Errorf(huella.EINVALID, "malformed JSON: %s", jsonErrorText(err))
	}
	if dec.More() {
		return huella.Errorf(huella.EINVALID, "malformed JSON: trailing data after the object")
	}
	return nil
}

// jsonErrorText describes a JSON error by position and field, never by the
// offending value (which could be personal data).
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s must be %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	default:
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return "a time must be RFC 3339, e.g. 2026-11-26T10:00:00Z"
		}
		return "not a JSON object of the expected shape"
	}
}

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	enrolled prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huella_http_requests_total", Help: "API requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huella_http_request_duration_seconds", Help: "API request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"route"}),
		enrolled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huella_encounters_enrolled_total", Help: "Encounters enrolled since start.",
		}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.enrolled,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
