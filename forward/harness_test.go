package forward_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/natsbus"
	"github.com/huella-abis/huella/partnersim"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// fakeImage returns bytes unique to the image reference, so that a test
// can tell whether a sample's image left.
func fakeImage(_ context.Context, ref string) ([]byte, error) {
	return []byte("IMAGE:" + ref + ":END"), nil
}

// harness is the whole forwarding path in one process: a SQLite store, a
// bus, the forwarder and a partner simulator on loopback HTTP.
type harness struct {
	t      testing.TB
	store  storetest.ForwardingStore
	bus    *natsbus.Bus
	fwd    *forward.Forwarder
	sim    *partnersim.Sim
	srv    *httptest.Server
	keys   *forward.KeyRing
	busCfg natsbus.Config
}

// busKind opens the bus of a harness.
type busKind func(t testing.TB, dir string) natsbus.Config

func embeddedBus(t testing.TB, dir string) natsbus.Config {
	return natsbus.Config{StoreDir: filepath.Join(dir, "nats"), AckWait: 5 * time.Second}
}

// localNATS is the NATS server with JetStream that CI runs.
const localNATS = "nats://127.0.0.1:4222"

// externalURL is the external NATS test server: $HUELLA_TEST_NATS or the local one.
func externalURL() string {
	if u := os.Getenv("HUELLA_TEST_NATS"); u != "" {
		return u
	}
	return localNATS
}

func externalBus(t testing.TB, dir string) natsbus.Config {
	url := externalURL()
	var r [5]byte
	rand.Read(r[:])
	suffix := strings.ToUpper(hex.EncodeToString(r[:]))
	return natsbus.Config{URL: url, Stream: "HUELLA_FWD_" + suffix, Subject: "huella.fwd." + suffix,
		Consumer: "workers", AckWait: 5 * time.Second}
}

// newHarness opens a store with site MX-TAP and partner GT-PNC pointing at
// a simulator, under an agreement for convictions and hits of category
// wanted; tune adjusts the forwarder before it opens.
func newHarness(t testing.TB, kind busKind, agreement *huella.Agreement, tune func(*forward.Forwarder)) *harness {
	t.Helper()
	return newHarnessOn(t, openSQLite, kind, agreement, tune)
}

// storeOpener opens the store of a harness in dir.
type storeOpener func(t testing.TB, dir string) storetest.ForwardingStore

func openSQLite(t testing.TB, dir string) storetest.ForwardingStore {
	s, err := sqlite.Open(filepath.Join(dir, "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newHarnessOn is newHarness on the store openStore opens.
func newHarnessOn(t testing.TB, openStore storeOpener, kind busKind, agreement *huella.Agreement, tune func(*forward.Forwarder)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t}
	var err error
	h.store = openStore(t, dir)
	t.Cleanup(func() { h.store.Close() })
	if h.keys, err = forward.LoadOrCreateKeyRing(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	h.sim = partnersim.New(h.keys.JWKS())
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.busCfg = kind(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h.bus, err = natsbus.Open(ctx, h.busCfg); err == nil && h.busCfg.URL == externalURL() {
		for err = h.bus.Ready(ctx); err != nil && ctx.Err() == nil; err = h.bus.Ready(ctx) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err != nil {
		if h.busCfg.URL != "" && os.Getenv("CI") != "true" {
			t.Skipf("NATS test server unreachable at %s (set HUELLA_TEST_NATS to run this test): %v", h.busCfg.URL, err)
		}
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() {
		if h.busCfg.URL != "" {
			h.bus.DeleteStream(context.Background())
		}
		h.bus.Close()
	})
	storetest.MustCreateSite(t, h.store, "MX-TAP")
	p := storetest.Partner("GT-PNC")
	p.Endpoint = h.srv.URL + "/deliveries"
	if err := h.store.CreatePartner(storetest.Context(), p); err != nil {
		t.Fatal(err)
	}
	if agreement == nil {
		agreement = storetest.Agreement("GT-PNC", huella.TriggerConviction, huella.TriggerHit)
	}
	storetest.MustCreateAgreement(t, h.store, agreement)
	h.fwd = &forward.Forwarder{Store: h.store, Records: h.store, Images: fakeImage, Queue: h.bus, Keys: h.keys,
		Logger: slog.New(slog.DiscardHandler), BackoffBase: 50 * time.Millisecond, BackoffMax: 400 * time.Millisecond,
		HTTPTimeout: 2 * time.Second}
	if tune != nil {
		tune(h.fwd)
	}
	if err := h.fwd.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.fwd.Close() })
	return h
}

// convicted returns an encounter at MX-TAP declaring a conviction.
func convicted() *huella.Encounter {
	e := storetest.Encounter("MX-TAP", time.Now().Add(-time.Minute))
	e.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo"}
	return e
}

// convict stores n encounters declaring a conviction and returns them.
func (h *harness) convict(n int) []*huella.Encounter {
	h.t.Helper()
	var out []*huella.Encounter
	for range n {
		out = append(out, storetest.MustCreateEncounter(h.t, h.store, convicted()))
	}
	return out
}

// allAttempted reports whether n deliveries exist and each was tried at least once.
func (h *harness) allAttempted(n int) bool {
	list, err := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{Limit: 1000})
	if err != nil || len(list) < n {
		return false
	}
	for _, d := range list {
		if d.Attempts == 0 {
			return false
		}
	}
	return true
}

// waitDelivered waits until n deliveries are delivered, or fails.
func (h *harness) waitDelivered(n int, timeout time.Duration) []*huella.Delivery {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list, err := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{State: huella.DeliveryDelivered, Limit: 1000})
		if err != nil {
			h.t.Fatal(err)
		}
		if len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			all, _ := h.store.ListDeliveries(context.Background(), huella.DeliveryFilter{Limit: 1000})
			states := map[huella.DeliveryState]int{}
			for _, d := range all {
				states[d.State]++
			}
			h.t.Fatalf("%d of %d deliveries delivered after %v (states %v, simulator %+v)", len(list), n, timeout, states, h.sim.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOnceInEffect checks that the simulator applied every delivery of
// the store exactly once: one Idempotency-Key per delivery, one delivery
// per encounter, and the receipt the store recorded is the simulator's.
func (h *harness) checkOnceInEffect(delivered []*huella.Delivery) {
	h.t.Helper()
	received := h.sim.Received()
	byKey := map[string]*partnersim.Received{}
	byEncounter := map[string]int{}
	for _, r := range received {
		if byKey[r.IdempotencyKey] != nil {
			h.t.Errorf("key %s applied twice", r.IdempotencyKey)
		}
		byKey[r.IdempotencyKey] = r
		if r.Document != nil {
			byEncounter[r.Document.EncounterRef]++
		}
	}
	if got, want := len(received), len(delivered); got != want {
		h.t.Errorf("simulator applied %d deliveries, store delivered %d", got, want)
	}
	for _, d := range delivered {
		r := byKey[d.IdempotencyKey()]
		switch {
		case r == nil:
			h.t.Errorf("delivery %s delivered but never applied", d.ID)
		case r.Receipt != d.Receipt:
			h.t.Errorf("delivery %s: store receipt %q, simulator %q", d.ID, d.Receipt, r.Receipt)
		case byEncounter[d.EncounterID] != 1:
			h.t.Errorf("encounter %s applied %d times, want once", d.EncounterID, byEncounter[d.EncounterID])
		}
	}
}
