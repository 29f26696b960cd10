package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// A change and its audit event commit together or not at all: when the
// audit insert fails (a trigger refuses it here), the change is not stored.
func TestAuditInSameTransaction(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huella.db")
	s := MustOpenPath(t, path)
	ctx := storetest.Context()
	storetest.MustCreateSite(t, s, "MX-TAP")

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
		WHEN NEW.action IN ('site.create', 'user.create', 'encounter.create')
		BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}

	t.Run("CreateSite", func(t *testing.T) {
		if err := s.CreateSite(ctx, storetest.Site("MX-TIJ")); err == nil {
			t.Fatalf("CreateSite succeeded without its audit event")
		}
		_, err := s.FindSite(ctx, "MX-TIJ")
		if got := huella.ErrorCode(err); got != huella.ENOTFOUND {
			t.Errorf("FindSite after a refused audit event: %v, want %s", err, huella.ENOTFOUND)
		}
	})
	t.Run("CreateUser", func(t *testing.T) {
		u := storetest.User("officer", huella.RoleOfficer, "token", "MX-TAP")
		if err := s.CreateUser(ctx, u); err == nil {
			t.Fatalf("CreateUser succeeded without its audit event")
		}
		if u.ID != "" {
			t.Errorf("ID = %q after a failed CreateUser, want the user untouched", u.ID)
		}
		if _, err := s.FindUserByTokenHash(ctx, u.TokenHash); huella.ErrorCode(err) != huella.EUNAUTHORIZED {
			t.Errorf("FindUserByTokenHash after a refused audit event: %v, want %s", err, huella.EUNAUTHORIZED)
		}
	})
	t.Run("CreateEncounter", func(t *testing.T) {
		e := storetest.RichEncounter("MX-TAP", storetest.Date(2026, 1, 1, 0))
		if err := s.CreateEncounter(ctx, e); err == nil {
			t.Fatalf("CreateEncounter succeeded without its audit event")
		}
		if e.ID != "" || e.SubjectID != "" || e.Samples[0].ID != "" {
			t.Errorf("IDs set after a failed CreateEncounter, want the encounter untouched")
		}
		for table, want := range map[string]int{"subjects": 0, "encounters": 0, "samples": 0, "smts": 0, "encounter_counts": 0, "audit_events": 1} {
			var n int
			if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s holds %d rows, want %d", table, n, want)
			}
		}
	})
}
