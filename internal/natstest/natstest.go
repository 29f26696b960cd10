// Package natstest starts throwaway NATS servers on loopback for tests.
package natstest

import (
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
