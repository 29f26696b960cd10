// Package shard spreads the subject gallery over matcher processes that
// answer over NATS. Subjects are split into K shards by a stable hash of
// their ID (Of); a matcher ("huella matcher --shard I/K") holds the
// gallery of shard I and answers identification requests on its shard's
// subject in a queue group, so that the replicas of a shard share the load
// and cover for each other. The API side (Client) scatters a probe to
// every shard, gathers each shard's candidates with their per-slot scores
// before a deadline, and merges them into the list one gallery holding
// every subject would give. A shard that misses the deadline makes the
// search partial: the identifier then decides review, never new-subject or
// linked (match.ShardedSearch).
//
// The wire format (version 1) is JSON, one request and one reply per
// message; see docs/shards.md.
package shard

import (
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella"
)

// Version is the wire format's version. A matcher refuses a request of
// another version, and the client a reply of another version, with
// EUNSUPPORTED: a rolling upgrade changes the subject prefix too.
const Version = 1

// DefaultPrefix begins every NATS subject of the shards.
const DefaultPrefix = "huella.match"

// Spec names one shard: Index of Count (0 ≤ Index < Count).
type Spec struct {
	Index, Count int
}

// ParseSpec reads "I/K", e.g. "0/2" for the first of two shards.
func ParseSpec(s string) (Spec, error) {
	i, k, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(k)
	if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
		return Spec{}, huella.Errorf(huella.EINVALID, "shard must be I/K with 0 ≤ I < K, e.g. 0/2")
	}
	return Spec{Index: index, Count: count}, nil
}

func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Of returns the shard (0 ≤ shard < count) a subject belongs to: the
// 64-bit FNV-1a hash of its ID modulo count. It never changes for an ID,
// so every process agrees on it without asking.
func Of(subjectID string, count int) int {
	h := fnv.New64a()
	h.Write([]byte(subjectID))
	return int(h.Sum64() % uint64(count))
}

// Holds reports whether the shard holds the subject.
func (s Spec) Holds(subjectID string) bool { return Of(subjectID, s.Count) == s.Index }

// searchSubject is where a shard's replicas take searches, in one queue
// group: PREFIX.v1.K.I.search.
func searchSubject(prefix string, s Spec) string {
	return fmt.Sprintf("%s.v%d.%d.%d.search", prefix, Version, s.Count, s.Index)
}

// updateSubject is where every replica of a shard hears of gallery
// changes (no queue group): PREFIX.v1.K.I.update.
func updateSubject(prefix string, s Spec) string {
	return fmt.Sprintf("%s.v%d.%d.%d.update", prefix, Version, s.Count, s.Index)
}

// queueGroup is the queue group of a shard's replicas.
func queueGroup(s Spec) string { return fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count) }

// Operations of a Request and an Update.
const (
	OpIdentify = "identify" // 1:N: the shard's candidates, best first
	OpVerify   = "verify"   // 1:1 with one subject of the shard
	OpPing     = "ping"     // is a replica of the shard up (re-search waits for it)

	OpAdd    = "add"    // index templates (an enrollment)
	OpRemove = "remove" // drop subjects (a purge)
)

// Template is a template on the wire: huella.Template without the sample
// ID, with its bytes (which huella.Template leaves out of JSON).
type Template struct {
	SubjectID string          `json:"subject_id,omitempty"` // updates only: never sent with a probe
	Modality  huella.Modality `json:"modality"`
	Position  int             `json:"position,omitempty"`
	Eye       huella.Eye      `json:"eye,omitempty"`
	Algorithm string          `json:"algorithm,omitempty"`
	Version   int             `json:"version,omitempty"`
	Quality   int             `json:"quality"`
	Data      []byte          `json:"data"` // base64 in JSON
}

// Request is what the client sends a shard.
type Request struct {
	V         int        `json:"v"`
	Op        string     `json:"op"`
	Probe     []Template `json:"probe,omitempty"`
	K         int        `json:"k,omitempty"`          // identify: at most this many candidates
	MinLLR    float64    `json:"min_llr,omitempty"`    // identify: fused LLR a candidate reaches
	SubjectID string     `json:"subject_id,omitempty"` // verify
	// HeartbeatMillis asks the replica that takes the request to send a
	// Reply with Working set this often until it answers, so that the
	// client sends the request again only when no replica has it in hand.
	HeartbeatMillis int `json:"heartbeat_ms,omitempty"`
}

// Reply is a shard's answer. Candidates carry each slot's raw score and
// LLR (huella.ModalityScore) and the fused LLR, as gallery.Identify gives
// them; JSON numbers round-trip float64 exactly, so the client's merge
// gives the LLRs of one gallery to the bit.
type Reply struct {
	V          int                 `json:"v"`
	Shard      string              `json:"shard"`              // "I/K"
	Subjects   int                 `json:"subjects"`           // subjects in the shard's gallery
	Candidates []*huella.Candidate `json:"candidates"`         // identify: best first; verify: one
	Code       string              `json:"code,omitempty"`     // a huella error code when the request failed
	Message    string              `json:"message,omitempty"`  // its message (no personal data)
	Applied    int                 `json:"applied,omitempty"`  // update: templates or subjects applied
	Unwanted   int                 `json:"unwanted,omitempty"` // update: templates of subjects of other shards
	// SearchMicros is how long the search itself took on the matcher (not
	// the wait for a worker), so that the client can tell its own
	// overhead from the slowest shard's search.
	SearchMicros int64 `json:"search_us,omitempty"`
	// Working: not the answer but a heartbeat, the request is in hand.
	Working bool `json:"working,omitempty"`
}

// Update is a gallery change sent to every replica of a shard.
type Update struct {
	V         int        `json:"v"`
	Op        string     `json:"op"`
	Templates []Template `json:"templates,omitempty"` // add: with SubjectID
	Subjects  []string   `json:"subjects,omitempty"`  // remove
}

// wire converts templates to the wire, with or without their subject.
func wire(ts []*huella.Template, withSubject bool) []Template {
	out := make([]Template, len(ts))
	for i, t := range ts {
		out[i] = Template{Modality: t.Modality, Position: t.Position, Eye: t.Eye, Algorithm: t.Algorithm,
			Version: t.Version, Quality: t.Quality, Data: t.Data}
		if withSubject {
			out[i].SubjectID = t.SubjectID
		}
	}
	return out
}

// unwire converts templates from the wire.
func unwire(ts []Template) []*huella.Template {
	out := make([]*huella.Template, len(ts))
	for i, t := range ts {
		out[i] = &huella.Template{SubjectID: t.SubjectID, Modality: t.Modality, Position: t.Position, Eye: t.Eye,
			Algorithm: t.Algorithm, Version: t.Version, Quality: t.Quality, Data: t.Data}
	}
	return out
}

// Connect opens a connection to the NATS server or cluster at url (comma
// separated for several) for a matcher or a client, reconnecting forever:
// a matcher whose NATS is away answers again when it is back. tlsConfig,
// when set, secures it.
func Connect(url, name string, tlsConfig *tls.Config, logger *slog.Logger) (*nats.Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250 * time.Millisecond), nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { logger.Warn("nats disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { logger.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) })}
	if tlsConfig != nil {
		opts = append(opts, nats.Secure(tlsConfig.Clone()))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("shard: connect: %w", err)
	}
	return nc, nil
}
