package postgres_test

import (
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

func open(tb testing.TB) huella.Database { return MustOpen(tb) }

// BenchmarkCreateEncounter: see storetest.BenchCreateEncounter.
func BenchmarkCreateEncounter(b *testing.B) { storetest.BenchCreateEncounter(b, open) }

// BenchmarkPurgeSubject: see storetest.BenchPurgeSubject.
func BenchmarkPurgeSubject(b *testing.B) { storetest.BenchPurgeSubject(b, open) }

// BenchmarkSessionLookup: see storetest.BenchSessionLookup.
func BenchmarkSessionLookup(b *testing.B) { storetest.BenchSessionLookup(b, open) }
