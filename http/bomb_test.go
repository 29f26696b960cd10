package http_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/hostile"
)

// sampleJSON is an encounter at MX-TAP with one sample of the modality.
func sampleJSON(modality string, ppi int) string {
	s := fmt.Sprintf(`{"image": "img", "modality": %q, "ppi": %d`, modality, ppi)
	switch modality {
	case "finger":
		s += `, "position": 2, "impression": "plain"`
	case "iris":
		s += `, "eye": "right"`
	}
	return strings.Replace(encounterJSON("MX-TAP"),
		`[{"image": "f2", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}]`, "["+s+"}]", 1)
}

// TestDecompressionBombs sends each hostile image as a sample: every one
// is refused, at once (from its header, before its pixels are decoded),
// and nothing is stored (issue 18, finding 3).
func TestDecompressionBombs(t *testing.T) {
	e := MustOpenEnv(t)
	before := e.snapshot()
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			start := time.Now()
			resp, body := e.enroll("officer", sampleJSON(c.Modality, c.PPI), part{name: "img", data: c.Data})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("got %d %s, want a refusal", resp.StatusCode, body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v to refuse: the image was decoded", d)
			}
		})
	}
	if after := e.snapshot(); after != before {
		t.Errorf("refused bombs changed the records: %+v, want %+v", after, before)
	}
}

// rss returns the resident memory of this process in bytes.
func rss(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	tb.Skip("no VmRSS")
	return 0
}

// TestUploadsUnderMemoryBound sends 16 worst-case uploads at once: bodies
// at the size cap filled with images at the capture limit, bombs, and a
// chunked body that never ends. The process (server and client) stays
// under 1 GB resident, and every request is answered (issue 18, finding 3).
func TestUploadsUnderMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("sends about 1 GB of uploads")
	}
	e := MustOpenEnv(t)
	// The largest request: three 20 MB fingers at 2000×2000, near the 64 MB cap.
	finger := hostile.PadPNG(hostile.BombPNG(2000, 2000), 20<<20-1024)
	full := strings.Replace(encounterJSON("MX-TAP"),
		`[{"image": "f2", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}]`,
		`[{"image": "a", "modality": "finger", "position": 1, "impression": "plain", "ppi": 500},
		  {"image": "b", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500},
		  {"image": "c", "modality": "finger", "position": 3, "impression": "plain", "ppi": 500}]`, 1)
	fullBody, fullType := multipartBody(t, full, part{"a", finger}, part{"b", finger}, part{"c", finger})
	bomb := hostile.Cases()[0]
	bombBody, bombType := multipartBody(t, sampleJSON(bomb.Modality, bomb.PPI), part{"img", bomb.Data})

	var peak int64
	done := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if m := rss(t); m > peak {
				peak = m
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	base := rss(t)
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body io.Reader
			ct := fullType
			switch i % 4 {
			case 0, 1:
				body = bytes.NewReader(fullBody.Bytes())
			case 2:
				body, ct = bytes.NewReader(bombBody.Bytes()), bombType
			case 3:
				// Chunked, with no declared length, and far past the cap.
				body = io.MultiReader(bytes.NewReader(fullBody.Bytes()), bytes.NewReader(fullBody.Bytes()))
			}
			req, _ := http.NewRequest("POST", e.srv.URL+"/v1/encounters", body)
			req.Header.Set("Authorization", "Bearer "+e.tokens["officer"])
			req.Header.Set("Content-Type", ct)
			if i%4 == 3 {
				req.ContentLength = -1
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses[i] = -1 // the server may close a connection it refused
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(done)
	sampler.Wait()
	t.Logf("16 uploads in %v; resident memory %d MB before, %d MB at peak; statuses %v",
		time.Since(start).Round(time.Millisecond), base>>20, peak>>20, statuses)
	if peak > 1<<30 {
		t.Errorf("resident memory peaked at %d MB, want under 1024 MB", peak>>20)
	}
	for i, s := range statuses {
		if s >= 500 {
			t.Errorf("upload %d: status %d", i, s)
		}
		if i%4 == 3 && s != http.StatusRequestEntityTooLarge && s != -1 {
			t.Errorf("upload %d (chunked past the cap): status %d, want 413", i, s)
		}
	}
}
