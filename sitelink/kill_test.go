package sitelink_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
	"github.com/huella-abis/huella/sitelink"
)

// Environment of the site node TestKillSiteMidSync runs as a child
// process (this test binary again).
const (
	childMode = "HUELLA_SITE_CHILD"      // "enroll" or "drain"
	childDir  = "HUELLA_SITE_CHILD_DIR"  // the node's store and blobs
	childHub  = "HUELLA_SITE_CHILD_HUB"  // the hub's leaf URL
	childSeed = "HUELLA_SITE_CHILD_SEED" // the site's nkey seed
	childN    = "HUELLA_SITE_CHILD_N"    // encounters to enroll
)

// TestKillSiteMidSync kills a site node (a real child process) with
// SIGKILL while it enrolls and its relay sends to the center, starts it
// again on the same store, and lets it drain: every encounter the site
// stored reaches the center exactly once, each answered with its own
// center encounter, nothing is left pending, and both audit chains hold.
func TestKillSiteMidSync(t *testing.T) {
	switch os.Getenv(childMode) {
	case "enroll", "drain":
		runSiteChild(t)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	center := mustOpenNode(t, "MX-TIJ")
	seeds, keys := siteKeys(t, "MX-TIJ")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)
	atCenter := func() []*huella.Encounter {
		t.Helper()
		list, err := center.store.ListEncounters(ctx, huella.EncounterFilter{Sites: []string{"MX-TIJ"}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	dir := t.TempDir()
	const total = 60
	start := func(mode string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillSiteMidSync$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childMode+"="+mode, childDir+"="+dir, childHub+"="+hub.LeafURL(),
			childSeed+"="+string(seeds["MX-TIJ"]), childN+"="+strconv.Itoa(total))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}

	child, out := start("enroll")
	waitFor(t, "the center receiving the site's encounters", 120*time.Second, func() bool { return len(atCenter()) >= 8 })
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := len(atCenter())

	site := mustOpenNodeAt(t, dir)
	site.store.KeepSiteOutbox()
	stored, err := site.store.ListEncounters(ctx, huella.EncounterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	pending := backlog(t, site)
	site.store.Close()
	t.Logf("killed with %d encounters stored at the site, %d pending, %d at the center", len(stored), pending, killedAt)
	if pending == 0 || len(stored) >= total {
		t.Fatalf("the kill came too late to be in the middle of the sync (%d of %d stored, %d pending)\n%s", len(stored), total, pending, out)
	}

	child, out = start("drain")
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the restarted site: %v\n%s", err, out)
		}
	case <-time.After(120 * time.Second):
		child.Process.Kill()
		t.Fatalf("the restarted site did not drain in 120 s\n%s", out)
	}

	site = mustOpenNodeAt(t, dir)
	site.store.KeepSiteOutbox()
	after, err := site.store.ListEncounters(ctx, huella.EncounterFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(stored) {
		t.Errorf("the site holds %d encounters after the restart, %d before: lost or made", len(after), len(stored))
	}
	centerIDs := map[string]bool{}
	subjects := map[string]bool{}
	for _, e := range atCenter() {
		centerIDs[e.ID], subjects[e.SubjectID] = true, true
	}
	if len(centerIDs) != len(stored) || len(subjects) != len(stored) {
		t.Errorf("the center holds %d encounters of %d subjects from the site, want %d of each: exactly once",
			len(centerIDs), len(subjects), len(stored))
	}
	answered := map[string]bool{}
	for _, e := range after {
		c := e.Central
		switch {
		case c == nil || c.State != huella.CentralIdentified:
			t.Errorf("%s: central %+v, want identified", e.ID, c)
		case !centerIDs[c.EncounterID] || answered[c.EncounterID]:
			t.Errorf("%s: answered with %s, not one of the center's or answering two", e.ID, c.EncounterID)
		default:
			answered[c.EncounterID] = true
		}
	}
	for name, s := range map[string]huella.Store{"site": site.store, "center": center.store} {
		report, err := audit.Verify(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if report.Break != nil {
			t.Errorf("the %s's audit chain breaks: %s", name, report.Break)
		}
	}
}

// runSiteChild is the site node of TestKillSiteMidSync: "enroll" enrolls
// the encounters while its relay sends them, and waits to be killed;
// "drain" sends what its outbox holds and returns.
func runSiteChild(t *testing.T) {
	n := mustOpenNodeAt(t, os.Getenv(childDir), "MX-TIJ")
	n.store.KeepSiteOutbox()
	leaf, err := sitelink.OpenLeaf(sitelink.LeafConfig{Site: "MX-TIJ", Hub: os.Getenv(childHub),
		Seed: []byte(os.Getenv(childSeed)), Reconnect: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer leaf.Close()
	r := &sitelink.Relay{Store: n.store, Blobs: n.blobs, Send: leaf.Send, Workers: 4, Retry: 50 * time.Millisecond}
	r.Open(context.Background())
	defer r.Close()
	n.enroll.OnEnrolled = func(*huella.Encounter) { r.Kick() }
	if os.Getenv(childMode) == "enroll" {
		total, _ := strconv.Atoi(os.Getenv(childN))
		for i := range total {
			enrollAt(t, n, "MX-TIJ", 1, uint64(9000+i))
		}
		select {} // until killed
	}
	waitFor(t, "drained", 110*time.Second, func() bool { return backlog(t, n) == 0 })
}

// Environment of the center TestKillCenterMidSync runs as a child process.
const (
	centerChildDir  = "HUELLA_CENTER_CHILD_DIR"  // the center's store and blobs
	centerChildAddr = "HUELLA_CENTER_CHILD_ADDR" // the hub's leaf address
	centerChildKey  = "HUELLA_CENTER_CHILD_KEY"  // MX-TIJ's public nkey
)

// TestKillCenterMidSync kills the center (a real child process) with
// SIGKILL while a site's relay sends it a backlog, starts it again on the
// same store and address, and lets the site finish: every encounter the
// site stored reaches the center exactly once, each answered with its own
// center encounter, and both audit chains verify.
func TestKillCenterMidSync(t *testing.T) {
	if os.Getenv(centerChildDir) != "" {
		runCenterChild(t)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
	seeds, keys := siteKeys(t, "MX-TIJ")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillCenterMidSync$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), centerChildDir+"="+dir, centerChildAddr+"="+addr, centerChildKey+"="+keys[0].PublicKey)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &out
	}
	kill := func(cmd *exec.Cmd) {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}

	const total = 40
	site := mustOpenNode(t, "MX-TIJ")
	site.store.KeepSiteOutbox()
	ids := enrollAt(t, site, "MX-TIJ", total, 7000) // a backlog before the center is up
	center, out := start()
	leaf := MustOpenLeaf(t, "MX-TIJ", "nats-leaf://"+addr, seeds["MX-TIJ"])
	r := &sitelink.Relay{Store: site.store, Blobs: site.blobs, Send: leaf.Send, Workers: 4, Retry: 50 * time.Millisecond}
	r.Open(context.Background())
	t.Cleanup(func() { r.Close() })
	waitFor(t, "the center answering", 120*time.Second, func() bool { return backlog(t, site) <= total-5 })
	kill(center)
	left := backlog(t, site)
	t.Logf("center killed with %d of %d encounters answered", total-left, total)
	if left == 0 {
		t.Fatalf("the kill came too late to be in the middle of the sync\n%s", out)
	}
	center, out = start()
	waitFor(t, "the backlog drained by the restarted center", 120*time.Second, func() bool { return backlog(t, site) == 0 })
	kill(center)

	c := mustOpenNodeAt(t, dir)
	atCenter, err := c.store.ListEncounters(ctx, huella.EncounterFilter{Sites: []string{"MX-TIJ"}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	centerIDs, subjects := map[string]bool{}, map[string]bool{}
	for _, e := range atCenter {
		centerIDs[e.ID], subjects[e.SubjectID] = true, true
	}
	if len(centerIDs) != total || len(subjects) != total {
		t.Errorf("the center holds %d encounters of %d subjects, want %d of each: exactly once\n%s", len(centerIDs), len(subjects), total, out)
	}
	answered := map[string]bool{}
	for _, id := range ids {
		e, err := site.store.FindEncounter(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch ce := e.Central; {
		case ce == nil || ce.State != huella.CentralIdentified:
			t.Errorf("%s: central %+v, want identified", id, ce)
		case !centerIDs[ce.EncounterID] || answered[ce.EncounterID]:
			t.Errorf("%s: answered with %s, not one of the center's or answering two", id, ce.EncounterID)
		default:
			answered[ce.EncounterID] = true
		}
	}
	for name, s := range map[string]huella.Store{"site": site.store, "center": c.store} {
		report, err := audit.Verify(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if report.Break != nil {
			t.Errorf("the %s's audit chain breaks: %s", name, report.Break)
		}
	}
}

// runCenterChild is the center of TestKillCenterMidSync: it answers
// MX-TIJ's encounters until killed.
func runCenterChild(t *testing.T) {
	n := mustOpenNodeAt(t, os.Getenv(centerChildDir), "MX-TIJ")
	receiver := &sitelink.Center{Enroll: n.enroll, Store: n.store}
	hub, err := sitelink.OpenHub(sitelink.HubConfig{Listen: os.Getenv(centerChildAddr),
		Sites: []sitelink.SiteKey{{Code: "MX-TIJ", PublicKey: os.Getenv(centerChildKey)}}, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	if err := hub.Serve(context.Background(), receiver.Receive); err != nil {
		t.Fatal(err)
	}
	select {} // until killed
}
