package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigratePurge checks migration 9 on a database holding deliveries
// and their attempts: both tables are rebuilt with every row, the
// attempts still reference their delivery, and a delivery no longer
// stops its encounter from being deleted.
func TestMigratePurge(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "huella.db")
	write, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer write.Close()
	write.SetMaxOpenConns(1)
	s := newStore(path)
	s.write = write
	if err := s.migrateTo(ctx, 8); err != nil {
		t.Fatalf("migrate to 8: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO sites VALUES ('MX-TAP', 'Tapachula', 'MEX', 'America/Mexico_City', 0)`,
		`INSERT INTO subjects (id, created_at) VALUES ('sub_1', 0)`,
		`INSERT INTO encounters (id, subject_id, site_code, captured_at, officer, reason, history_status, history_offence,
			purpose, nationality, biographics, original_ref, created_at)
			VALUES ('enc_1', 'sub_1', 'MX-TAP', 0, 'usr_1', 'detention', 'conviction', 'robo', 'migration-enforcement', 'GTM', '{}', '', 0)`,
		`INSERT INTO partners VALUES ('GT-PNC', 'PNC', 'https://p.example/in', 'json', '', '', '', '', 0, 0, 0)`,
		`INSERT INTO agreements VALUES ('agr_1', 'GT-PNC', '[]', '[]', '[]', '[]', 'MoU', 1, 1, 0, NULL)`,
		`INSERT INTO deliveries VALUES ('dlv_1', 'GT-PNC', 'agr_1', 'conviction', '', '', 'sub_1', 'enc_1', 'MX-TAP',
			'delivered', 2, '', 'RCPT-1', 1, 2, 3, 4)`,
		`INSERT INTO delivery_attempts VALUES ('dlv_1', 1, 5, 503, 'status 503', 100, '')`,
		`INSERT INTO delivery_attempts VALUES ('dlv_1', 2, 6, 200, '', 100, 'RCPT-1')`,
	} {
		if _, err := write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.migrateTo(ctx, 9); err != nil {
		t.Fatalf("migrate to 9: %v", err)
	}
	var receipt string
	var attempts, published int
	if err := write.QueryRowContext(ctx, `SELECT receipt, attempts, published_at FROM deliveries WHERE id = 'dlv_1'`).
		Scan(&receipt, &attempts, &published); err != nil || receipt != "RCPT-1" || attempts != 2 || published != 3 {
		t.Errorf("delivery after migration: %q %d %d, %v", receipt, attempts, published, err)
	}
	var n int
	if err := write.QueryRowContext(ctx, `SELECT count(*) FROM delivery_attempts WHERE delivery_id = 'dlv_1'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("attempts after migration = %d, %v; want 2", n, err)
	}
	rows, err := write.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Errorf("foreign key violations after migration")
	}
	rows.Close()
	if _, err := write.ExecContext(ctx, `INSERT INTO delivery_attempts VALUES ('dlv_nope', 1, 5, 0, '', 0, '')`); err == nil {
		t.Errorf("an attempt of an unknown delivery was stored: the reference to deliveries is lost")
	}
	if _, err := write.ExecContext(ctx, `DELETE FROM encounters WHERE id = 'enc_1'`); err != nil {
		t.Errorf("delete a delivered encounter: %v (deliveries must not hold it)", err)
	}
}
