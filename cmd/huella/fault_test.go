package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/huella-abis/huella/internal/pgtest"
	"github.com/huella-abis/huella/natsbus"
)

// natsCluster is n NATS servers with JetStream on loopback, routed to
// each other in one cluster; a server can be killed and started again on
// its port and store.
type natsCluster struct {
	tb      testing.TB
	opts    []*natsserver.Options
	servers []*natsserver.Server
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNATSCluster starts the cluster and waits for its JetStream to have
// a leader.
func startNATSCluster(tb testing.TB, n int) *natsCluster {
	tb.Helper()
	c := &natsCluster{tb: tb, servers: make([]*natsserver.Server, n)}
	routes := make([]string, n)
	for i := range n {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", freePort(tb))
	}
	for i := range n {
		cluster, _ := strconv.Atoi(routes[i][strings.LastIndexByte(routes[i], ':')+1:])
		c.opts = append(c.opts, &natsserver.Options{ServerName: fmt.Sprintf("nats-%d", i+1), Host: "127.0.0.1", Port: freePort(tb),
			JetStream: true, StoreDir: tb.TempDir(), NoLog: true, NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "huella-test", Host: "127.0.0.1", Port: cluster},
			Routes:  natsserver.RoutesFromStr(strings.Join(append(append([]string{}, routes[:i]...), routes[i+1:]...), ","))})
	}
	for i := range n {
		c.start(i)
	}
	tb.Cleanup(func() {
		for _, s := range c.servers {
			if s != nil {
				s.Shutdown()
			}
		}
	})
	waitLogging(tb, time.Minute, func() bool {
		for _, s := range c.servers {
			if s.JetStreamIsLeader() {
				return true
			}
		}
		return false
	}, func() string { return "no JetStream meta leader" })
	return c
}

func (c *natsCluster) start(i int) {
	c.tb.Helper()
	o := *c.opts[i]
	s, err := natsserver.NewServer(&o)
	if err != nil {
		c.tb.Fatalf("nats server %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		c.tb.Fatalf("nats server %d not ready", i)
	}
	c.servers[i] = s
}

// urls is the client URLs of every server, as a client is given them.
func (c *natsCluster) urls() string {
	var list []string
	for _, o := range c.opts {
		list = append(list, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(list, ",")
}

// kill stops server i at once (its clients see the connection drop).
func (c *natsCluster) kill(i int) {
	c.servers[i].Shutdown()
	c.servers[i].WaitForShutdown()
	c.servers[i] = nil
}

// index returns the index of the server named name.
func (c *natsCluster) index(name string) int {
	for i, o := range c.opts {
		if o.ServerName == name {
			return i
		}
	}
	c.tb.Fatalf("no server %q", name)
	return -1
}

// faultRun is a cluster of Huella processes on loopback for the fault
// tests: a 3-server NATS cluster, a database of its own on the test
// PostgreSQL server, one matcher and one API node.
type faultRun struct {
	nats      *natsCluster
	dsn       string
	srv       *server
	officer   string
	images    []benchImage
	logs      func() string
	mu        sync.Mutex
	succeeded int // enrollments acknowledged (201)
	failed    int
}

func startFaultRun(t *testing.T) *faultRun {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if os.Getenv("HUELLA_TEST_POSTGRES") == "" && os.Getenv("CI") != "true" {
		t.Skip("set HUELLA_TEST_POSTGRES to run")
	}
	r := &faultRun{nats: startNATSCluster(t, 3), dsn: pgtest.MustDatabase(t, "huella_fault_")}
	data := t.TempDir()
	with := func(args ...string) []string { return append(args, "--data", data, "--postgres", r.dsn) }
	MustRun(t, with("site", "add", "--code", "MX-BENCH", "--name", "Fault test", "--country", "MEX", "--tz", "America/Mexico_City")...)
	r.officer = MustAddUser(t, data, "--postgres", r.dsn, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	var err error
	if r.images, err = benchImages(); err != nil {
		t.Fatal(err)
	}
	var matcherLogs, serveLogs bytes.Buffer
	startChild(t, &matcherLogs, with("matcher", "--shard", "0/1", "--matchers", r.nats.urls())...)
	addr := freeAddr(t)
	startChild(t, &serveLogs, with("serve", "--addr", addr, "--matchers", r.nats.urls(), "--nats", r.nats.urls(),
		"--stream-replicas", "3", "--matcher-shards", "1", "--matcher-deadline", "10s")...)
	r.srv = &server{url: "http://" + addr, logs: &serveLogs}
	r.logs = func() string { return serveLogs.String() + matcherLogs.String() }
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := r.srv.getNoFail("", "/readyz")
		return code == 200 && strings.Contains(matcherLogs.String(), "serving")
	}, r.logs)
	return r
}

// enroll enrolls the bench person i, counting the acknowledged and the
// refused enrollments; a refused one must have changed nothing.
func (r *faultRun) enroll(t *testing.T, i int) {
	body, ct := benchRequest(i, r.images)
	code := 0
	req, _ := http.NewRequest("POST", r.srv.url+"/v1/encounters", body)
	req.Header.Set("Authorization", "Bearer "+r.officer)
	req.Header.Set("Content-Type", ct)
	if resp, err := (&http.Client{Timeout: 3 * time.Minute}).Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if code == 201 {
		r.succeeded++
	} else {
		r.failed++
		t.Logf("enrollment %d: HTTP %d (not acknowledged)", i, code)
	}
}

// burst enrolls n people from 2 clients, calling fault once the first
// ones are under way.
func (r *faultRun) burst(t *testing.T, from, n int, fault func()) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r.enroll(t, i)
			}
		}()
	}
	for i := from; i < from+n; i++ {
		if i == from+2 {
			fault()
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// check asserts that nothing acknowledged was lost: the database holds
// every acknowledged encounter and no other, every gallery event reached
// the stream, and every partial search was searched again.
func (r *faultRun) check(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var encounters, head, sent int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM encounters`).Scan(&encounters); err != nil {
		t.Fatal(err)
	}
	if encounters != int64(r.succeeded) {
		t.Errorf("the database holds %d encounters; %d enrollments were acknowledged (%d refused)", encounters, r.succeeded, r.failed)
	}
	if r.succeeded < 4 {
		t.Errorf("only %d enrollments of the burst succeeded; the cluster did not keep serving\n%s", r.succeeded, r.logs())
	}
	nc, err := nats.Connect(r.nats.urls())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitLogging(t, time.Minute, func() bool {
		conn.QueryRow(ctx, `SELECT seq FROM gallery_event_seq`).Scan(&head)
		conn.QueryRow(ctx, `SELECT sent FROM gallery_event_relay`).Scan(&sent)
		_, last, err := (&natsbus.GalleryStream{JS: js}).Info(ctx)
		return err == nil && head > 0 && sent == head && int64(last) == head
	}, func() string { return fmt.Sprintf("outbox head %d, relayed %d\n%s", head, sent, r.logs()) })
	waitLogging(t, 3*time.Minute, func() bool {
		return metric(r.srv, "huella_research_pending") == 0
	}, r.logs)
	partial, researched := metric(r.srv, "huella_identify_partial_total"), metric(r.srv, "huella_research_completed_total")
	if partial != researched {
		t.Errorf("%v partial searches, %v searched again", partial, researched)
	}
	t.Logf("%d enrollments acknowledged, %d refused; %v partial searches, all searched again; %d gallery events relayed",
		r.succeeded, r.failed, partial, head)
}

// TestNATSServerKilled kills the server leading the gallery stream (of 3,
// the stream kept on all 3) during a burst of enrollments, and starts it
// again: every acknowledged enrollment is in the database, every gallery
// event reaches the stream, and any search the fault made partial is
// searched again.
func TestNATSServerKilled(t *testing.T) {
	r := startFaultRun(t)
	r.enroll(t, 0) // the stream exists once the first event is relayed
	nc, err := nats.Connect(r.nats.urls())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	var leader string
	waitLogging(t, time.Minute, func() bool {
		st, err := js.Stream(context.Background(), natsbus.DefaultGalleryStream)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		if err != nil || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return false
		}
		leader = info.Cluster.Leader
		return leader != ""
	}, r.logs)
	killed := r.nats.index(leader)
	r.burst(t, 1, 6, func() { r.nats.kill(killed) })
	r.nats.start(killed)
	r.burst(t, 7, 2, func() {})
	r.check(t)
}

// TestPostgresConnectionsLost ends every connection of the API node and the
// matcher to PostgreSQL (pg_terminate_backend, as a server restart does)
// during a burst of enrollments: the enrollments under way may be refused,
// never half-stored; the next ones succeed on new connections.
func TestPostgresConnectionsLost(t *testing.T) {
	r := startFaultRun(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var terminated int
	r.burst(t, 0, 6, func() {
		time.Sleep(time.Second) // into the first enrollments' work
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&terminated); err != nil {
			t.Fatal(err)
		}
	})
	if terminated == 0 {
		t.Fatal("no connection was terminated")
	}
	r.burst(t, 6, 2, func() {})
	r.check(t)
	t.Logf("%d connections terminated", terminated)
}
