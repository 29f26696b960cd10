package forward_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huella-abis/huella/partnersim"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
)

// openPostgres opens a PostgreSQL store in a fresh schema of the test
// server ($HUELLA_TEST_POSTGRES or the local one CI runs), dropped when the
// test ends; it skips when the server is unreachable (fails when CI=true).
func openPostgres(t testing.TB, _ string) storetest.ForwardingStore {
	t.Helper()
	dsn := os.Getenv("HUELLA_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL test server unreachable: %v (CI must run this test)", err)
		}
		t.Skipf("PostgreSQL test server unreachable (set HUELLA_TEST_POSTGRES to run this test): %v", err)
	}
	defer conn.Close(ctx)
	var r [6]byte
	rand.Read(r[:])
	schema := "huella_fwd_" + hex.EncodeToString(r[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("HUELLA_TEST_POSTGRES must be a postgres:// URL here: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeliveryPostgres runs the partner-down path on the PostgreSQL store.
func TestDeliveryPostgres(t *testing.T) {
	h := newHarnessOn(t, openPostgres, embeddedBus, nil, nil)
	h.sim.SetMode(partnersim.ModeLoseAck, 0)
	const n = 10
	h.convict(n)
	deadline := time.Now().Add(15 * time.Second)
	for h.sim.Stats().Applied < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h.sim.SetMode(partnersim.ModeOK, 0)
	h.checkOnceInEffect(h.waitDelivered(n, 20*time.Second))
}
