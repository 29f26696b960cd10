package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella/internal/natstest"
)

var snapshotLine = regexp.MustCompile(`Snapshot of (\d+) templates in 1 shards, up to gallery event (\d+)`)

// TestMatcherFromSnapshot runs the real binaries against a real JetStream
// server and the real S3 server: "huella snapshot" writes the gallery to
// the bucket, a replica started with --snapshots loads it from there (not
// from the store) and follows the gallery stream from the snapshot's
// event: a purge made after the snapshot reaches it, and so does a later
// enrollment, which it then finds alone (the other replica killed).
func TestMatcherFromSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	u, _ := mustS3Prefix(t, "snapshots-")
	ns := natstest.JetStream(t)
	data := t.TempDir()
	with := func(args ...string) []string { return append(args, "--data", data) }
	MustRun(t, with("site", "add", "--code", "MX-BENCH", "--name", "Snapshot test", "--country", "MEX", "--tz", "America/Mexico_City")...)
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	var logs [2]bytes.Buffer
	// No snapshot yet: the first replica loads from the store.
	first := startChild(t, &logs[0], with("matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--snapshots", u.String())...)
	addr := freeAddr(t)
	var serveLogs bytes.Buffer
	startChild(t, &serveLogs, with("serve", "--addr", addr, "--matchers", ns.ClientURL(), "--matcher-shards", "1", "--matcher-deadline", "20s")...)
	srv := &server{url: "http://" + addr, logs: &serveLogs}
	allLogs := func() string { return serveLogs.String() + logs[0].String() + logs[1].String() }
	waitLogging(t, 2*time.Minute, func() bool {
		code, _ := srv.getNoFail("", "/readyz")
		return code == 200 && strings.Contains(logs[0].String(), "serving")
	}, allLogs)
	if !strings.Contains(logs[0].String(), "(loaded from the store up to gallery event 0)") {
		t.Fatalf("with no snapshot written the first replica did not load from the store:\n%s", logs[0].String())
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	e := enrollOne(t, srv, officer, 1, images)
	if e.Identification.Decision != "new-subject" {
		t.Fatalf("first enrollment: %s", e.Identification.Decision)
	}
	out := MustRun(t, with("snapshot", "--snapshots", u.String(), "--shards", "1")...)
	m := snapshotLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("snapshot printed %q", out)
	}
	templates, _ := strconv.Atoi(m[1])
	seq, _ := strconv.Atoi(m[2])
	if templates == 0 || seq == 0 {
		t.Fatalf("snapshot of %d templates up to event %d: want the first enrollment's", templates, seq)
	}
	// After the snapshot: the subject purged. The replica loading the
	// snapshot holds it until it follows the stream past the purge.
	MustRun(t, with("purge", "--subject", e.SubjectID, "--reason", "court-order")...)
	startChild(t, &logs[1], with("matcher", "--shard", "0/1", "--matchers", ns.ClientURL(), "--snapshots", u.String())...)
	waitLogging(t, 2*time.Minute, func() bool { return strings.Contains(logs[1].String(), "serving") }, allLogs)
	want := "(loaded from the snapshot up to gallery event " + m[2] + ")"
	if !strings.Contains(logs[1].String(), want) || !strings.Contains(logs[1].String(), `"templates":`+m[1]) {
		t.Fatalf("the second replica did not load the snapshot's %s templates up to event %s:\n%s", m[1], m[2], logs[1].String())
	}
	waitLogging(t, 30*time.Second, func() bool {
		sizes := replicaSizes(t, nc)
		return len(sizes) == 2 && sizes[0] == 0 && sizes[1] == 0
	}, allLogs)

	// The first replica gone, the one loaded from the snapshot answers
	// alone: the purged person is new again, then found.
	first.Process.Kill()
	first.Wait()
	if e := enrollOne(t, srv, officer, 2, images); e.Identification.Decision != "new-subject" || e.Identification.Partial {
		t.Fatalf("the purged person enrolled again: %s partial %v, want new-subject", e.Identification.Decision, e.Identification.Partial)
	}
	if e := enrollOne(t, srv, officer, 3, images); e.Identification.Decision != "linked" || e.Identification.Partial {
		t.Fatalf("the same person a third time: %s partial %v, want linked by the replica loaded from the snapshot\n%s",
			e.Identification.Decision, e.Identification.Partial, allLogs())
	}
}
