// Package pgtest gives tests a fresh schema or database on the PostgreSQL
// test server: $HUELLA_TEST_POSTGRES, or the local server CI runs. A
// developer's machine may have none: tests then skip with a clear message,
// except under CI (CI=true), where an unreachable server fails them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the local test server CI runs (trust authentication).
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the DSN of the test server.
func DSN() string {
	if dsn := os.Getenv("HUELLA_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// MustSchema creates a schema named prefix plus a random suffix, dropped
// with everything in it when the test ends, and returns a DSN whose
// search_path is that schema.
func MustSchema(tb testing.TB, prefix string) string {
	tb.Helper()
	dsn := DSN()
	name := prefix + randomSuffix()
	create(tb, dsn, `CREATE SCHEMA `+name, `DROP SCHEMA `+name+` CASCADE`)
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + name
}

// MustDatabase creates a database named prefix plus a random suffix,
// dropped when the test ends, and returns its DSN. The test server's DSN
// must be a URL.
func MustDatabase(tb testing.TB, prefix string) string {
	tb.Helper()
	dsn := DSN()
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		tb.Fatalf("$HUELLA_TEST_POSTGRES must be a postgres:// URL for this test")
	}
	name := prefix + randomSuffix()
	create(tb, dsn, `CREATE DATABASE `+name, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	u.Path = "/" + name
	return u.String()
}

// create runs the statement that makes a test's schema or database, and
// registers the one that drops it. It skips the test, or fails it under CI,
// when the server cannot be reached.
func create(tb testing.TB, dsn, createSQL, dropSQL string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL test server unreachable at %s: %v (CI must run this test)", Redact(dsn), err)
		}
		tb.Skipf("PostgreSQL test server unreachable at %s (set HUELLA_TEST_POSTGRES to run this test): %v", Redact(dsn), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, createSQL); err != nil {
		tb.Fatalf("%s: %v", createSQL, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("%s: %v", dropSQL, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, dropSQL); err != nil {
			tb.Errorf("%s: %v", dropSQL, err)
		}
	})
}

func randomSuffix() string {
	var r [6]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Redact hides a password in a URL DSN.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
