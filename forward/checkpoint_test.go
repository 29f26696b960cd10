package forward_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/huella-abis/huella/forward"
)

// TestDeliveryCarriesAuditCheckpoint: every delivery carries our newest
// signed audit checkpoint, so that the partner's receipts witness the audit
// chain (issue 18, finding 2).
func TestDeliveryCarriesAuditCheckpoint(t *testing.T) {
	note := []byte("huella audit chain v1\n3\nAAAA\n2026-12-07T05:00:00Z\n\n— huella-audit sig\n")
	h := newHarness(t, embeddedBus, nil, func(f *forward.Forwarder) {
		f.AuditCheckpoint = func() []byte { return note }
	})
	h.convict(2)
	h.waitDelivered(2, 20*time.Second)
	want := base64.StdEncoding.EncodeToString(note)
	for _, r := range h.sim.Received() {
		if r.AuditCheckpoint != want {
			t.Errorf("delivery %s carried checkpoint %q, want %q", r.DeliveryID, r.AuditCheckpoint, want)
		}
	}
}
