// Package audit checks the hash-chained audit trail that every Store keeps.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
)

// Break describes the first link of the chain that does not hold.
type Break struct {
	Seq    int64  // the event whose link is broken
	Reason string // what does not hold, without personal data
}

func (b *Break) String() string { return fmt.Sprintf("event %d: %s", b.Seq, b.Reason) }

// Report is the result of a verification.
type Report struct {
	Events int64  // events checked
	Break  *Break // nil when the whole chain holds
	// Checkpoint is the latest signed checkpoint the chain was checked
	// against; nil when none was given.
	Checkpoint *Checkpoint
}

// pageSize is how many events Verify reads at a time.
const pageSize = 5000

// Verify walks the whole chain in order and reports the first event whose
// sequence number, link to its predecessor or own hash does not hold. On
// its own the chain cannot show that its newest events were removed, or
// that an event was changed and every later hash recomputed: see
// VerifyCheckpoints.
func Verify(ctx context.Context, s huella.Store) (*Report, error) {
	return VerifyCheckpoints(ctx, s, nil)
}

// VerifyCheckpoints walks the chain as Verify does and checks it against
// signed checkpoints (ReadCheckpoints): at each checkpoint's count the
// event's hash must be the signed head, or the chain was rewritten; and
// the chain must be at least as long as the latest checkpoint, or it was
// truncated.
func VerifyCheckpoints(ctx context.Context, s huella.Store, checkpoints []*Checkpoint) (*Report, error) {
	r := &Report{}
	heads := make(map[int64]*Checkpoint)
	for _, c := range checkpoints {
		if r.Checkpoint == nil || c.Count > r.Checkpoint.Count ||
			(c.Count == r.Checkpoint.Count && c.Time.After(r.Checkpoint.Time)) {
			r.Checkpoint = c
		}
		if prev, ok := heads[c.Count]; ok && !bytes.Equal(prev.Head, c.Head) {
			return r, fmt.Errorf("audit: two signed checkpoints of %d events disagree: the signing key was used to sign a rewritten chain", c.Count)
		}
		heads[c.Count] = c
	}
	var last *huella.AuditEvent
	for {
		var after int64
		if last != nil {
			after = last.Seq
		}
		events, err := s.ListAuditEvents(ctx, after, pageSize)
		if err != nil {
			return nil, fmt.Errorf("audit: list events: %w", err)
		}
		for _, e := range events {
			if b := check(last, e); b != nil {
				r.Break = b
				return r, nil
			}
			if c, ok := heads[e.Seq]; ok && !bytes.Equal(e.Hash, c.Head) {
				r.Break = &Break{Seq: e.Seq, Reason: fmt.Sprintf(
					"differs from the checkpoint signed at %s: events up to %d were rewritten", c.Time.UTC().Format(time.RFC3339), e.Seq)}
				return r, nil
			}
			r.Events++
			last = e
		}
		if len(events) < pageSize {
			break
		}
	}
	if c := r.Checkpoint; c != nil && r.Events < c.Count {
		r.Break = &Break{Seq: r.Events + 1, Reason: fmt.Sprintf(
			"missing: the chain ends at event %d but the checkpoint signed at %s counts %d events (truncated)",
			r.Events, c.Time.UTC().Format(time.RFC3339), c.Count)}
	}
	return r, nil
}

// check verifies one event against its predecessor (nil for the first).
func check(prev, e *huella.AuditEvent) *Break {
	wantSeq, wantPrev := int64(1), make([]byte, sha256.Size)
	if prev != nil {
		wantSeq, wantPrev = prev.Seq+1, prev.Hash
	}
	switch {
	case e.Seq != wantSeq:
		return &Break{Seq: e.Seq, Reason: fmt.Sprintf("sequence gap: expected event %d", wantSeq)}
	case !bytes.Equal(e.PrevHash, wantPrev):
		return &Break{Seq: e.Seq, Reason: "previous-hash link does not match the preceding event"}
	case !bytes.Equal(e.Hash, e.ComputeHash()):
		return &Break{Seq: e.Seq, Reason: "hash does not match the event's contents (altered)"}
	}
	return nil
}
