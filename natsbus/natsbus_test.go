package natsbus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/natsbus"
)

// LocalURL is the NATS server with JetStream that CI runs.
const LocalURL = "nats://127.0.0.1:4222"

// ExternalURL returns $HUELLA_TEST_NATS or the local server's URL.
func ExternalURL() string {
	if u := os.Getenv("HUELLA_TEST_NATS"); u != "" {
		return u
	}
	return LocalURL
}

// open returns a function that opens the bus of one test: embedded in dir,
// or on the external server with a stream of its own.
type opener func(t *testing.T, dir string) *natsbus.Bus

func embedded(t *testing.T, dir string) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Open(context.Background(), natsbus.Config{StoreDir: dir, AckWait: 2 * time.Second})
	if err != nil {
		t.Fatalf("Open embedded: %v", err)
	}
	return b
}

func external(t *testing.T, dir string) *natsbus.Bus {
	t.Helper()
	// The stream name is derived from the test's directory, so that a
	// reopen in the same test finds the same stream.
	suffix := strings.ToUpper(hex.EncodeToString([]byte(dir))[len(hex.EncodeToString([]byte(dir)))-12:])
	cfg := natsbus.Config{URL: ExternalURL(), Stream: "HUELLA_TEST_" + suffix, Subject: "huella.test." + suffix,
		AckWait: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := natsbus.Open(ctx, cfg)
	if err == nil {
		if err = waitReady(ctx, b); err != nil {
			b.Close()
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("NATS test server unreachable at %s: %v (CI must run this suite)", cfg.URL, err)
		}
		t.Skipf("NATS test server unreachable at %s (set HUELLA_TEST_NATS to run this suite): %v", cfg.URL, err)
	}
	return b
}

// uniqueDir returns a new temporary directory whose name ends in random hex.
func uniqueDir(t *testing.T) string {
	var r [6]byte
	rand.Read(r[:])
	dir := t.TempDir() + "/" + hex.EncodeToString(r[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBus(t *testing.T) {
	for name, open := range map[string]opener{"Embedded": embedded, "External": external} {
		t.Run(name, func(t *testing.T) { runContract(t, open) })
	}
}

// runContract is the queue contract both kinds of bus must keep.
func runContract(t *testing.T, open opener) {
	ctx := context.Background()
	t.Run("DeduplicatesByID", func(t *testing.T) {
		b := open(t, uniqueDir(t))
		defer closeAndDelete(t, b)
		for i := range 3 {
			if err := b.Publish(ctx, "dlv_1", []byte(fmt.Sprintf("copy %d", i))); err != nil {
				t.Fatalf("Publish: %v", err)
			}
		}
		if err := b.Publish(ctx, "dlv_2", []byte("second")); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Pending(ctx); err != nil || n != 2 {
			t.Fatalf("Pending = %d, %v; want 2", n, err)
		}
		got := map[string]bool{}
		for range 2 {
			m := mustNext(t, b)
			got[string(m.Data())] = true
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		if !got["copy 0"] || !got["second"] {
			t.Errorf("got %v, want the first copy of dlv_1 and dlv_2", got)
		}
		if m, err := b.Next(ctx, 200*time.Millisecond); err != nil || m != nil {
			t.Errorf("Next after all acked = %v, %v; want nothing", m, err)
		}
	})
	t.Run("NakRedelivers", func(t *testing.T) {
		b := open(t, uniqueDir(t))
		defer closeAndDelete(t, b)
		if err := b.Publish(ctx, "dlv_1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		m := mustNext(t, b)
		start := time.Now()
		if err := m.NakWithDelay(300 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		m = mustNext(t, b)
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("redelivered after %v, want the 300 ms delay", d)
		}
		m.Term()
		if m, _ := b.Next(ctx, 500*time.Millisecond); m != nil {
			t.Errorf("a terminated message came back")
		}
	})
	t.Run("UnackedRedelivers", func(t *testing.T) {
		b := open(t, uniqueDir(t))
		defer closeAndDelete(t, b)
		if err := b.Publish(ctx, "dlv_1", []byte("x")); err != nil {
			t.Fatal(err)
		}
		mustNext(t, b) // a worker that dies holding it
		m, err := b.Next(ctx, 4*time.Second)
		if err != nil || m == nil {
			t.Fatalf("Next after the ack wait = %v, %v; want the message again", m, err)
		}
		m.Ack()
	})
	t.Run("SurvivesReopen", func(t *testing.T) {
		dir := uniqueDir(t)
		b := open(t, dir)
		for i := range 5 {
			if err := b.Publish(ctx, fmt.Sprintf("dlv_%d", i), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
		b = open(t, dir)
		defer closeAndDelete(t, b)
		if err := b.Publish(ctx, "dlv_4", []byte{4}); err != nil { // still within the window: dropped
			t.Fatal(err)
		}
		if n, err := b.Pending(ctx); err != nil || n != 5 {
			t.Errorf("Pending after reopen = %d, %v; want 5", n, err)
		}
	})
}

func mustNext(t *testing.T, b *natsbus.Bus) interface {
	Data() []byte
	Ack() error
	NakWithDelay(time.Duration) error
	Term() error
} {
	t.Helper()
	m, err := b.Next(context.Background(), 3*time.Second)
	if err != nil || m == nil {
		t.Fatalf("Next = %v, %v; want a message", m, err)
	}
	return m
}

func closeAndDelete(t *testing.T, b *natsbus.Bus) {
	if err := b.DeleteStream(context.Background()); err != nil {
		t.Errorf("DeleteStream: %v", err)
	}
	b.Close()
}

// waitReady waits until the bus's server answers or ctx ends.
func waitReady(ctx context.Context, b *natsbus.Bus) error {
	for {
		err := b.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
