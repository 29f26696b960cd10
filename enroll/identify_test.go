package enroll_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/sqlite"
)

// admin is the actor of the tests' changes.
var admin = &huella.User{ID: "usr_00000000000000000000000ADM", Name: "test.admin", Role: huella.RoleAdmin}

func adminContext() context.Context {
	ctx := huella.NewContextWithActor(context.Background(), admin)
	return huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
}

// mustService returns an enrollment service over a new SQLite store and
// an identifier with the iris engine, loaded from the store.
func mustService(tb testing.TB) (*enroll.Service, *sqlite.Store) {
	tb.Helper()
	dir := tb.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "huella.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "data.key"))
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		tb.Fatal(err)
	}
	s := enroll.NewService(store, blobs)
	s.Identifier = mustIdentifier(tb, store)
	return s, store
}

// mustIdentifier returns an identifier with the iris engine and its
// shipped calibration, loaded from the store, as at start-up.
func mustIdentifier(tb testing.TB, store *sqlite.Store) *match.Identifier {
	tb.Helper()
	cals, err := fusion.Default()
	if err != nil {
		tb.Fatal(err)
	}
	x := match.NewIdentifier(store, []engine.Engine{engine.Iris{}}, cals)
	if _, _, err := x.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return x
}

// irises returns the demo's first person's irises at one capture.
func irises(tb testing.TB, capture string) ([]*huella.Sample, [][]byte) {
	tb.Helper()
	samples, images, err := demo.Irises(capture)
	if err != nil {
		tb.Fatal(err)
	}
	return samples, images
}

// watchHits returns the watchlist hits of a search with the second capture.
func watchHits(tb testing.TB, s *enroll.Service) []*huella.Hit {
	tb.Helper()
	samples, images := irises(tb, "02")
	id, err := s.Identify(adminContext(), samples, images)
	if err != nil {
		tb.Fatal(err)
	}
	var hits []*huella.Hit
	for _, h := range id.Hits {
		if h.Kind == huella.HitWatchlist {
			hits = append(hits, h)
		}
	}
	return hits
}

// TestRemoveWatchEntry puts a person's irises on a watchlist, finds them
// with another capture, removes the entry and finds them no more: at once
// in the running identifier, and after a restart.
func TestRemoveWatchEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	s, store := mustService(t)
	ctx := adminContext()
	list := &huella.Watchlist{Name: "Wanted", Owner: "PROGRAM", Category: huella.CategoryWanted, ValidFrom: time.Now().Add(-time.Hour)}
	if err := store.CreateWatchlist(ctx, list); err != nil {
		t.Fatal(err)
	}
	samples, images := irises(t, "01")
	entry := &huella.WatchEntry{WatchlistID: list.ID, Reference: "CASE-2026-0042", Samples: samples}
	if _, err := s.AddWatchEntry(ctx, entry, images); err != nil {
		t.Fatal(err)
	}
	hits := watchHits(t, s)
	if len(hits) != 1 || hits[0].WatchEntryID != entry.ID {
		t.Fatalf("before removal: watchlist hits %+v, want one on %s", hits, entry.ID)
	}
	if _, watch, err := mustIdentifier(t, store).Load(context.Background()); err != nil || watch != 2 {
		t.Fatalf("a restarted identifier loads %d watchlist templates, %v; want the entry's 2", watch, err)
	}

	t.Run("ErrNoReason", func(t *testing.T) {
		err := s.RemoveWatchEntry(ctx, entry.ID, "")
		if huella.ErrorCode(err) != huella.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
		if hits := watchHits(t, s); len(hits) != 1 {
			t.Errorf("a refused removal took the entry out of the gallery: %d hits", len(hits))
		}
	})

	if err := s.RemoveWatchEntry(ctx, entry.ID, "notice withdrawn by the owner"); err != nil {
		t.Fatal(err)
	}
	t.Run("NoMatchAtOnce", func(t *testing.T) {
		if hits := watchHits(t, s); len(hits) != 0 {
			t.Errorf("after removal: watchlist hits %+v, want none", hits)
		}
	})
	t.Run("NoMatchAfterRestart", func(t *testing.T) {
		x := mustIdentifier(t, store)
		if n := x.Watchlists.Len(); n != 0 {
			t.Errorf("a restarted identifier holds %d watchlist entries, want none", n)
		}
		restarted := *s
		restarted.Identifier = x
		if hits := watchHits(t, &restarted); len(hits) != 0 {
			t.Errorf("after restart: watchlist hits %+v, want none", hits)
		}
	})
	t.Run("ErrAlreadyRemoved", func(t *testing.T) {
		if err := s.RemoveWatchEntry(ctx, entry.ID, "again"); huella.ErrorCode(err) != huella.ECONFLICT {
			t.Errorf("err = %v, want ECONFLICT", err)
		}
	})
}
