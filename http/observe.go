package http

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/buildinfo"
	"github.com/huella-abis/huella/internal/requestid"
	"github.com/huella-abis/huella/match"
)

// accessLog gives each request an ID (the client's X-Request-ID when it is
// a plain token, else a new one), echoes it in the response, carries it in
// the context so that every log line of the request names it, and writes
// one access log line: method, route pattern, status, duration, request
// ID. Never the path's values, the query or a body: those can be personal.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestid.Header)
		if !requestid.Valid(id) {
			id = requestid.New()
		}
		w.Header().Set(requestid.Header, id)
		ctx := requestid.NewContext(r.Context(), id)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on this request
		if route == "" || route == "/" {
			route = "console" // the console's own routes, or no route at all
		}
		s.Logger.InfoContext(ctx, "request", "method", r.Method, "route", route, "status", sw.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readyResponse is the body of a ready /readyz: which build is serving.
type readyResponse struct {
	Status string `json:"status"`
	buildinfo.Info
}

// opsMetrics are the operator's gauges, read at each scrape, and the
// identification latency.
type opsMetrics struct {
	server   *Server
	build    *prometheus.GaugeVec
	identify *prometheus.HistogramVec

	gallery     *prometheus.Desc
	queueDepth  *prometheus.Desc
	queueOldest *prometheus.Desc
	fwdBacklog  *prometheus.Desc
	fwdOldest   *prometheus.Desc
}

func newOpsMetrics(s *Server) *opsMetrics {
	m := &opsMetrics{
		server: s,
		build: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "huella_build_info", Help: "The running build: always 1, labelled with version, commit and Go version.",
		}, []string{"version", "commit", "goversion"}),
		identify: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huella_identification_duration_seconds", Help: "Time of one 1:N search (subjects and watchlists) by the probe's modalities, e.g. finger+face.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"modalities"}),
		gallery: prometheus.NewDesc("huella_gallery_subjects", "Subjects (or watch entries) held in each in-memory gallery.",
			[]string{"gallery"}, nil),
		queueDepth: prometheus.NewDesc("huella_examiner_queue_depth", "Hits waiting for an examiner's decision, by kind (duplicate, watchlist).",
			[]string{"kind"}, nil),
		queueOldest: prometheus.NewDesc("huella_examiner_queue_oldest_seconds", "Age of the oldest hit waiting for an examiner (0 when none).",
			nil, nil),
		fwdBacklog: prometheus.NewDesc("huella_forward_backlog", "Deliveries not yet delivered (pending or published), by partner.",
			[]string{"partner"}, nil),
		fwdOldest: prometheus.NewDesc("huella_forward_lag_seconds", "Age of the oldest delivery not yet delivered (0 when none): the forwarding lag.",
			nil, nil),
	}
	b := buildinfo.Read()
	m.build.WithLabelValues(b.Version, b.Commit, b.GoVersion).Set(1)
	return m
}

// register adds the operator's metrics to the registry.
func (m *opsMetrics) register(r *prometheus.Registry) {
	r.MustRegister(m.build, m.identify, m)
}

// observeIdentification records one 1:N search's duration.
func (m *opsMetrics) observeIdentification(probe []*huella.Template, took time.Duration) {
	var mods []string
	for _, t := range probe {
		if !slices.Contains(mods, string(t.Modality)) {
			mods = append(mods, string(t.Modality))
		}
	}
	slices.Sort(mods)
	m.identify.WithLabelValues(strings.Join(mods, "+")).Observe(took.Seconds())
}

// Describe implements prometheus.Collector.
func (m *opsMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.gallery, m.queueDepth, m.queueOldest, m.fwdBacklog, m.fwdOldest} {
		ch <- d
	}
}

// scrapePageLimit bounds the rows one scrape reads for a gauge: a queue
// deeper than this reads as this (an alert fires long before).
const (
	scrapePage      = 1000
	scrapePageLimit = 100 * scrapePage
)

// Collect implements prometheus.Collector: it reads the galleries and the
// store at each scrape. A store error leaves that gauge out of the scrape.
func (m *opsMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.server
	if x := s.identifier(); x != nil && x.Ready() == nil {
		ch <- prometheus.MustNewConstMetric(m.gallery, prometheus.GaugeValue, float64(x.Subjects.Len()), "subjects")
		ch <- prometheus.MustNewConstMetric(m.gallery, prometheus.GaugeValue, float64(x.Watchlists.Len()), "watchlists")
	}
	if s.Store == nil { // "huella openapi" serves no data
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	m.collectQueue(ctx, ch, s.Now())
	m.collectForwarding(ctx, ch, s.Now())
}

// collectQueue reports the examiners' queue: pending hits by kind and the
// age of the oldest.
func (m *opsMetrics) collectQueue(ctx context.Context, ch chan<- prometheus.Metric, now time.Time) {
	depth := map[huella.HitKind]int{huella.HitDuplicate: 0, huella.HitWatchlist: 0}
	oldest := 0.0
	err := scrapePages(func(off int) ([]*huella.Hit, error) {
		return m.server.Store.ListHits(ctx, huella.HitFilter{State: huella.HitPending, Limit: scrapePage, Offset: off})
	}, func(h *huella.Hit) {
		depth[h.Kind]++
		oldest = max(oldest, now.Sub(h.CreatedAt).Seconds())
	})
	if err != nil {
		return
	}
	for kind, n := range depth {
		ch <- prometheus.MustNewConstMetric(m.queueDepth, prometheus.GaugeValue, float64(n), string(kind))
	}
	ch <- prometheus.MustNewConstMetric(m.queueOldest, prometheus.GaugeValue, oldest)
}

// collectForwarding reports the deliveries not yet delivered, by partner,
// and the age of the oldest.
func (m *opsMetrics) collectForwarding(ctx context.Context, ch chan<- prometheus.Metric, now time.Time) {
	backlog := map[string]int{}
	oldest := 0.0
	for _, state := range []huella.DeliveryState{huella.DeliveryPending, huella.DeliveryPublished} {
		err := scrapePages(func(off int) ([]*huella.Delivery, error) {
			return m.server.Store.ListDeliveries(ctx, huella.DeliveryFilter{State: state, Limit: scrapePage, Offset: off})
		}, func(d *huella.Delivery) {
			backlog[d.Partner]++
			oldest = max(oldest, now.Sub(d.CreatedAt).Seconds())
		})
		if err != nil {
			return
		}
	}
	for partner, n := range backlog {
		ch <- prometheus.MustNewConstMetric(m.fwdBacklog, prometheus.GaugeValue, float64(n), partner)
	}
	ch <- prometheus.MustNewConstMetric(m.fwdOldest, prometheus.GaugeValue, oldest)
}

// identifier returns the identifier serving searches, or nil.
func (s *Server) identifier() *match.Identifier {
	if s.Enroll != nil && s.Enroll.Identifier != nil {
		return s.Enroll.Identifier
	}
	return nil
}

// Observe wires the enrollment service's and the identifier's hooks to
// the server's metrics. NewServer calls it; call it again after setting
// the service's Identifier.
func (s *Server) Observe() {
	if s.Enroll == nil {
		return
	}
	s.Enroll.OnEnrolled = func(*huella.Encounter) { s.metrics.enrolled.Inc() }
	if x := s.Enroll.Identifier; x != nil {
		x.OnIdentified = s.ops.observeIdentification
	}
}

// scrapePages visits the rows that list returns page by page (scrapePage
// at a time, from offset 0), up to scrapePageLimit rows.
func scrapePages[T any](list func(offset int) ([]T, error), visit func(T)) error {
	for off := 0; off < scrapePageLimit; off += scrapePage {
		page, err := list(off)
		if err != nil {
			return err
		}
		for _, row := range page {
			visit(row)
		}
		if len(page) < scrapePage {
			return nil
		}
	}
	return nil
}
