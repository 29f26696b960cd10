package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestMain lets the test binary act as the real huella binary when
// HUELLA_RUN_MAIN is set, so end-to-end tests run the real main().
func TestMain(m *testing.M) {
	if os.Getenv("HUELLA_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// MustRun runs a huella command in-process and returns its standard output.
func MustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		tb.Fatalf("huella %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

var tokenLine = regexp.MustCompile(`token: (\S+)`)

// MustAddUser adds a user with the CLI and returns its token.
func MustAddUser(tb testing.TB, data string, args ...string) string {
	tb.Helper()
	out := MustRun(tb, append([]string{"user", "add", "--data", data}, args...)...)
	m := tokenLine.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no token in %q", out)
	}
	return m[1]
}

// server is the real huella binary serving in a child process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func freeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// MustServe starts "huella serve" as a child process and waits until ready.
func MustServe(tb testing.TB, data, addr string) *server {
	tb.Helper()
	s := &server{url: "http://" + addr, logs: &bytes.Buffer{}}
	s.cmd = exec.Command(os.Args[0], "serve", "--data", data, "--addr", addr)
	s.cmd.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, s.logs
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("server not ready: %s", s.logs)
	return nil
}

func (s *server) get(tb testing.TB, token, path string) (int, []byte) {
	tb.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestKill9 enrolls from several clients, kills the server with SIGKILL
// mid-stream, restarts it, and checks that every acknowledged encounter is
// complete and that no partial encounter exists.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Kill test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	supervisor := MustAddUser(t, data, "--name", "supervisor", "--role", "supervisor")
	addr := freeAddr(t)
	srv := MustServe(t, data, addr)
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}

	clients := startEnrolling(t, srv, officer, images, 6, 30*time.Second)
	// Kill once a good number of encounters are acknowledged and more are in flight.
	// Each enrollment extracts 13 templates and searches the galleries.
	const minAcked = 12
	deadline := time.Now().Add(120 * time.Second)
	for len(clients.Acked()) < minAcked && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	clients.Stop()
	ackedIDs := clients.Acked()
	if len(ackedIDs) < minAcked {
		t.Fatalf("only %d encounters acknowledged before the deadline", len(ackedIDs))
	}

	srv = MustServe(t, data, addr)
	for _, id := range ackedIDs {
		checkComplete(t, srv, supervisor, id, len(images))
	}
	code, body := srv.get(t, supervisor, "/v1/encounters?limit=1000")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	var all []struct{ ID string }
	json.Unmarshal(body, &all)
	for _, e := range all {
		checkComplete(t, srv, supervisor, e.ID, len(images))
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(ackedIDs), len(all))
	if len(all) < len(ackedIDs) {
		t.Errorf("%d stored < %d acknowledged", len(all), len(ackedIDs))
	}
}

// checkComplete asserts the encounter is stored with all its samples and
// that every image decrypts.
func checkComplete(t *testing.T, srv *server, token, id string, samples int) {
	t.Helper()
	code, body := srv.get(t, token, "/v1/encounters/"+id)
	if code != 200 {
		t.Fatalf("acknowledged encounter %s: %d %s", id, code, body)
	}
	var e struct {
		Samples []struct{ ID string }
	}
	json.Unmarshal(body, &e)
	if len(e.Samples) != samples {
		t.Fatalf("encounter %s has %d samples, want %d", id, len(e.Samples), samples)
	}
	for _, s := range e.Samples {
		if code, _ := srv.get(t, token, "/v1/samples/"+s.ID+"/image"); code != 200 {
			t.Fatalf("encounter %s sample %s image: status %d", id, s.ID, code)
		}
	}
}

// TestAuditVerify alters one stored audit event and sees verify fail at it.
func TestAuditVerify(t *testing.T) {
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-TAP")
	MustAddUser(t, data, "--name", "auditor", "--role", "auditor")
	if out := MustRun(t, "audit", "verify", "--data", data); !strings.Contains(out, "intact: 3 events") {
		t.Fatalf("verify on a clean chain: %q", out)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "huella.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_events SET action = 'user.delete' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var stdout bytes.Buffer
	err = Run(context.Background(), []string{"audit", "verify", "--data", data}, &stdout, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify after tampering: err %v, want exit status 1", err)
	}
	if !strings.Contains(stdout.String(), "event 2") {
		t.Errorf("verify output %q does not name event 2", stdout.String())
	}
}

// TestDemo runs "huella demo" twice on one data directory: the first run
// seeds a facility, users and three encounters that the printed supervisor
// token can read; the second finds them and prints the same tokens.
func TestDemo(t *testing.T) {
	data := t.TempDir()
	first := runDemoUntilReady(t, data)
	second := runDemoUntilReady(t, data)
	tokenOf := regexp.MustCompile(`(?m)^\s+supervisor\s+supervisor\s+(\S+)$`)
	m1, m2 := tokenOf.FindStringSubmatch(first.out), tokenOf.FindStringSubmatch(second.out)
	if m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Fatalf("supervisor token missing or changed between runs:\n%s\n%s", first.out, second.out)
	}
	for _, want := range []string{"officer", "examiner", "auditor", "partner", "admin", "Console: http://127.0.0.1:"} {
		if !strings.Contains(first.out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, first.out)
		}
	}
	if n := len(second.encounters); n != 3 {
		t.Errorf("demo has %d encounters after a restart, want 3", n)
	}
	// The demo enrolls through the service, not the API: the counter
	// counts every enrollment whatever its door.
	if !strings.Contains(first.metrics, "huella_encounters_enrolled_total 3\n") {
		t.Errorf("metrics after the demo enrolled 3:\n%s", grepLines(first.metrics, "huella_encounters"))
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type demoRun struct {
	out        string
	encounters []json.RawMessage
	metrics    string
}

// runDemoUntilReady starts the demo, reads its output until it is ready,
// lists the encounters with the printed supervisor token, and stops it.
func runDemoUntilReady(t *testing.T, data string) demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"demo", "--data", data, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	var out strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		n, err := pr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("demo stopped: %v\n%s", <-done, out.String())
		}
	}
	go io.Copy(io.Discard, pr)
	run := demoRun{out: out.String()}
	url := regexp.MustCompile(`Console: (http://\S+)/`).FindStringSubmatch(run.out)
	token := regexp.MustCompile(`(?m)^\s+supervisor\s+supervisor\s+(\S+)$`).FindStringSubmatch(run.out)
	if url == nil || token == nil {
		t.Fatalf("no URL or supervisor token in:\n%s", run.out)
	}
	s := &server{url: url[1]}
	code, body := s.get(t, token[1], "/v1/encounters")
	if code != 200 {
		t.Fatalf("demo encounters: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &run.encounters); err != nil {
		t.Fatal(err)
	}
	_, metrics := s.get(t, "", "/metrics")
	run.metrics = string(metrics)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return run
}

// enrollers are clients posting encounters to a server until stopped.
type enrollers struct {
	mu    sync.Mutex
	acked []string // IDs of the encounters acknowledged with 201
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// startEnrolling starts n clients that enroll encounters of the images
// (made unique per request) at srv as the officer, until Stop or the end of
// the test. A request that fails (the server killed under it) is not
// acknowledged.
func startEnrolling(tb testing.TB, srv *server, officer string, images []benchImage, n int, timeout time.Duration) *enrollers {
	e := &enrollers{stop: make(chan struct{})}
	for c := 0; c < n; c++ {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			client := &http.Client{Timeout: timeout}
			for i := 0; ; i++ {
				select {
				case <-e.stop:
					return
				default:
				}
				body, ct := benchRequest(c*100000+i, images)
				req, _ := http.NewRequest("POST", srv.url+"/v1/encounters", body)
				req.Header.Set("Authorization", "Bearer "+officer)
				req.Header.Set("Content-Type", ct)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var enc struct{ ID string }
				if resp.StatusCode == http.StatusCreated && json.Unmarshal(b, &enc) == nil {
					e.mu.Lock()
					e.acked = append(e.acked, enc.ID)
					e.mu.Unlock()
				}
			}
		}()
	}
	tb.Cleanup(e.Stop)
	return e
}

// Acked returns the IDs acknowledged so far.
func (e *enrollers) Acked() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.acked...)
}

// Stop stops the clients and waits for them.
func (e *enrollers) Stop() {
	e.once.Do(func() { close(e.stop) })
	e.wg.Wait()
}
