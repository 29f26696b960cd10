package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// MustOpen opens a store in a new temporary directory, with its fields
// sealed by keys under MustTestKEK, and closes it when the test ends.
func MustOpen(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "huella.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	MustUseKeys(tb, s)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// MustTestKEK is the key-encryption key of the tests' stores.
func MustTestKEK(tb testing.TB) *keyring.LocalKEK {
	tb.Helper()
	k, err := keyring.NewLocalKEK([]byte("huella sqlite tests' kek 32 byte"))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustUseKeys opens the store's keyring under MustTestKEK and seals its fields
// with it.
func MustUseKeys(tb testing.TB, s *sqlite.Store) *keyring.Keyring {
	tb.Helper()
	ring, err := keyring.Open(context.Background(), MustTestKEK(tb), s, keyring.Options{})
	if err != nil {
		tb.Fatalf("keyring.Open: %v", err)
	}
	s.Keys = ring
	return ring
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
		path := filepath.Join(t.TempDir(), "data", "huella.db")
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		storetest.MustCreateSite(t, s, "MX-TAP")
		version, err := s.SchemaVersion(context.Background())
		if err != nil || version < 1 {
			t.Fatalf("SchemaVersion = %d, %v; want the last migration's number", version, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s, err = sqlite.Open(path)
		if err != nil {
			t.Fatalf("Open again: %v", err)
		}
		defer s.Close()
		if _, err := s.FindSite(context.Background(), "MX-TAP"); err != nil {
			t.Errorf("FindSite after reopening: %v", err)
		}
		if v, err := s.SchemaVersion(context.Background()); err != nil || v != version {
			t.Errorf("SchemaVersion after reopening = %d, %v; want %d", v, err, version)
		}
	})
	t.Run("Private", func(t *testing.T) {
		// Personal data: the database and its WAL are the owner's alone.
		path := filepath.Join(t.TempDir(), "data", "huella.db")
		s := MustOpenPath(t, path)
		storetest.MustCreateSite(t, s, "MX-TAP")
		for _, name := range []string{filepath.Dir(path), path, path + "-wal"} {
			info, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s has mode %v, want no access for group or others", filepath.Base(name), perm)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Two processes starting on one file: migrations take turns.
		path := filepath.Join(t.TempDir(), "huella.db")
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				s, err := sqlite.Open(path)
				if err != nil {
					errs <- err
					return
				}
				errs <- s.Close()
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
	t.Run("ErrPath", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{filepath.Join(file, "huella.db"), "", filepath.Join(t.TempDir(), "huella.db?mode=ro")} {
			if s, err := sqlite.Open(path); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded, want an error", path)
			}
		}
	})
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

// crashChildEnv names the database a crash child enrolls into.
const crashChildEnv = "HUELLA_SQLITE_CRASH_CHILD"

// An encounter acknowledged by CreateEncounter survives kill -9 of the
// process, and no encounter is left half-stored.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("runs and kills a child process; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "huella.db")
	s := MustOpenPath(t, path)
	storetest.MustCreateSite(t, s, "MX-TAP")
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acknowledged []string
	lines := bufio.NewScanner(out)
	for lines.Scan() && len(acknowledged) < 60 {
		if id, ok := strings.CutPrefix(lines.Text(), "ack "); ok {
			acknowledged = append(acknowledged, id)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL mid-stream
		t.Fatal(err)
	}
	cmd.Wait()
	if len(acknowledged) < 60 {
		t.Fatalf("child acknowledged %d encounters before it stopped, want 60", len(acknowledged))
	}

	s = MustOpenPath(t, path)
	ctx := context.Background()
	for _, id := range acknowledged {
		e, err := s.FindEncounter(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged encounter %s after kill -9: %v", id, err)
		}
		if len(e.Samples) != 13 {
			t.Errorf("encounter %s has %d samples, want 13", id, len(e.Samples))
		}
	}
	all, err := s.ListEncounters(ctx, huella.EncounterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if len(e.Samples) != 13 {
			t.Errorf("stored encounter %s has %d samples, want 13: a partial write", e.ID, len(e.Samples))
		}
	}
	events, err := s.ListAuditEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 1+len(all); got != want {
		t.Errorf("%d audit events for %d encounters and a site, want %d", got, len(all), want)
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(acknowledged), len(all))
}

// crashChild enrolls from 4 goroutines until killed, printing "ack <id>"
// after each CreateEncounter returns.
func crashChild(path string) {
	s, err := sqlite.Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				at := storetest.Date(2025, 1, 1, 0).Add(time.Duration(n.Add(1)) * time.Second)
				e := storetest.Encounter("MX-TAP", at)
				if err := s.CreateEncounter(storetest.Context(), e); err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println("ack", e.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// MustOpenPath opens the store at path and closes it when the test ends.
func MustOpenPath(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSiteOutboxStore(t *testing.T) {
	storetest.RunSiteOutbox(t, func(t *testing.T) storetest.SiteOutboxingStore { return MustOpen(t) })
}

func TestGalleryEvents(t *testing.T) {
	storetest.RunGalleryEvents(t, func(t *testing.T) storetest.EventStore { return MustOpen(t) })
}
