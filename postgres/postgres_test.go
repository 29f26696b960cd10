package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
	"github.com/jackc/pgx/v5"
)

// defaultDSN is the local test server CI runs (trust authentication).
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDSN returns the DSN of the test server: $HUELLA_TEST_POSTGRES, or the
// local default.
func testDSN() string {
	if dsn := os.Getenv("HUELLA_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

// MustSchema creates a fresh schema on the test server, dropped when the
// test ends, and returns a DSN whose search_path is that schema. When the
// server is unreachable the test is skipped, or failed when CI=true: CI must
// run the PostgreSQL suite.
func MustSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL test server unreachable at %s: %v (CI must run this suite)", redact(dsn), err)
		}
		tb.Skipf("PostgreSQL test server unreachable at %s (set HUELLA_TEST_POSTGRES to run this suite): %v", redact(dsn), err)
	}
	defer conn.Close(ctx)
	var random [6]byte
	rand.Read(random[:])
	schema := "huella_test_" + hex.EncodeToString(random[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(dsn, schema)
}

// withSearchPath adds search_path to a URL or key=value DSN.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// redact hides a password in a URL DSN.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

// MustOpen opens a store in a fresh schema and closes it when the test ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	dsn := MustSchema(tb)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) huella.Store { return MustOpen(t) })
}
