package forward_test

import (
	"context"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/pgtest"
	"github.com/huella-abis/huella/partnersim"
	"github.com/huella-abis/huella/postgres"
	"github.com/huella-abis/huella/storetest"
)

// openPostgres opens a PostgreSQL store in a fresh schema of the test
// server ($HUELLA_TEST_POSTGRES or the local one CI runs), dropped when the
// test ends; it skips when the server is unreachable (fails when CI=true).
func openPostgres(t testing.TB, _ string) storetest.ForwardingStore {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.MustSchema(t, "huella_fwd_"))
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
