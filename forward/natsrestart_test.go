package forward_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/huella-abis/huella/natsbus"
	"github.com/huella-abis/huella/storetest"
)

// natsServer is a real nats-server process with JetStream on a port of its
// own, so that a test may kill and restart it.
type natsServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// startNATSServer starts nats-server (from $PATH), or skips the test when
// it is not installed (fails when CI=true).
func startNATSServer(t *testing.T) *natsServer {
	t.Helper()
	s := newNATSServer(t)
	s.start()
	return s
}

// newNATSServer prepares a nats-server on a free port without starting it.
func newNATSServer(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server not installed (CI must run this test)")
		}
		t.Skip("nats-server not installed: apt-get install nats-server to run this test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &natsServer{t: t, bin: bin, dir: t.TempDir(), port: port}
	t.Cleanup(s.kill)
	return s
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", filepath.Join(s.dir, "js"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal("nats-server did not start")
}

// kill stops the server with SIGKILL and waits for it.
func (s *natsServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// TestExternalNATSRestart: the external NATS server is killed and restarted
// while deliveries are being decided; none is lost and none takes effect
// twice.
func TestExternalNATSRestart(t *testing.T) {
	nats := startNATSServer(t)
	h := newHarness(t, func(t testing.TB, dir string) natsbus.Config {
		return natsbus.Config{URL: nats.url(), AckWait: 3 * time.Second}
	}, nil, nil)
	const n = 40
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			if err := h.store.CreateEncounter(storetest.Context(), convicted()); err != nil {
				t.Errorf("CreateEncounter: %v", err)
			}
			time.Sleep(60 * time.Millisecond)
		}
	}()
	time.Sleep(600 * time.Millisecond)
	nats.kill()
	time.Sleep(1500 * time.Millisecond) // a partition: decisions go on, deliveries wait
	if pending, err := h.store.PendingDeliveries(context.Background(), 0); err != nil || len(pending) == 0 {
		t.Errorf("pending deliveries while NATS is down = %d, %v; want some waiting in the outbox", len(pending), err)
	}
	nats.start()
	<-done
	delivered := h.waitDelivered(n, 30*time.Second)
	h.checkOnceInEffect(delivered)
	if st := h.sim.Stats(); st.Applied != n {
		t.Errorf("simulator applied %d, want %d", st.Applied, n)
	}
}

// TestStartWithoutNATS: huella starts while the external NATS server is
// away; decisions are kept in the outbox and delivered once it comes.
func TestStartWithoutNATS(t *testing.T) {
	nats := newNATSServer(t)
	h := newHarness(t, func(t testing.TB, dir string) natsbus.Config {
		return natsbus.Config{URL: nats.url(), AckWait: 3 * time.Second}
	}, nil, nil)
	const n = 5
	h.convict(n)
	time.Sleep(300 * time.Millisecond)
	if pending, err := h.store.PendingDeliveries(context.Background(), 0); err != nil || len(pending) != n {
		t.Errorf("pending deliveries without NATS = %d, %v; want %d", len(pending), err, n)
	}
	nats.start()
	h.checkOnceInEffect(h.waitDelivered(n, 30*time.Second))
}
