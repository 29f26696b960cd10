package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
)

// chainStore is a hand-written fake: only ListAuditEvents is used.
type chainStore struct {
	huella.Store
	events []*huella.AuditEvent
}

func (s *chainStore) ListAuditEvents(ctx context.Context, after int64, limit int) ([]*huella.AuditEvent, error) {
	var out []*huella.AuditEvent
	for _, e := range s.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// chain returns n sealed events.
func chain(n int) []*huella.AuditEvent {
	var events []*huella.AuditEvent
	var last *huella.AuditEvent
	for i := 0; i < n; i++ {
		e := &huella.AuditEvent{Time: time.Date(2026, 11, 26, 10, 0, i, 0, time.UTC), Actor: "usr_1", Action: huella.ActionEncounterRead, Object: "encounter/enc_1"}
		e.Seal(last)
		events, last = append(events, e), e
	}
	return events
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		tamper    func(events []*huella.AuditEvent) []*huella.AuditEvent
		wantBreak int64 // 0: intact
	}{
		{"OK", func(e []*huella.AuditEvent) []*huella.AuditEvent { return e }, 0},
		{"ErrAltered", func(e []*huella.AuditEvent) []*huella.AuditEvent { e[3].Action = "user.delete"; return e }, 4},
		{"ErrRemoved", func(e []*huella.AuditEvent) []*huella.AuditEvent { return append(e[:2], e[3:]...) }, 4},
		{"ErrRelinked", func(e []*huella.AuditEvent) []*huella.AuditEvent {
			// An event rewritten with a fresh hash still breaks its successor's link.
			e[5].Detail = "edited"
			e[5].Hash = e[5].ComputeHash()
			return e
		}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := audit.Verify(ctx, &chainStore{events: tt.tamper(chain(8))})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantBreak == 0 && r.Break != nil:
				t.Fatalf("intact chain reported broken: %v", r.Break)
			case tt.wantBreak == 0 && r.Events != 8:
				t.Fatalf("checked %d events, want 8", r.Events)
			case tt.wantBreak != 0 && (r.Break == nil || r.Break.Seq != tt.wantBreak):
				t.Fatalf("break = %v, want at event %d", r.Break, tt.wantBreak)
			}
		})
	}
}
