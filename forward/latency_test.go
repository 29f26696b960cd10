package forward_test

import (
	"slices"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// confirmHits stores n encounters, then confirms a watchlist hit on each,
// one every pace (all at once for 0), as an examiner would; it waits for
// every delivery and returns each one's latency from the confirmation's
// commit to the partner's receipt, and the time from the first
// confirmation to the last receipt.
func confirmHits(tb testing.TB, h *harness, n int, pace time.Duration) (latencies []time.Duration, elapsed time.Duration) {
	tb.Helper()
	var encounters []*huella.Encounter
	for range n {
		encounters = append(encounters, storetest.MustCreateEncounter(tb, h.store, storetest.Encounter("MX-TAP", time.Now().Add(-time.Minute))))
	}
	ctx := storetest.Context()
	confirmed := map[string]time.Time{} // delivery ID -> when its confirmation returned
	start := time.Now()
	for _, e := range encounters {
		planned, err := h.store.ConfirmForForwarding(ctx, &huella.Confirmation{Kind: huella.TriggerHit, Category: "wanted",
			HitID: "hit_" + e.ID, SubjectID: e.SubjectID, EncounterID: e.ID})
		if err != nil || len(planned) != 1 {
			tb.Fatalf("ConfirmForForwarding = %d deliveries, %v; want 1", len(planned), err)
		}
		confirmed[planned[0].ID] = time.Now()
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(h.sim.Received()) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d deliveries received", len(h.sim.Received()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var last time.Time
	for _, r := range h.sim.Received() {
		at, ok := confirmed[r.DeliveryID]
		if !ok {
			tb.Fatalf("received unknown delivery %s", r.DeliveryID)
		}
		latencies = append(latencies, r.At.Sub(at))
		if r.At.After(last) {
			last = r.At
		}
	}
	slices.Sort(latencies)
	return latencies, last.Sub(start)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// TestLatency: with the partner up, 95% of confirmed hits reach the
// partner within a second of the examiner's confirmation.
func TestLatency(t *testing.T) {
	h := newHarness(t, embeddedBus, nil, nil)
	latencies, _ := confirmHits(t, h, 60, 25*time.Millisecond)
	p50, p95 := percentile(latencies, 0.50), percentile(latencies, 0.95)
	t.Logf("confirmation to receipt over %d hits: p50 %v, p95 %v, max %v", len(latencies), p50, p95, latencies[len(latencies)-1])
	if p95 > time.Second {
		t.Errorf("p95 latency %v, want at most 1 s", p95)
	}
	h.checkOnceInEffect(h.waitDelivered(60, 10*time.Second))
}

// BenchmarkForwarding confirms b.N hits, in a burst or one every 20 ms,
// on SQLite with the embedded bus and with the external NATS server, and
// on PostgreSQL with the embedded bus, and reports the latency from
// confirmation to the partner's receipt and the throughput in deliveries
// per second.
func BenchmarkForwarding(b *testing.B) {
	for _, setup := range []struct {
		name  string
		store storeOpener
		kind  busKind
	}{{"SQLite/Embedded", openSQLite, embeddedBus}, {"SQLite/External", openSQLite, externalBus}, {"Postgres/Embedded", openPostgres, embeddedBus}} {
		for _, c := range []struct {
			name string
			pace time.Duration
		}{{"Burst", 0}, {"Paced20ms", 20 * time.Millisecond}} {
			b.Run(setup.name+"/"+c.name, func(b *testing.B) {
				h := newHarnessOn(b, setup.store, setup.kind, nil, nil)
				b.ResetTimer()
				latencies, elapsed := confirmHits(b, h, b.N, c.pace)
				b.StopTimer()
				b.ReportMetric(float64(percentile(latencies, 0.50).Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(percentile(latencies, 0.95).Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "deliveries/s")
			})
		}
	}
}
