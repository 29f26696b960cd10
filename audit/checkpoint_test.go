package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
)

func mustKey(tb testing.TB, dir string) *audit.Key {
	tb.Helper()
	k, err := audit.LoadOrCreateKey(filepath.Join(dir, "keys", "audit.key"))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// rewrite changes event seq and recomputes every later hash, as a
// database writer who knows the chain's rule would.
func rewrite(events []*huella.AuditEvent, seq int64) []*huella.AuditEvent {
	var last *huella.AuditEvent
	for _, e := range events {
		if e.Seq == seq {
			e.Detail = "rewritten"
		}
		if e.Seq >= seq {
			e.Seal(last)
		}
		last = e
	}
	return events
}

func TestCheckpointNote(t *testing.T) {
	k := mustKey(t, t.TempDir())
	c := &audit.Checkpoint{Count: 42, Head: chain(1)[0].Hash, Time: time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)}
	note, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Open(note)
	if err != nil || got.Count != 42 || !got.Time.Equal(c.Time) || string(got.Head) != string(c.Head) {
		t.Fatalf("Open(Sign(c)) = %+v, %v", got, err)
	}
	t.Run("ErrAltered", func(t *testing.T) {
		if _, err := k.Open([]byte(strings.Replace(string(note), "\n42\n", "\n41\n", 1))); err == nil {
			t.Fatal("an altered count verified")
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		if _, err := mustKey(t, t.TempDir()).Open(note); err == nil {
			t.Fatal("a checkpoint verified with another key")
		}
	})
}

// TestVerifyCheckpoints: with the chain anchored by a signed checkpoint,
// removing the newest events or rewriting one (every later hash
// recomputed) is reported; the bare chain reports both intact (issue 18,
// finding 2).
func TestVerifyCheckpoints(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		tamper    func([]*huella.AuditEvent) []*huella.AuditEvent
		wantBreak int64 // 0: intact
		reason    string
	}{
		{"OK", func(e []*huella.AuditEvent) []*huella.AuditEvent { return e }, 0, ""},
		{"OKGrown", func(e []*huella.AuditEvent) []*huella.AuditEvent { return e }, 0, ""},
		{"ErrTruncated", func(e []*huella.AuditEvent) []*huella.AuditEvent { return e[:10] }, 11, "truncated"},
		{"ErrRewritten", func(e []*huella.AuditEvent) []*huella.AuditEvent { return rewrite(e, 5) }, 20, "rewritten"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			events := chain(40)
			store := &chainStore{events: events[:20]}
			cp := &audit.Checkpointer{Store: store, Key: mustKey(t, dir), File: filepath.Join(dir, "checkpoints")}
			if err := cp.Open(ctx); err != nil {
				t.Fatal(err)
			}
			store.events = events[:30]
			if err := cp.Close(); err != nil { // signs 30 events
				t.Fatal(err)
			}
			if tt.name == "OKGrown" {
				store.events = events
			} else {
				store.events = tt.tamper(events[:30])
			}
			if r, err := audit.Verify(ctx, store); err != nil || r.Break != nil {
				t.Fatalf("the bare chain: %+v, %v; want intact (the rule alone cannot tell)", r, err)
			}
			checkpoints, err := audit.ReadCheckpoints(cp.File, cp.Key)
			if err != nil || len(checkpoints) != 2 {
				t.Fatalf("read %d checkpoints, %v; want 2 (20 and 30 events)", len(checkpoints), err)
			}
			r, err := audit.VerifyCheckpoints(ctx, store, checkpoints)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantBreak == 0 && r.Break != nil:
				t.Fatalf("intact chain reported broken: %v", r.Break)
			case tt.wantBreak != 0 && (r.Break == nil || r.Break.Seq != tt.wantBreak || !strings.Contains(r.Break.Reason, tt.reason)):
				t.Fatalf("break = %v, want at event %d (%s)", r.Break, tt.wantBreak, tt.reason)
			case r.Checkpoint == nil || r.Checkpoint.Count != 30:
				t.Fatalf("checked against %+v, want the checkpoint of 30 events", r.Checkpoint)
			}
		})
	}
}

// TestCheckpointerRefusesBrokenChain: a chain rewritten while the server
// was down is not signed at the next start.
func TestCheckpointerRefusesBrokenChain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := &chainStore{events: chain(12)}
	key := mustKey(t, dir)
	file := filepath.Join(dir, "checkpoints")
	first := &audit.Checkpointer{Store: store, Key: key, File: file}
	if err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	first.Close()
	store.events = rewrite(store.events, 3)
	next := &audit.Checkpointer{Store: store, Key: key, File: file}
	if err := next.Open(ctx); !errors.Is(err, audit.ErrChainBroken) {
		t.Fatalf("Open on a rewritten chain: %v, want ErrChainBroken", err)
	}
	t.Run("ErrForgedCheckpoint", func(t *testing.T) {
		f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(audit.CheckpointOrigin + "\n12\nAAAA\n2026-12-07T05:00:00Z\n\n— huella-audit AAAA\n")
		f.Close()
		if _, err := audit.ReadCheckpoints(file, key); err == nil {
			t.Fatal("a forged checkpoint was read")
		}
	})
}
