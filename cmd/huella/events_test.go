package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella/internal/natstest"
	"github.com/huella-abis/huella/internal/pgtest"
)

// enrolled is what enrollOne reads of an enrollment's answer.
type enrolled struct {
	SubjectID      string `json:"subject_id"`
	Identification struct {
		Decision string
		Partial  bool
	}
}

// enrollOne enrolls the bench person i through the API.
func enrollOne(t *testing.T, srv *server, officer string, i int, images []benchImage) enrolled {
	t.Helper()
	body, ct := benchRequest(i, images)
	req, _ := http.NewRequest("POST", srv.url+"/v1/encounters", body)
	req.Header.Set("Authorization", "Bearer "+officer)
	req.Header.Set("Content-Type", ct)
	resp, err := (&http.Client{Timeout: 3 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll %d: %d %s", i, resp.StatusCode, b)
	}
	var e enrolled
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("enroll %d: %v", i, err)
	}
	return e
}

// replicaSizes asks the two replicas of shard 0/1 how many subjects each
// holds (an empty removal, which each replica answers with its gallery's
// size), and returns as soon as both answered.
func replicaSizes(t *testing.T, nc *nats.Conn) []int {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("huella.match.v1.1.0.update", inbox, []byte(`{"v":1,"op":"remove","subjects":[]}`)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for len(sizes) < 2 { // both replicas answered, or one is not up
		msg, err := sub.NextMsg(150 * time.Millisecond)
		if err != nil {
			return sizes
		}
		var r struct{ Subjects int }
		json.Unmarshal(msg.Data, &r)
		sizes = append(sizes, r.Subjects)
	}
	return sizes
}

// TestPurgeReachesEveryMatcher runs the real binaries on loopback: a NATS
// server with JetStream, two replicas of one shard, "serve --matchers" (the
// relay) and the CLI's "huella purge", on SQLite. The purge reaches both
// replicas within a second, through the outbox and the stream; a replica
// killed and started again holds what the store holds.
func TestPurgeReachesEveryMatcher(t *testing.T) {
	testPurgeReachesEveryMatcher(t, nil)
}

// TestPurgeReachesEveryMatcherPostgres is the same on PostgreSQL.
func TestPurgeReachesEveryMatcherPostgres(t *testing.T) {
	if os.Getenv("HUELLA_TEST_POSTGRES") == "" && os.Getenv("CI") != "true" {
		t.Skip("set HUELLA_TEST_POSTGRES to run")
	}
	testPurgeReachesEveryMatcher(t, []string{"--postgres", pgtest.MustSchema(t, "huella_events_")})
}

func testPurgeReachesEveryMatcher(t *testing.T, store []string) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ns := natstest.JetStream(t)
	data := t.TempDir()
	with := func(args ...string) []string { return append(append(args, "--data", data), store...) }
	MustRun(t, with("site", "add", "--code", "MX-BENCH", "--name", "Events test", "--country", "MEX", "--tz", "America/Mexico_City")...)
	officer := MustAddUser(t, data, append(store, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")...)
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	var logs [2]bytes.Buffer
	startChild(t, &logs[0], with("matcher", "--shard", "0/1", "--matchers", ns.ClientURL())...)
	second := startChild(t, &logs[1], with("matcher", "--shard", "0/1", "--matchers", ns.ClientURL())...)
	addr := freeAddr(t)
	var serveLogs bytes.Buffer
	startChild(t, &serveLogs, with("serve", "--addr", addr, "--matchers", ns.ClientURL(), "--matcher-shards", "1", "--matcher-deadline", "20s")...)
	srv := &server{url: "http://" + addr, logs: &serveLogs}
	allLogs := func() string { return serveLogs.String() + logs[0].String() + logs[1].String() }
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200 && strings.Contains(logs[0].String(), "serving") && strings.Contains(logs[1].String(), "serving")
	}, allLogs)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	e := enrollOne(t, srv, officer, 1, images)
	subject, decision := e.SubjectID, e.Identification.Decision
	if decision != "new-subject" {
		t.Fatalf("first enrollment: %s", decision)
	}
	waitLogging(t, 10*time.Second, func() bool {
		sizes := replicaSizes(t, nc)
		return len(sizes) == 2 && sizes[0] == 1 && sizes[1] == 1
	}, allLogs)
	// One replica killed -9 and started again: it loads the store and
	// follows the stream from there.
	second.Process.Kill()
	second.Wait()
	logs[1].Reset()
	startChild(t, &logs[1], with("matcher", "--shard", "0/1", "--matchers", ns.ClientURL())...)
	waitLogging(t, 2*time.Minute, func() bool { return strings.Contains(logs[1].String(), "serving") }, allLogs)

	started := time.Now()
	MustRun(t, with("purge", "--subject", subject, "--reason", "court-order")...)
	committed := time.Now() // the purge committed before the command returned
	var sizes []int
	for time.Since(committed) < 5*time.Second {
		if sizes = replicaSizes(t, nc); len(sizes) == 2 && sizes[0] == 0 && sizes[1] == 0 {
			break
		}
	}
	took := time.Since(committed)
	if len(sizes) != 2 || sizes[0] != 0 || sizes[1] != 0 {
		t.Fatalf("after the CLI purge the replicas hold %v subjects; want 0 on both\n%s", sizes, allLogs())
	}
	t.Logf("CLI purge reached both replicas %v after the command returned (%v after it started)",
		took.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("CLI purge reached the replicas %v after the command returned, want within a second", took)
	}
	// The next enrollment of the purged person is a new subject again.
	if decision := enrollOne(t, srv, officer, 2, images).Identification.Decision; decision != "new-subject" {
		t.Errorf("the purged person enrolled again: %s, want new-subject", decision)
	}
}

// gallerySize returns huella_gallery_subjects{gallery="subjects"} on
// /metrics, -1 if absent.
func gallerySize(s *server) float64 {
	_, body := s.getNoFail("", "/metrics")
	m := regexp.MustCompile(`(?m)^huella_gallery_subjects\{gallery="subjects"\} (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestPurgeReachesServer: on one box (no matchers, no stream) "huella
// purge" from the command line reaches the running server's gallery within
// a second: the server follows the store's outbox.
func TestPurgeReachesServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Events test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var serveLogs bytes.Buffer
	startChild(t, &serveLogs, "serve", "--data", data, "--addr", addr)
	srv := &server{url: "http://" + addr, logs: &serveLogs}
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200
	}, serveLogs.String)
	subject := enrollOne(t, srv, officer, 1, images).SubjectID
	if got := gallerySize(srv); got != 1 {
		t.Fatalf("gallery holds %v subjects after one enrollment", got)
	}
	started := time.Now()
	MustRun(t, "purge", "--data", data, "--subject", subject, "--reason", "court-order")
	committed := time.Now() // the purge committed before the command returned
	for gallerySize(srv) != 0 && time.Since(committed) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(committed)
	if got := gallerySize(srv); got != 0 {
		t.Fatalf("after the CLI purge the server's gallery holds %v subjects\n%s", got, serveLogs.String())
	}
	t.Logf("CLI purge reached the server %v after the command returned (%v after it started)",
		took.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("CLI purge reached the server %v after the command returned, want within a second", took)
	}
}

// TestResearchSurvivesRestart: an enrollment searched while the only shard
// was down is queued in the store; the API node is killed -9 and started
// again, the shard comes back, and the new API node completes the queued
// re-search and raises the hit the partial search missed.
func TestResearchSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ns := natstest.JetStream(t)
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Events test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	var matcherLogs, serveLogs bytes.Buffer
	matcher := startChild(t, &matcherLogs, "matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--data", data)
	serveArgs := []string{"serve", "--data", data, "--addr", freeAddr(t), "--matchers", ns.ClientURL(), "--matcher-shards", "1", "--matcher-deadline", "20s"}
	serve := startChild(t, &serveLogs, serveArgs...)
	srv := &server{url: "http://" + serveArgs[4], logs: &serveLogs}
	logs := func() string { return serveLogs.String() + matcherLogs.String() }
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200 && strings.Contains(matcherLogs.String(), "serving")
	}, logs)
	if d := enrollOne(t, srv, officer, 1, images).Identification.Decision; d != "new-subject" {
		t.Fatalf("first enrollment: %s", d)
	}
	matcher.Process.Kill()
	matcher.Wait()
	if d := enrollOne(t, srv, officer, 2, images).Identification.Decision; d != "review" {
		t.Fatalf("the same person with the only shard down: %s, want review", d)
	}
	if got := metric(srv, "huella_research_pending"); got != 1 {
		t.Fatalf("huella_research_pending = %v, want 1", got)
	}
	serve.Process.Kill() // kill -9: nothing kept in memory survives
	serve.Wait()
	serveLogs.Reset()
	startChild(t, &serveLogs, serveArgs...)
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200
	}, logs)
	if got := metric(srv, "huella_research_pending"); got != 1 {
		t.Errorf("after the API node's restart huella_research_pending = %v, want 1", got)
	}
	matcherLogs.Reset()
	startChild(t, &matcherLogs, "matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--data", data)
	waitLogging(t, 2*time.Minute, func() bool {
		return metric(srv, "huella_research_completed_total") == 1
	}, logs)
	if got := metric(srv, "huella_research_hits_total"); got != 1 {
		t.Errorf("huella_research_hits_total = %v, want 1 (the hit the partial search missed)", got)
	}
	if got := metric(srv, "huella_research_pending"); got != 0 {
		t.Errorf("huella_research_pending = %v after the re-search, want 0", got)
	}
}
