package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// MustOpen opens a store in a new temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "huella.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) huella.Store { return MustOpen(t) })
}
