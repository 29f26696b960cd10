package shard

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/match"
)

// Defaults of Client.
const (
	DefaultDeadline = 3 * time.Second // a whole search
	DefaultResend   = time.Second     // resend to the shard's queue group after this long without an answer
)

// Client is the API side of the shards: the subject gallery as
// match.ShardedSearch (and huella.Matcher). Search scatters the probe to
// every shard at once and gathers their candidates until the deadline;
// the replica that takes a request sends heartbeats until it answers, and
// a request the shard has neither answered nor sent a heartbeat for in
// Resend is sent again to the shard's queue group, so that a replica that
// died with it in hand is covered by another (whichever answer comes
// first counts), while a slow search is not run twice.
type Client struct {
	Count    int    // shards
	Prefix   string // DefaultPrefix when empty
	Deadline time.Duration
	Resend   time.Duration
	// OnSearch, when set, is told of each complete Search: its time from
	// the scatter to the last answer, and the longest search one shard
	// ran (their difference is the scatter-gather's overhead).
	OnSearch func(total, slowest time.Duration)

	nc      *nats.Conn
	inbox   string
	sub     *nats.Subscription
	seq     atomic.Uint64
	mu      sync.Mutex
	waiting map[string]chan *nats.Msg

	misses   *prometheus.CounterVec
	searches prometheus.Counter
}

var (
	_ match.ShardedSearch = (*Client)(nil)
	_ huella.Matcher      = (*Client)(nil)
)

// NewClient returns a client of count shards on nc, listening for replies
// on an inbox of its own.
func NewClient(nc *nats.Conn, count int) (*Client, error) {
	if count < 1 {
		return nil, huella.Errorf(huella.EINVALID, "at least one shard")
	}
	c := &Client{Count: count, Prefix: DefaultPrefix, Deadline: DefaultDeadline, Resend: DefaultResend,
		nc: nc, inbox: nc.NewRespInbox(), waiting: make(map[string]chan *nats.Msg),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huella_shard_misses_total", Help: "Searches a matcher shard did not answer before the deadline, by shard (I/K).",
		}, []string{"shard"}),
		searches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huella_shard_searches_total", Help: "Searches scattered to the matcher shards.",
		}),
	}
	var err error
	if c.sub, err = nc.Subscribe(c.inbox+".*", c.onReply); err != nil {
		return nil, fmt.Errorf("shard client: subscribe: %w", err)
	}
	c.sub.SetPendingLimits(-1, -1)
	return c, nc.Flush()
}

// Close stops listening for replies (the connection is the caller's).
func (c *Client) Close() error { return c.sub.Unsubscribe() }

// Collectors returns the client's metrics.
func (c *Client) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.misses, c.searches}
}

func (c *Client) onReply(msg *nats.Msg) {
	c.mu.Lock()
	ch := c.waiting[msg.Subject]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- msg:
		default: // an answer came already
		}
	}
}

// ask sends data to subject and waits for the first answer until ctx is
// done, sending again every Resend (and at once after a "no responders").
// nil when none came.
func (c *Client) ask(ctx context.Context, subject string, data []byte) *Reply {
	reply := c.inbox + "." + strconv.FormatUint(c.seq.Add(1), 36)
	ch := make(chan *nats.Msg, 64) // heartbeats may queue; the answer must not be dropped
	c.mu.Lock()
	c.waiting[reply] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, reply)
		c.mu.Unlock()
	}()
	resend := c.Resend
	if resend <= 0 {
		resend = DefaultResend
	}
	t := time.NewTimer(resend)
	defer t.Stop()
	if err := c.nc.PublishRequest(subject, reply, data); err != nil {
		t.Reset(resend / 4)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := c.nc.PublishRequest(subject, reply, data); err != nil {
				t.Reset(resend / 4)
				continue
			}
			t.Reset(resend)
		case msg := <-ch:
			if len(msg.Data) == 0 && msg.Header.Get("Status") == "503" {
				// No replica subscribed just now: one may be starting.
				t.Reset(min(resend/4, 50*time.Millisecond))
				continue
			}
			var r Reply
			if err := json.Unmarshal(msg.Data, &r); err != nil {
				return &Reply{Code: huella.EINTERNAL, Message: "matcher reply is not JSON"}
			}
			if r.Working {
				t.Reset(resend) // in hand: wait for the answer
				continue
			}
			if r.V != Version {
				return &Reply{Shard: r.Shard, Code: huella.EUNSUPPORTED, Message: fmt.Sprintf("matcher speaks wire version %d, not %d", r.V, Version)}
			}
			return &r
		}
	}
}

// deadline bounds ctx by the client's deadline.
func (c *Client) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.Deadline
	if d <= 0 {
		d = DefaultDeadline
	}
	return context.WithTimeout(ctx, d)
}

// Search implements match.ShardedSearch: every shard's candidates merged
// and cut to k, best first, ties by subject ID as the gallery orders them.
// Each shard returns its own k best, so the merge is the k best of all.
func (c *Client) Search(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, bool, error) {
	data, err := json.Marshal(&Request{V: Version, Op: OpIdentify, Probe: wire(probe, false), K: k, MinLLR: minLLR,
		HeartbeatMillis: c.heartbeat()})
	if err != nil {
		return nil, false, fmt.Errorf("shard client: %w", err)
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	c.searches.Inc()
	start := time.Now()
	replies := make([]*Reply, c.Count)
	var wg sync.WaitGroup
	for i := range c.Count {
		wg.Go(func() {
			replies[i] = c.ask(ctx, searchSubject(c.prefix(), Spec{i, c.Count}), data)
		})
	}
	wg.Wait()
	total := time.Since(start)
	var out []*huella.Candidate
	var slowest int64
	complete := true
	for i, r := range replies {
		switch {
		case r == nil:
			complete = false
			c.misses.WithLabelValues(Spec{i, c.Count}.String()).Inc()
		case r.Code != "":
			return nil, false, huella.Errorf(r.Code, "shard %d/%d: %s", i, c.Count, r.Message)
		default:
			out = append(out, r.Candidates...)
			slowest = max(slowest, r.SearchMicros)
		}
	}
	if complete && c.OnSearch != nil {
		c.OnSearch(total, time.Duration(slowest)*time.Microsecond)
	}
	slices.SortFunc(out, func(a, b *huella.Candidate) int {
		return cmp.Or(cmp.Compare(b.LLR, a.LLR), strings.Compare(a.SubjectID, b.SubjectID))
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, complete, nil
}

// Identify implements huella.Matcher. A search that a shard did not
// answer is EUNAVAILABLE: a Matcher's caller cannot tell a partial list
// from a complete one (the identifier uses Search).
func (c *Client) Identify(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, error) {
	cands, complete, err := c.Search(ctx, probe, k, minLLR)
	if err == nil && !complete {
		return nil, huella.Errorf(huella.EUNAVAILABLE, "a matcher shard did not answer in time")
	}
	return cands, err
}

// Verify implements match.ShardedSearch: the subject's shard compares.
func (c *Client) Verify(ctx context.Context, probe []*huella.Template, subjectID string) (*huella.Candidate, error) {
	data, err := json.Marshal(&Request{V: Version, Op: OpVerify, Probe: wire(probe, false), SubjectID: subjectID,
		HeartbeatMillis: c.heartbeat()})
	if err != nil {
		return nil, fmt.Errorf("shard client: %w", err)
	}
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	s := Spec{Of(subjectID, c.Count), c.Count}
	r := c.ask(ctx, searchSubject(c.prefix(), s), data)
	switch {
	case r == nil:
		c.misses.WithLabelValues(s.String()).Inc()
		return nil, huella.Errorf(huella.EUNAVAILABLE, "matcher shard %s did not answer in time", s)
	case r.Code != "":
		return nil, huella.Errorf(r.Code, "%s", r.Message)
	case len(r.Candidates) != 1:
		return nil, huella.Errorf(huella.EINTERNAL, "matcher shard %s gave %d candidates to a verification", s, len(r.Candidates))
	}
	return r.Candidates[0], nil
}

// Add implements match.ShardedSearch: each shard's templates go to all
// its replicas, and the first one's acknowledgement is awaited.
func (c *Client) Add(ctx context.Context, templates []*huella.Template) error {
	byShard := make(map[int][]*huella.Template)
	for _, t := range templates {
		i := Of(t.SubjectID, c.Count)
		byShard[i] = append(byShard[i], t)
	}
	var errs []error
	for i, ts := range byShard {
		errs = append(errs, c.update(ctx, Spec{i, c.Count}, &Update{V: Version, Op: OpAdd, Templates: wire(ts, true)}))
	}
	return errors.Join(errs...)
}

// Remove implements match.ShardedSearch, on every shard: a subject's
// merged templates may sit on another shard than its own until the
// matchers reload.
func (c *Client) Remove(ctx context.Context, subjects []string) error {
	var errs []error
	for i := range c.Count {
		errs = append(errs, c.update(ctx, Spec{i, c.Count}, &Update{V: Version, Op: OpRemove, Subjects: subjects}))
	}
	return errors.Join(errs...)
}

// update sends a gallery change to every replica of a shard and waits
// for the first answer.
func (c *Client) update(ctx context.Context, s Spec, u *Update) error {
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("shard client: %w", err)
	}
	msg, err := c.nc.RequestWithContext(ctx, updateSubject(c.prefix(), s), data)
	if err != nil {
		return huella.Errorf(huella.EUNAVAILABLE, "matcher shard %s did not take the gallery update: %v", s, err)
	}
	var r Reply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return huella.Errorf(huella.EINTERNAL, "matcher shard %s: reply is not JSON", s)
	}
	if r.Code != "" {
		return huella.Errorf(r.Code, "matcher shard %s: %s", s, r.Message)
	}
	return nil
}

// heartbeat is how often a replica with a request in hand says so: a
// third of Resend, so that two lost heartbeats do not cause a resend.
func (c *Client) heartbeat() int {
	resend := c.Resend
	if resend <= 0 {
		resend = DefaultResend
	}
	return max(1, int(resend.Milliseconds()/3))
}

func (c *Client) prefix() string {
	if c.Prefix == "" {
		return DefaultPrefix
	}
	return c.Prefix
}
