// Package natstest starts throwaway NATS servers on loopback for tests.
package natstest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server starts a NATS server on a free loopback port, shut down when the
// test ends.
func Server(tb testing.TB) *server.Server {
	tb.Helper()
	return start(tb, &server.Options{})
}

// JetStream starts a NATS server with JetStream on a free loopback port,
// its store in a temporary directory, shut down when the test ends.
func JetStream(tb testing.TB) *server.Server {
	tb.Helper()
	return start(tb, &server.Options{JetStream: true, StoreDir: tb.TempDir()})
}

func start(tb testing.TB, o *server.Options) *server.Server {
	tb.Helper()
	o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(o)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(s.Shutdown)
	return s
}

// WaitStreamDeleted waits until a stream of the global account deleted
// through the API is gone from s's store. The server answers the delete
// before its file store is moved away, and a stream of the same name made
// in between can fail to get a store ("error creating store for stream"):
// a test that remakes a stream at once waits here first.
func WaitStreamDeleted(tb testing.TB, s *server.Server, stream string) {
	tb.Helper()
	streams := filepath.Join(s.StoreDir(), server.DEFAULT_GLOBAL_ACCOUNT, "streams")
	if _, err := os.Stat(streams); err != nil {
		tb.Fatalf("no stream store to watch: %v", err)
	}
	dir := filepath.Join(streams, stream)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("stream %s still in the store 10 s after its deletion", stream)
		}
	}
}
