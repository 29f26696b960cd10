// Package forward sends what Huella learns to partner agencies under their
// sharing agreements. Deliveries are planned by the store in the
// transaction of the decision that calls for them (the outbox); a relay
// publishes pending deliveries onto a work queue (NATS JetStream, with
// deduplication by delivery ID); workers build each payload with only what
// the agreement allows, sign it with Ed25519, POST it with an
// Idempotency-Key, retry with exponential backoff and jitter, and park it
// as dead after a configurable time, recording and auditing every attempt.
//
// A crash anywhere loses nothing: a delivery stays pending in the database
// until the queue has it, stays on the queue until a worker recorded its
// outcome, and the partner deduplicates repeats by the Idempotency-Key.
package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/huella-abis/huella"
)

// Forwarder runs the relay and the delivery workers. Set the exported
// fields, then Open; Close stops both and waits for them.
type Forwarder struct {
	Store   huella.ForwardStore // deliveries, partners, agreements
	Records huella.Store        // the encounters deliveries are built from
	Images  ImageSource         // the sample images (huella.BlobStore.Get)
	Queue   huella.Queue
	Keys    *KeyRing
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
	// AuditCheckpoint, when set, returns our newest signed audit
	// checkpoint, sent with every delivery (HeaderAuditCheckpoint); nil or
	// empty sends none.
	AuditCheckpoint func() []byte

	// Tuning; zero values take the defaults of params.go.
	Workers       int
	RelayInterval time.Duration
	RelayBatch    int
	BackoffBase   time.Duration
	BackoffMax    time.Duration
	DeadAfter     time.Duration
	HTTPTimeout   time.Duration
	StaleAfter    time.Duration

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	kick    chan struct{}
	mu      sync.Mutex
	clients map[string]partnerClient
}

// partnerClient is the HTTP client of one partner's TLS settings.
type partnerClient struct {
	updated time.Time
	client  *http.Client
}

// Open applies the defaults and starts the relay and the workers.
func (f *Forwarder) Open(ctx context.Context) error {
	if f.Store == nil || f.Records == nil || f.Images == nil || f.Queue == nil || f.Keys == nil {
		return errors.New("forward: Store, Records, Images, Queue and Keys are required")
	}
	f.setDefaults()
	ctx, f.cancel = context.WithCancel(huella.NewContextWithPurpose(context.WithoutCancel(ctx), huella.PurposeForwarding))
	f.wg.Go(func() { f.relayLoop(ctx) })
	for range f.Workers {
		f.wg.Go(func() { f.workerLoop(ctx) })
	}
	return nil
}

func (f *Forwarder) setDefaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&f.RelayInterval, DefaultRelayInterval)
	set(&f.BackoffBase, DefaultBackoffBase)
	set(&f.BackoffMax, DefaultBackoffMax)
	set(&f.DeadAfter, DefaultDeadAfter)
	set(&f.HTTPTimeout, DefaultHTTPTimeout)
	set(&f.StaleAfter, DefaultStaleAfter)
	if f.Workers == 0 {
		f.Workers = DefaultWorkers
	}
	if f.RelayBatch == 0 {
		f.RelayBatch = DefaultRelayBatch
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if f.Metrics == nil {
		f.Metrics = NewMetrics()
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	f.kick = make(chan struct{}, 1)
	f.clients = make(map[string]partnerClient)
}

// Close stops the relay and the workers and waits for them. A delivery in
// flight is left to the queue, which hands it out again.
func (f *Forwarder) Close() error {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	return nil
}

// Kick wakes the relay now rather than at its next interval, after a
// decision that planned deliveries was committed in this process.
func (f *Forwarder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// relayLoop publishes pending deliveries until ctx ends, and now and then
// sends stale published deliveries back to pending. It starts by sending
// every published delivery back: the queue may have lost what it had not
// synced to disk when the machine stopped, and what it kept is dropped as a
// repeat (within the deduplication window) or settled as one by the worker.
func (f *Forwarder) relayLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := f.Store.RequeueStale(ctx, f.Now())
		if err != nil {
			f.Logger.Warn("requeue published deliveries at start", "err", err)
			sleep(ctx, errorPause)
			continue
		}
		if n > 0 {
			f.Logger.Info("requeued published deliveries at start", "count", n)
		}
		if n < 1000 {
			break
		}
	}
	lastSweep := f.Now()
	var logged time.Time
	for {
		n, err := f.RelayOnce(ctx)
		if err != nil && ctx.Err() == nil {
			f.Metrics.RelayErrors.Inc()
			if time.Since(logged) > errorLogEvery {
				f.Logger.Warn("relay pass failed", "err", err)
				logged = time.Now()
			}
		}
		if f.Now().Sub(lastSweep) > f.StaleAfter/4 {
			lastSweep = f.Now()
			if requeued, err := f.Store.RequeueStale(ctx, f.Now().Add(-f.StaleAfter)); err != nil {
				f.Logger.Warn("requeue stale deliveries", "err", err)
			} else if requeued > 0 {
				f.Logger.Warn("requeued stale deliveries", "count", requeued)
			}
		}
		if n == f.RelayBatch && err == nil {
			continue // more are waiting
		}
		wait := f.RelayInterval
		if err != nil {
			wait = errorPause
		}
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-time.After(wait):
		}
	}
}

// RelayOnce publishes one batch of pending deliveries and marks those the
// queue stored as published. It returns how many it published. A delivery
// published but not marked (a crash in between) is published again later,
// and the queue drops the repeat by its message ID.
func (f *Forwarder) RelayOnce(ctx context.Context) (int, error) {
	pending, err := f.Store.PendingDeliveries(ctx, f.RelayBatch)
	if err != nil {
		return 0, err
	}
	var ids []string
	var publishErr error
	for _, d := range pending {
		if err := f.Queue.Publish(ctx, d.ID, []byte(d.ID)); err != nil {
			publishErr = err
			break
		}
		ids = append(ids, d.ID)
	}
	if err := f.Store.MarkPublished(ctx, ids); err != nil {
		return 0, err
	}
	f.Metrics.Published.Add(float64(len(ids)))
	return len(ids), publishErr
}

// workerLoop takes deliveries off the queue until ctx ends.
func (f *Forwarder) workerLoop(ctx context.Context) {
	var logged time.Time
	for ctx.Err() == nil {
		m, err := f.Queue.Next(ctx, queueWait)
		if err != nil {
			if ctx.Err() == nil {
				if time.Since(logged) > errorLogEvery {
					f.Logger.Warn("queue unavailable", "err", err)
					logged = time.Now()
				}
				sleep(ctx, errorPause)
			}
			continue
		}
		if m != nil {
			f.handle(ctx, m)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle makes one attempt at the delivery the message names and settles
// the message: acknowledged when the delivery is final, handed back with a
// backoff delay when it is to be retried.
func (f *Forwarder) handle(ctx context.Context, m huella.QueueMessage) {
	id := string(m.Data())
	d, err := f.Store.FindDelivery(ctx, id)
	switch {
	case huella.ErrorCode(err) == huella.ENOTFOUND:
		f.Logger.Error("queued delivery not in the store", "delivery", id)
		m.Term()
		return
	case err != nil:
		f.Logger.Warn("find delivery", "delivery", id, "err", err)
		m.NakWithDelay(errorPause)
		return
	case d.State.Final():
		m.Ack() // a repeat: it was settled already
		return
	}
	attempt, state := f.attempt(ctx, m, d)
	if state == huella.DeliveryPublished && f.Now().Sub(d.CreatedAt) >= f.DeadAfter {
		state = huella.DeliveryDead
	}
	updated, err := f.Store.RecordAttempt(ctx, attempt, state)
	switch {
	case huella.ErrorCode(err) == huella.ECONFLICT:
		m.Ack() // settled meanwhile (its agreement revoked, say)
		return
	case err != nil:
		// The outcome is not recorded: try again soon; the partner
		// deduplicates if this attempt did reach it.
		f.Logger.Warn("record attempt", "delivery", id, "err", err)
		m.NakWithDelay(errorPause)
		return
	}
	f.Metrics.AttemptTime.WithLabelValues(d.Partner).Observe(attempt.Duration.Seconds())
	switch state {
	case huella.DeliveryDelivered:
		f.Metrics.Attempts.WithLabelValues(d.Partner, "delivered").Inc()
		f.Metrics.Latency.WithLabelValues(d.Partner).Observe(f.Now().Sub(d.CreatedAt).Seconds())
		m.Ack()
	case huella.DeliveryDead:
		f.Metrics.Attempts.WithLabelValues(d.Partner, "dead").Inc()
		f.Metrics.DeadLetters.WithLabelValues(d.Partner).Inc()
		f.Logger.Error("delivery parked as dead", "delivery", id, "partner", d.Partner, "attempts", updated.Attempts, "last_error", attempt.Error)
		m.Term()
	default:
		f.Metrics.Attempts.WithLabelValues(d.Partner, "retry").Inc()
		m.NakWithDelay(f.Backoff(updated.Attempts))
	}
}

// attempt builds, signs and POSTs the delivery once, and returns the
// attempt and the state it leaves the delivery in.
func (f *Forwarder) attempt(ctx context.Context, m huella.QueueMessage, d *huella.Delivery) (*huella.DeliveryAttempt, huella.DeliveryState) {
	a := &huella.DeliveryAttempt{DeliveryID: d.ID, At: f.Now()}
	fail := func(format string, args ...any) (*huella.DeliveryAttempt, huella.DeliveryState) {
		a.Error = fmt.Sprintf(format, args...)
		return a, huella.DeliveryPublished
	}
	agreement, err := f.Store.FindAgreement(ctx, d.AgreementID)
	if err != nil {
		return fail("agreement: %s", huella.ErrorMessage(err))
	}
	if !agreement.Active {
		a.Error = "agreement revoked"
		return a, huella.DeliveryDead
	}
	partner, err := f.Store.FindPartner(ctx, d.Partner)
	if err != nil {
		return fail("partner: %s", huella.ErrorMessage(err))
	}
	if partner.Disabled {
		return fail("partner disabled")
	}
	e, err := f.Records.FindEncounter(ctx, d.EncounterID)
	if err != nil {
		return fail("encounter: %s", huella.ErrorMessage(err))
	}
	doc, err := BuildDocument(ctx, d, agreement, e, f.Images, f.Now())
	if err != nil {
		f.Logger.Warn("build payload", "delivery", d.ID, "err", err)
		return fail("build payload: %s", huella.ErrorMessage(err))
	}
	body, contentType, err := EncodeDocument(doc, partner.Format)
	if err != nil {
		return fail("encode payload: %s", huella.ErrorMessage(err))
	}
	signature, kid, err := f.Keys.Sign(partner.KeyID, body)
	if err != nil {
		return fail("sign: no key %q", partner.KeyID)
	}
	client, err := f.client(partner)
	if err != nil {
		return fail("tls settings: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, partner.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fail("request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(HeaderIdempotencyKey, d.IdempotencyKey())
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderKeyID, kid)
	req.Header.Set(HeaderSignature, signature)
	if f.AuditCheckpoint != nil {
		if note := f.AuditCheckpoint(); len(note) > 0 {
			req.Header.Set(HeaderAuditCheckpoint, base64.StdEncoding.EncodeToString(note))
		}
	}
	stopProgress := keepInProgress(m)
	start := time.Now()
	resp, err := client.Do(req)
	a.Duration = time.Since(start)
	stopProgress()
	if err != nil {
		return fail("%s", networkError(err))
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail("status %d", resp.StatusCode)
	}
	var ack struct {
		Receipt string `json:"receipt"`
	}
	if json.Unmarshal(data, &ack) == nil {
		a.Receipt = cleanReceipt(ack.Receipt)
	}
	if agreement.RequireAck && a.Receipt == "" {
		return fail("status %d without a receipt", resp.StatusCode)
	}
	return a, huella.DeliveryDelivered
}

// keepInProgress tells the queue, now and every inProgressEvery until the
// returned function is called, that the worker still holds the message, so
// that a slow partner does not get the delivery from a second worker
// meanwhile.
func keepInProgress(m huella.QueueMessage) (stop func()) {
	m.InProgress()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(inProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// networkError describes a failed request without the URL's query.
func networkError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timeout"
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// cleanReceipt keeps a partner's receipt if it is short printable text.
func cleanReceipt(s string) string {
	if len(s) > 200 {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}

// Backoff returns the delay before the retry after the given number of
// attempts: base·2^(attempts-1) capped at the maximum, half of it fixed and
// half random.
func (f *Forwarder) Backoff(attempts int) time.Duration {
	d := f.BackoffMax
	if attempts < 40 {
		if exp := f.BackoffBase << max(attempts-1, 0); exp > 0 && exp < d {
			d = exp
		}
	}
	return d/2 + rand.N(d/2+1)
}

// client returns the HTTP client for the partner's TLS settings, built
// once per settings.
func (f *Forwarder) client(p *huella.Partner) (*http.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[p.Code]; ok && c.updated.Equal(p.UpdatedAt) {
		return c.client, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("no certificate in the CA file")
		}
	}
	if p.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(p.ClientCertFile, p.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	client := &http.Client{
		Timeout: f.HTTPTimeout,
		Transport: &http.Transport{TLSClientConfig: conf, MaxIdleConnsPerHost: f.Workers,
			IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	f.clients[p.Code] = partnerClient{updated: p.UpdatedAt, client: client}
	return client, nil
}
