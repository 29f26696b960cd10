// Package audit checks the hash-chained audit trail that every Store keeps.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

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
}

// pageSize is how many events Verify reads at a time.
const pageSize = 5000

// Verify walks the whole chain in order and reports the first event whose
// sequence number, link to its predecessor or own hash does not hold.
func Verify(ctx context.Context, s huella.Store) (*Report, error) {
	r := &Report{}
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
			r.Events++
			last = e
		}
		if len(events) < pageSize {
			return r, nil
		}
	}
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
