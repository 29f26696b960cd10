package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/natstest"
)

// startChild runs the huella binary with args as a child process, killed
// at the end of the test.
func startChild(tb testing.TB, logs *bytes.Buffer, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestServeWithMatchers runs the real binaries on loopback: a NATS server,
// one matcher of one shard and "serve --matchers". The same person
// enrolled twice is linked through the matcher; with the matcher killed,
// an enrollment is a partial review (never a new subject); with it back,
// the queued re-search completes and raises the hit.
func TestServeWithMatchers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ns := natstest.Server(t)
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Shard test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	var matcherLogs bytes.Buffer
	matcher := startChild(t, &matcherLogs, "matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--data", data)
	addr := freeAddr(t)
	var serveLogs bytes.Buffer
	startChild(t, &serveLogs, "serve", "--data", data, "--addr", addr, "--matchers", ns.ClientURL(), "--matcher-shards", "1", "--matcher-deadline", "20s")
	srv := &server{url: "http://" + addr, logs: &serveLogs}
	waitLogging(t, 60*time.Second, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200 && strings.Contains(matcherLogs.String(), "serving")
	}, func() string { return serveLogs.String() + matcherLogs.String() })

	enroll := func(i int) (decision string, partial bool) {
		t.Helper()
		e := enrollOne(t, srv, officer, i, images)
		return e.Identification.Decision, e.Identification.Partial
	}
	if d, p := enroll(1); d != "new-subject" || p {
		t.Fatalf("first enrollment: %s partial %v, want new-subject", d, p)
	}
	if d, p := enroll(2); d != "linked" || p {
		t.Fatalf("the same person again: %s partial %v, want linked through the matcher", d, p)
	}
	matcher.Process.Kill() // kill -9: no goodbye to NATS
	matcher.Wait()
	if d, p := enroll(3); d != "review" || !p {
		t.Fatalf("the same person with the only shard down: %s partial %v, want a partial review", d, p)
	}
	var restarted bytes.Buffer
	startChild(t, &restarted, "matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--data", data)
	waitLogging(t, 2*time.Minute, func() bool {
		return metric(srv, "huella_research_completed_total") == 1
	}, func() string { return serveLogs.String() + restarted.String() })
	if got := metric(srv, "huella_identify_partial_total"); got != 1 {
		t.Errorf("huella_identify_partial_total = %v, want 1", got)
	}
	if got := metric(srv, "huella_research_hits_total"); got != 1 {
		t.Errorf("huella_research_hits_total = %v, want 1 (the hit the partial search missed)", got)
	}
}

// getNoFail is get without a test to fail: 0 when the server is not up.
func (s *server) getNoFail(token, path string) (int, []byte) {
	req, _ := http.NewRequest("GET", s.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// metric returns the value of an unlabelled metric on /metrics, -1 if absent.
func metric(s *server, name string) float64 {
	_, body := s.getNoFail("", "/metrics")
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// waitLogging polls ok until it holds or the timeout passes.
func waitLogging(tb testing.TB, timeout time.Duration, ok func() bool, logs func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("timed out; logs:\n%s", logs())
}
