package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/gallery"
)

// Matcher is one replica of one shard: the gallery of the shard's
// subjects, answering searches on NATS. Load it, then Open it; Close stops
// it.
type Matcher struct {
	Spec    Spec
	Gallery *gallery.Gallery
	Prefix  string // DefaultPrefix when empty
	// Workers bounds the searches run at once; GOMAXPROCS when zero (each
	// search scans on all cores, so more only queues them in memory).
	Workers int
	Logger  *slog.Logger

	subs    []*nats.Subscription
	sem     chan struct{}
	wg      sync.WaitGroup
	served  atomic.Int64
	unknown atomic.Int64 // updates for subjects of other shards
}

// Load fills the gallery with the templates of the shard's subjects in
// the store and returns how many it added.
func (m *Matcher) Load(ctx context.Context, store huella.IdentityStore) (int, error) {
	n := 0
	err := store.ForEachTemplate(ctx, huella.GallerySubjects, func(t *huella.Template) error {
		if !m.Spec.Holds(t.SubjectID) {
			return nil
		}
		n++
		return m.Gallery.Add(t)
	})
	if err != nil {
		return n, fmt.Errorf("load shard %s: %w", m.Spec, err)
	}
	return n, nil
}

// Open subscribes to the shard's searches (in the shard's queue group)
// and updates (every replica) on nc.
func (m *Matcher) Open(nc *nats.Conn) error {
	if m.Prefix == "" {
		m.Prefix = DefaultPrefix
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	workers := m.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m.sem = make(chan struct{}, workers)
	search, err := nc.QueueSubscribe(searchSubject(m.Prefix, m.Spec), queueGroup(m.Spec), m.onSearch)
	if err != nil {
		return fmt.Errorf("shard %s: subscribe: %w", m.Spec, err)
	}
	update, err := nc.Subscribe(updateSubject(m.Prefix, m.Spec), m.onUpdate)
	if err != nil {
		search.Unsubscribe()
		return fmt.Errorf("shard %s: subscribe: %w", m.Spec, err)
	}
	m.subs = []*nats.Subscription{search, update}
	// Unlimited pending: a burst waits in memory for a worker rather than
	// being dropped (the client's deadline bounds the wait).
	for _, s := range m.subs {
		s.SetPendingLimits(-1, -1)
	}
	return nc.Flush()
}

// Close stops taking requests and waits for those under way.
func (m *Matcher) Close() error {
	for _, s := range m.subs {
		s.Unsubscribe()
	}
	m.wg.Wait()
	return nil
}

// Served returns how many searches the matcher answered.
func (m *Matcher) Served() int64 { return m.served.Load() }

// onSearch answers one request on a worker of its own, sending the
// heartbeats it asks for while it waits for a worker and runs.
func (m *Matcher) onSearch(msg *nats.Msg) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var hb struct {
			HeartbeatMillis int `json:"heartbeat_ms"`
		}
		json.Unmarshal(msg.Data, &hb)
		if hb.HeartbeatMillis > 0 {
			beat, _ := json.Marshal(&Reply{V: Version, Shard: m.Spec.String(), Working: true})
			done := make(chan struct{})
			defer close(done)
			msg.Respond(beat)
			go func() {
				t := time.NewTicker(time.Duration(hb.HeartbeatMillis) * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
						msg.Respond(beat)
					}
				}
			}()
		}
		m.sem <- struct{}{}
		defer func() { <-m.sem }()
		reply := m.answer(msg.Data)
		data, err := json.Marshal(reply)
		if err != nil {
			data, _ = json.Marshal(&Reply{V: Version, Shard: m.Spec.String(), Code: huella.EINTERNAL, Message: "reply not encodable"})
		}
		if err := msg.Respond(data); err != nil {
			m.Logger.Warn("reply failed", "shard", m.Spec.String(), "err", err)
		}
		m.served.Add(1)
	}()
}

// answer runs a request. Errors go back as codes; the full error is
// logged here only when it is internal (never a template or an ID).
func (m *Matcher) answer(data []byte) *Reply {
	r := &Reply{V: Version, Shard: m.Spec.String(), Subjects: m.Gallery.Len()}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		r.Code, r.Message = huella.EINVALID, "request is not JSON"
		return r
	}
	if req.V != Version {
		r.Code, r.Message = huella.EUNSUPPORTED, fmt.Sprintf("wire version %d, this matcher speaks %d", req.V, Version)
		return r
	}
	ctx := context.Background()
	probe := unwire(req.Probe)
	var err error
	defer func(start time.Time) { r.SearchMicros = time.Since(start).Microseconds() }(time.Now())
	switch req.Op {
	case OpPing:
	case OpIdentify:
		r.Candidates, err = m.Gallery.Identify(ctx, probe, req.K, req.MinLLR)
	case OpVerify:
		var c *huella.Candidate
		if c, err = m.Gallery.Verify(ctx, probe, req.SubjectID); err == nil {
			r.Candidates = []*huella.Candidate{c}
		}
	default:
		err = huella.Errorf(huella.EINVALID, "unknown operation")
	}
	if err != nil {
		r.Candidates = nil
		r.Code, r.Message = huella.ErrorCode(err), huella.ErrorMessage(err)
		if r.Code == huella.EINTERNAL {
			m.Logger.Error("search failed", "shard", m.Spec.String(), "op", req.Op, "err", err)
		}
	}
	if r.Candidates == nil {
		r.Candidates = []*huella.Candidate{}
	}
	return r
}

// onUpdate applies a gallery change, and answers when asked (the client
// waits for one replica's answer before it goes on).
func (m *Matcher) onUpdate(msg *nats.Msg) {
	r := &Reply{V: Version, Shard: m.Spec.String()}
	var u Update
	switch err := json.Unmarshal(msg.Data, &u); {
	case err != nil:
		r.Code, r.Message = huella.EINVALID, "update is not JSON"
	case u.V != Version:
		r.Code, r.Message = huella.EUNSUPPORTED, fmt.Sprintf("wire version %d, this matcher speaks %d", u.V, Version)
	case u.Op == OpAdd:
		for _, t := range unwire(u.Templates) {
			if !m.Spec.Holds(t.SubjectID) {
				r.Unwanted++
				continue
			}
			if err := m.Gallery.Add(t); err != nil {
				r.Code, r.Message = huella.ErrorCode(err), huella.ErrorMessage(err)
				break
			}
			r.Applied++
		}
	case u.Op == OpRemove:
		for _, id := range u.Subjects {
			m.Gallery.Remove(id)
			r.Applied++
		}
	default:
		r.Code, r.Message = huella.EINVALID, "unknown operation"
	}
	m.unknown.Add(int64(r.Unwanted))
	r.Subjects = m.Gallery.Len()
	if msg.Reply != "" {
		data, _ := json.Marshal(r)
		msg.Respond(data)
	}
}
