package postgres_test

import (
	"bytes"
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
)

// MustTestKEK is the key-encryption key of the tests' stores.
func MustTestKEK(tb testing.TB) *keyring.LocalKEK {
	tb.Helper()
	k, err := keyring.NewLocalKEK([]byte("huella postgres tests' kek 32 by"))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustUseKeys opens the store's keyring under MustTestKEK and seals its
// fields with it.
func MustUseKeys(tb testing.TB, s *postgres.Store) *keyring.Keyring {
	tb.Helper()
	ring, err := keyring.Open(context.Background(), MustTestKEK(tb), s, keyring.Options{})
	if err != nil {
		tb.Fatalf("keyring.Open: %v", err)
	}
	s.Keys = ring
	return ring
}

// TestAtRest plants values and looks for them in a pg_dump of the schema.
func TestAtRest(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is missing: the dump is not searched")
	}
	dsn := MustSchema(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ring := MustUseKeys(t, s)
	storetest.RunAtRest(t, s, ring, MustTestKEK(t), func(t *testing.T) []byte { return pgDump(t, dsn) })
}

// pgDump returns a plain dump of the DSN's schema (its search_path).
func pgDump(t *testing.T, dsn string) []byte {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := strings.TrimPrefix(q.Get("search_path"), "")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	var stderr bytes.Buffer
	cmd := exec.Command("pg_dump", "--schema="+schema, u.String())
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if !bytes.Contains(out, []byte("COPY")) {
		t.Fatalf("pg_dump wrote no data: %.200s", out)
	}
	return out
}
