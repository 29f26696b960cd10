package postgres_test

import (
	"context"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
	"github.com/jackc/pgx/v5"
)

// A change and its audit event commit together or not at all: when the
// audit insert fails (a trigger refuses it here), the change is not stored.
func TestAuditInSameTransaction(t *testing.T) {
	t.Parallel()
	dsn := MustSchema(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := storetest.Context()
	storetest.MustCreateSite(t, s, "MX-TAP")

	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'audit refused'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW
			WHEN (NEW.action IN ('site.create', 'user.create', 'encounter.create'))
			EXECUTE FUNCTION refuse_audit();`); err != nil {
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
			if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s holds %d rows, want %d", table, n, want)
			}
		}
		var head int64
		if err := conn.QueryRow(context.Background(), `SELECT seq FROM audit_head`).Scan(&head); err != nil || head != 1 {
			t.Errorf("chain head at %d (%v), want 1", head, err)
		}
	})
}
