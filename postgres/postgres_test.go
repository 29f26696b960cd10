package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/pgtest"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
)

// MustSchema creates a fresh schema on the test server, dropped when the
// test ends, and returns a DSN whose search_path is that schema. When the
// server is unreachable the test is skipped, or failed when CI=true: CI must
// run the PostgreSQL suite.
func MustSchema(tb testing.TB) string {
	tb.Helper()
	return pgtest.MustSchema(tb, "huella_test_")
}

// MustOpen opens a store in a fresh schema, with its fields sealed by keys
// under MustTestKEK, and closes it when the test ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	dsn := MustSchema(tb)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	MustUseKeys(tb, s)
	tb.Cleanup(func() { s.Close() })
	return s
}

// MustOpenPlain opens a store in a fresh schema without keys, as on a
// database from before encryption at rest, and closes it when the test ends.
func MustOpenPlain(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), MustSchema(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) huella.Store { return MustOpen(t) })
}

func TestIdentityStore(t *testing.T) {
	storetest.RunIdentity(t, func(t *testing.T) storetest.IdentityStore { return MustOpen(t) })
}

func TestForwardStore(t *testing.T) {
	storetest.RunForwarding(t, func(t *testing.T) storetest.ForwardingStore { return MustOpen(t) })
}

func TestPurgeStore(t *testing.T) {
	storetest.RunPurge(t, func(t *testing.T) storetest.PurgingStore { return MustOpen(t) })
}

func TestSessionStore(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T, now func() time.Time) storetest.SessionStore {
		s := MustOpen(t)
		s.Now = now
		return s
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("Reopen", func(t *testing.T) {
		dsn := MustSchema(t)
		ctx := context.Background()
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		storetest.MustCreateSite(t, s, "MX-TAP")
		version, err := s.SchemaVersion(ctx)
		if err != nil || version < 1 {
			t.Fatalf("SchemaVersion = %d, %v; want the last migration's number", version, err)
		}
		s.Close()
		s, err = postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open again: %v", err)
		}
		defer s.Close()
		if _, err := s.FindSite(ctx, "MX-TAP"); err != nil {
			t.Errorf("FindSite after reopening: %v", err)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != version {
			t.Errorf("SchemaVersion after reopening = %d, %v; want %d", v, err, version)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Processes starting together on an empty schema: the advisory
		// lock makes them migrate in turn.
		dsn := MustSchema(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				s, err := postgres.Open(context.Background(), dsn)
				if err == nil {
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Open: %v", err)
			}
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
			s.Close()
			t.Errorf("Open of a closed port succeeded, want an error")
		}
	})
}

// Two processes sharing one database append to one chain: the head row
// lock orders their appends.
func TestAuditChainAcrossStores(t *testing.T) {
	t.Parallel()
	dsn := MustSchema(t)
	ctx := context.Background()
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			s := stores[g%2]
			for i := range 10 {
				e := huella.NewAuditEvent(ctx, huella.ActionEncounterRead, fmt.Sprintf("encounter/enc_%d_%d", g, i), "")
				if err := s.AppendAudit(ctx, e); err != nil {
					t.Errorf("AppendAudit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	events, err := stores[0].ListAuditEvents(ctx, 0, 0)
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	if len(events) != 80 {
		t.Fatalf("got %d events, want 80", len(events))
	}
	for i, e := range events {
		if e.Seq != int64(i+1) || !bytes.Equal(e.Hash, e.ComputeHash()) || i > 0 && !bytes.Equal(e.PrevHash, events[i-1].Hash) {
			t.Fatalf("event %d (seq %d) breaks the chain", i, e.Seq)
		}
	}
}

// The injected clock stamps records and audit events and judges capture times.
func TestNow(t *testing.T) {
	t.Parallel()
	s := MustOpen(t)
	now := time.Date(2026, 2, 3, 4, 5, 6, 789123456, time.UTC)
	s.Now = func() time.Time { return now }
	site := storetest.MustCreateSite(t, s, "MX-TAP")
	if want := now.Truncate(time.Microsecond); !site.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want the clock's %v", site.CreatedAt, want)
	}
	e := storetest.Encounter("MX-TAP", now.Add(time.Hour))
	if err := s.CreateEncounter(storetest.Context(), e); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("encounter an hour after the clock's now: %v, want %s", err, huella.EINVALID)
	}
	events, err := s.ListAuditEvents(context.Background(), 0, 0)
	if err != nil || len(events) != 1 || !events[0].Time.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("audit events %v, %v; want one at the clock's now", events, err)
	}
}

func TestSiteOutboxStore(t *testing.T) {
	storetest.RunSiteOutbox(t, func(t *testing.T) storetest.SiteOutboxingStore { return MustOpen(t) })
}

func TestGalleryEvents(t *testing.T) {
	storetest.RunGalleryEvents(t, func(t *testing.T) storetest.EventStore { return MustOpen(t) })
}
