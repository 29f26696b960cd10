package huella

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Audit actions. Objects are named "<kind>/<id>".
const (
	ActionSiteCreate      = "site.create"
	ActionUserCreate      = "user.create"
	ActionEncounterCreate = "encounter.create"
	ActionEncounterRead   = "encounter.read"
	ActionEncounterList   = "encounter.list"
	ActionSubjectRead     = "subject.read"
	ActionSampleRead      = "sample.read"
	ActionStatsRead       = "stats.read"
	ActionExport          = "export"
	ActionAuditRead       = "audit.read"
)

// AuditEvent records who did what to which object, when, where and for
// which purpose. Events form a hash chain: each Hash covers the event and
// the previous event's Hash, so altering or removing a stored event breaks
// every link after it. Events carry IDs, never biographic values.
type AuditEvent struct {
	Seq      int64     `json:"seq"` // 1, 2, 3… with no gaps
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"` // user ID, or "system"
	Role     Role      `json:"role,omitempty"`
	Action   string    `json:"action"`
	Object   string    `json:"object,omitempty"`
	Site     string    `json:"site,omitempty"`
	Purpose  Purpose   `json:"purpose,omitempty"`
	Detail   string    `json:"detail,omitempty"` // non-personal context, e.g. a count or a format
	PrevHash []byte    `json:"prev_hash"`
	Hash     []byte    `json:"hash"`
}

// AuditTimePrecision is the precision at which event times are stored and
// hashed, the finest both stores keep.
const AuditTimePrecision = time.Microsecond

// ComputeHash returns the SHA-256 chain hash of the event over its PrevHash
// and every other field but Hash, each length-prefixed so that no two
// different events encode alike.
func (e *AuditEvent) ComputeHash() []byte {
	var buf bytes.Buffer
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		buf.Write(n[:])
		buf.Write(b)
	}
	var n [8]byte
	field(e.PrevHash)
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	field(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.Time.UTC().Truncate(AuditTimePrecision).UnixMicro()))
	field(n[:])
	for _, s := range []string{e.Actor, string(e.Role), e.Action, e.Object, e.Site, string(e.Purpose), e.Detail} {
		field([]byte(s))
	}
	sum := sha256.Sum256(buf.Bytes())
	return sum[:]
}

// Seal sets Seq, PrevHash and Hash to follow the chain's last event (nil for
// the first event), and Time to now if unset. Stores call it inside the
// transaction that appends.
func (e *AuditEvent) Seal(last *AuditEvent) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(AuditTimePrecision)
	if last == nil {
		e.Seq, e.PrevHash = 1, make([]byte, sha256.Size)
	} else {
		e.Seq, e.PrevHash = last.Seq+1, last.Hash
	}
	e.Hash = e.ComputeHash()
}
