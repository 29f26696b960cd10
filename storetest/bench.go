package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// OpenStore opens a fresh, empty store for one benchmark; it closes the
// store in tb.Cleanup.
type OpenStore func(tb testing.TB) huella.Database

// BenchCreateEncounter stores full enrollments (13 samples, biographics,
// one audit event) one after another and from 8 goroutines, each commit
// durable as the store makes it (SQLite syncs to disk).
func BenchCreateEncounter(b *testing.B, open OpenStore) {
	ctx := context.Background()
	b.Run("Serial", func(b *testing.B) {
		s := open(b)
		MustCreateSite(b, s, "MX-TAP")
		at := Date(2025, 1, 1, 0)
		for b.Loop() {
			at = at.Add(time.Second)
			if err := s.CreateEncounter(ctx, Encounter("MX-TAP", at)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "encounters/s")
	})
	// With a template per sample and an identification, as enrollment
	// stores them: the gallery event's cost shows here.
	b.Run("SerialIdentified", func(b *testing.B) {
		s := open(b)
		MustCreateSite(b, s, "MX-TAP")
		at := Date(2025, 1, 1, 0)
		for b.Loop() {
			at = at.Add(time.Second)
			if err := s.CreateEncounter(ctx, identified("MX-TAP", at, "")); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "encounters/s")
	})
	b.Run("Concurrency8", func(b *testing.B) {
		s := open(b)
		MustCreateSite(b, s, "MX-TAP")
		var seq atomic.Int64
		b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				at := Date(2025, 1, 1, 0).Add(time.Duration(seq.Add(1)) * time.Second)
				if err := s.CreateEncounter(ctx, Encounter("MX-TAP", at)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "encounters/s")
	})
}

// BenchPurgeSubject purges subjects of one full enrollment each (13
// samples, their templates, an original transaction) from a store holding
// 1,000 other subjects, each purge one transaction with its audit event.
func BenchPurgeSubject(b *testing.B, open OpenStore) {
	ctx := Context()
	s := open(b)
	MustCreateSite(b, s, "MX-TAP")
	at := Date(2025, 1, 1, 0)
	enroll := func() string {
		at = at.Add(time.Second)
		e := Encounter("MX-TAP", at)
		e.OriginalRef = ImageRef(at.String())
		for _, smp := range e.Samples {
			smp.Template = Template(smp, smp.ImageRef)
		}
		if err := s.CreateEncounter(ctx, e); err != nil {
			b.Fatal(err)
		}
		return e.SubjectID
	}
	for range 1000 {
		enroll()
	}
	subjects := make([]string, b.N)
	for i := range subjects {
		subjects[i] = enroll()
	}
	b.ResetTimer()
	for _, id := range subjects {
		if _, err := s.PurgeSubject(ctx, id, huella.PurgeRetention); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "purges/s")
}

// BenchSessionLookup measures what the console's sessions in the store
// cost a request (issue 17), in a store holding 10,000 sessions: Find is
// the lookup every signed-in request makes; Touch the write a request makes
// at most once a minute per session; Create a sign-in (with its sweep).
func BenchSessionLookup(b *testing.B, open OpenStore) {
	ctx := Context()
	s := open(b)
	u := User("maria.lopez", huella.RoleSupervisor, "token-maria")
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	const sessions = 10000
	ids := make([]string, sessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-session-%06d-%s", i, "0123456789abcdef0123456789abcdef")
		if err := s.CreateSession(ctx, &huella.Session{ID: ids[i], UserID: u.ID, TokenHash: u.TokenHash, CSRF: "csrf",
			Private: make([]byte, 120), StartedAt: now, SeenAt: now}, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Find", func(b *testing.B) {
		i := 0
		cpu := processCPU()
		for b.Loop() {
			if _, err := s.FindSession(ctx, ids[i%sessions]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Run("Touch", func(b *testing.B) {
		i := 0
		cpu := processCPU()
		for b.Loop() {
			if err := s.TouchSession(ctx, ids[i%sessions], time.Now(), nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Run("Create", func(b *testing.B) {
		i := 0
		cpu := processCPU()
		for b.Loop() {
			t := time.Now()
			if err := s.CreateSession(ctx, &huella.Session{ID: fmt.Sprintf("bench-new-%d", i), UserID: u.ID, TokenHash: u.TokenHash,
				CSRF: "csrf", StartedAt: t, SeenAt: t}, t.Add(-time.Hour), t.Add(-time.Hour)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	})
}
