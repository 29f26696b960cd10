package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella/forward"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/partnersim"
)

// mustServeForwarding starts "huella serve" like MustServe, with a short
// ack wait so that a delivery held by the killed process comes back soon.
func mustServeForwarding(tb testing.TB, data, addr string) *server {
	tb.Helper()
	s := &server{url: "http://" + addr, logs: &bytes.Buffer{}}
	s.cmd = exec.Command(os.Args[0], "serve", "--data", data, "--addr", addr, "--forward-ack-wait", "2s")
	s.cmd.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, s.logs
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
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

// convictionRequest is an enrollment of one fingerprint declaring a
// conviction: the smallest encounter that forwards.
func convictionRequest(i int, finger []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	enc := map[string]any{
		"site": "MX-BENCH", "captured_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "reason": "apprehension",
		"criminal_history": map[string]any{"status": "conviction", "offence": "robo"},
		"biographics":      map[string]any{"names": []any{map[string]any{"given": "Forward", "family": fmt.Sprint(i)}}, "sex": "U"},
		"samples":          []any{map[string]any{"image": "f1", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}},
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="encounter"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	json.NewEncoder(w).Encode(enc)
	fw, _ := mw.CreateFormFile("f1", "image")
	fw.Write(uniqueImage(finger, []byte(fmt.Sprintf("forward %d %d", i, time.Now().UnixNano()))))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// TestForwardKill9 enrolls encounters declaring convictions from several
// clients while the partner is slow, kills "huella serve" with SIGKILL at
// a random point of the burst, restarts it, three times over, and checks
// that every acknowledged conviction reaches the partner, each exactly
// once in effect, with its receipt recorded.
func TestForwardKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Forward test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	admin := MustAddUser(t, data, "--name", "admin", "--role", "admin")
	sim := partnersim.New(nil)
	sim.SetMode(partnersim.ModeSlow, 150*time.Millisecond) // deliveries are in flight when the kill comes
	partner := httptest.NewServer(sim)
	defer partner.Close()
	MustRun(t, "partner", "add", "--data", data, "--code", "GT-PNC", "--name", "Policía Nacional Civil", "--endpoint", partner.URL+"/deliveries")
	MustRun(t, "partner", "agreement", "add", "--data", data, "--partner", "GT-PNC", "--trigger", "conviction",
		"--modality", "finger", "--field", "names", "--field", "criminal_history", "--legal-basis", "MoU GT-MX 2026 art. 4", "--require-ack")
	addr := freeAddr(t)
	srv := mustServeForwarding(t, data, addr)
	sim.JWKSURL = srv.url + "/.well-known/jwks.json" // fetched on the first delivery
	finger, err := demo.Fixture("finger-101_1.png")
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var acked []string
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	var appliedAtKills []int
	const rounds = 3
	for round := range rounds {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range 3 {
			wg.Go(func() {
				client := &http.Client{Timeout: 30 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body, ct := convictionRequest(round*1000000+c*100000+i, finger)
					req, _ := http.NewRequest("POST", srv.url+"/v1/encounters", body)
					req.Header.Set("Authorization", "Bearer "+officer)
					req.Header.Set("Content-Type", ct)
					resp, err := client.Do(req)
					if err != nil {
						continue // the server died under us: not acknowledged
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						var e struct{ ID string }
						if json.Unmarshal(b, &e) == nil {
							mu.Lock()
							acked = append(acked, e.ID)
							mu.Unlock()
						}
					}
				}
			})
		}
		// Kill at a random point once the burst is under way and deliveries flow.
		ackedBefore, appliedBefore := countAcked(), sim.Stats().Applied
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) && (countAcked() < ackedBefore+8 || sim.Stats().Applied < appliedBefore+2) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(600)) * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		srv.cmd.Wait()
		close(stop)
		wg.Wait()
		appliedAtKills = append(appliedAtKills, sim.Stats().Applied)
		if countAcked() < ackedBefore+8 {
			t.Fatalf("round %d: only %d convictions acknowledged before the deadline", round, countAcked()-ackedBefore)
		}
		if round == rounds-1 {
			sim.SetMode(partnersim.ModeOK, 0)
		}
		srv = mustServeForwarding(t, data, addr)
	}
	mu.Lock()
	ackedIDs := append([]string(nil), acked...)
	mu.Unlock()

	byEncounter := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		clear(byEncounter)
		for _, r := range sim.Received() {
			if r.Document != nil {
				byEncounter[r.Document.EncounterRef]++
			}
		}
		missing := 0
		for _, id := range ackedIDs {
			if byEncounter[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged convictions never reached the partner (simulator %+v)\n%s",
				missing, len(ackedIDs), sim.Stats(), srv.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for encounter, n := range byEncounter {
		if n != 1 {
			t.Errorf("encounter %s applied %d times, want once", encounter, n)
		}
	}
	// Every delivery the store holds ends delivered, with the simulator's
	// receipt: one the partner applied just before the kill is sent again
	// once the queue hands it out anew, and answered with its first receipt.
	var deliveries []struct {
		ID, State, Receipt string
		EncounterID        string `json:"encounter_id"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, body := srv.get(t, admin, "/v1/deliveries?limit=1000")
		if code != 200 {
			t.Fatalf("deliveries: %d %s", code, body)
		}
		deliveries = nil
		json.Unmarshal(body, &deliveries)
		done := 0
		for _, d := range deliveries {
			if d.State == "delivered" {
				done++
			}
		}
		if done == len(deliveries) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	receipts := map[string]string{}
	for _, r := range sim.Received() {
		receipts[r.IdempotencyKey] = r.Receipt
	}
	for _, d := range deliveries {
		if d.State != "delivered" || d.Receipt == "" || receipts[d.ID] != d.Receipt {
			t.Errorf("delivery %s: %s with receipt %q, simulator's %q", d.ID, d.State, d.Receipt, receipts[d.ID])
		}
	}
	st := sim.Stats()
	t.Logf("%d convictions acknowledged, %d deliveries stored; partner applied %v at the %d kills and %d in all, %d repeats answered, %d rejected",
		len(ackedIDs), len(deliveries), appliedAtKills, rounds, st.Applied, st.Duplicates, st.Rejected)
	if st.Applied != len(deliveries) {
		t.Errorf("partner applied %d deliveries, store holds %d", st.Applied, len(deliveries))
	}
}

// TestPartnerCommands drives "huella partner" and "huella partner-sim".
func TestPartnerCommands(t *testing.T) {
	data := t.TempDir()
	MustRun(t, "partner", "add", "--data", data, "--code", "GT-PNC", "--name", "PNC", "--endpoint", "https://pnc.example.gt/huella")
	var stderr bytes.Buffer
	err := Run(context.Background(), []string{"partner", "add", "--data", data, "--code", "GT-PNC", "--name", "PNC", "--endpoint", "https://x.example"}, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("adding a partner twice: %v, want a conflict", err)
	}
	if out := MustRun(t, "partner", "list", "--data", data); !strings.Contains(out, "GT-PNC\tjson\tenabled\thttps://pnc.example.gt/huella") {
		t.Errorf("partner list = %q", out)
	}
	out := MustRun(t, "partner", "agreement", "add", "--data", data, "--partner", "GT-PNC", "--trigger", "hit", "--category", "wanted",
		"--modality", "face", "--field", "names", "--legal-basis", "MoU art. 4")
	id := strings.Fields(out)[1]
	if !strings.HasPrefix(id, "agr_") {
		t.Fatalf("agreement add = %q", out)
	}
	if out := MustRun(t, "partner", "agreement", "list", "--data", data); !strings.Contains(out, id+"\tGT-PNC\tactive\ttriggers=hit categories=wanted modalities=face fields=names") {
		t.Errorf("agreement list = %q", out)
	}
	MustRun(t, "partner", "agreement", "revoke", "--data", data, "--id", id)
	if out := MustRun(t, "partner", "agreement", "list", "--data", data, "--partner", "GT-PNC"); !strings.Contains(out, "revoked") {
		t.Errorf("agreement list after revoke = %q", out)
	}
	MustRun(t, "partner", "disable", "--data", data, "--code", "GT-PNC")
	if out := MustRun(t, "partner", "list", "--data", data); !strings.Contains(out, "disabled") {
		t.Errorf("partner list after disable = %q", out)
	}
	if out := MustRun(t, "partner", "deliveries", "--data", data); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "ID\t") {
		t.Errorf("deliveries = %q, want the header and no row", out)
	}
	if out := MustRun(t, "partner", "list", "--data", data, "--json"); !strings.Contains(out, `"code":"GT-PNC"`) {
		t.Errorf("partner list --json = %q", out)
	}
	jwks := MustRun(t, "partner", "keys", "--data", data)
	if !strings.Contains(jwks, `"crv": "Ed25519"`) {
		t.Fatalf("partner keys = %q", jwks)
	}
	if out := MustRun(t, "partner", "rotate-key", "--data", data); !strings.Contains(out, "is current") {
		t.Errorf("rotate-key = %q", out)
	}
	jwks = MustRun(t, "partner", "keys", "--data", data)
	if n := strings.Count(jwks, `"kid"`); n != 2 {
		t.Errorf("%d keys published after a rotation, want 2", n)
	}
	keysFile := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(keysFile, []byte(jwks), 0o600)

	t.Run("PartnerSim", func(t *testing.T) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, []string{"partner-sim", "--addr", addr, "--jwks-file", keysFile, "--dir", t.TempDir()}, io.Discard, io.Discard)
		}()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("partner-sim: %v", err)
			}
		}()
		ring, err := forward.LoadOrCreateKeyRing(filepath.Join(data, "keys", "signing"))
		if err != nil {
			t.Fatal(err)
		}
		post := func(key string, body []byte, sign []byte) int {
			sig, kid, _ := ring.Sign("", sign)
			req, _ := http.NewRequest("POST", "http://"+addr+"/deliveries", bytes.NewReader(body))
			req.Header.Set(forward.HeaderIdempotencyKey, key)
			req.Header.Set(forward.HeaderKeyID, kid)
			req.Header.Set(forward.HeaderSignature, sig)
			req.Header.Set("Content-Type", "application/json")
			var resp *http.Response
			for range 100 { // the simulator may still be starting
				if resp, err = http.DefaultClient.Do(req); err == nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		body := []byte(`{"delivery_id":"dlv_1"}`)
		if got := post("dlv_1", body, body); got != 200 {
			t.Errorf("signed delivery: status %d, want 200", got)
		}
		if got := post("dlv_2", []byte(`{"delivery_id":"dlv_2"}`), body); got != 401 {
			t.Errorf("tampered delivery: status %d, want 401", got)
		}
		resp, err := http.Post("http://"+addr+"/control", "application/json", strings.NewReader(`{"mode":"fail"}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("control: %v", err)
		}
		if got := post("dlv_3", body, body); got != 503 {
			t.Errorf("in fail mode: status %d, want 503", got)
		}
	})
}

// TestForwardLatencyServe measures, through the real binary, the time from
// the commit of an enrollment declaring a conviction (the delivery's
// CreatedAt, written in the same transaction) to the partner's receipt.
func TestForwardLatencyServe(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Forward test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	admin := MustAddUser(t, data, "--name", "admin", "--role", "admin")
	sim := partnersim.New(nil)
	partner := httptest.NewServer(sim)
	defer partner.Close()
	MustRun(t, "partner", "add", "--data", data, "--code", "GT-PNC", "--name", "PNC", "--endpoint", partner.URL+"/deliveries")
	MustRun(t, "partner", "agreement", "add", "--data", data, "--partner", "GT-PNC", "--trigger", "conviction",
		"--modality", "finger", "--field", "names", "--legal-basis", "MoU GT-MX 2026 art. 4", "--require-ack")
	srv := mustServeForwarding(t, data, freeAddr(t))
	sim.JWKSURL = srv.url + "/.well-known/jwks.json"
	finger, err := demo.Fixture("finger-101_1.png")
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		body, ct := convictionRequest(i, finger)
		req, _ := http.NewRequest("POST", srv.url+"/v1/encounters", body)
		req.Header.Set("Authorization", "Bearer "+officer)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("enroll: status %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(sim.Received()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	code, body := srv.get(t, admin, "/v1/deliveries?limit=1000")
	if code != 200 {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	var deliveries []struct {
		ID        string
		CreatedAt time.Time `json:"created_at"`
	}
	json.Unmarshal(body, &deliveries)
	created := map[string]time.Time{}
	for _, d := range deliveries {
		created[d.ID] = d.CreatedAt
	}
	var latencies []time.Duration
	for _, r := range sim.Received() {
		if at, ok := created[r.IdempotencyKey]; ok {
			latencies = append(latencies, r.At.Sub(at))
		}
	}
	if len(latencies) != n {
		t.Fatalf("%d of %d deliveries received", len(latencies), n)
	}
	slices.Sort(latencies)
	p50, p95 := latencies[n/2-1], latencies[(95*n+99)/100-1]
	t.Logf("commit to receipt through huella serve over %d convictions: p50 %v, p95 %v, max %v", n, p50, p95, latencies[n-1])
	if p95 > time.Second {
		t.Errorf("p95 %v, want at most 1 s", p95)
	}
}
