package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/evaluation"
	hhttp "github.com/huella-abis/huella/http"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/internal/hostile"
)

// enrollBenchResult is the JSON line "huella bench enroll" prints.
type enrollBenchResult struct {
	Store        string  `json:"store"`
	Encounters   int     `json:"encounters"`
	Concurrency  int     `json:"concurrency"`
	ImagesPerEnc int     `json:"images_per_encounter"`
	BytesPerEnc  int     `json:"bytes_per_encounter"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"encounters_per_s"`
	P50Millis    float64 `json:"p50_ms"`
	P95Millis    float64 `json:"p95_ms"`
	Errors       int     `json:"errors"`
	// The hostile mix (--hostile N): uploads sent by N other clients
	// meanwhile, how many were answered with a refusal (4xx) and with a
	// server error (5xx), and the process's resident memory at its peak.
	Hostile         int   `json:"hostile_clients,omitempty"`
	HostileSent     int   `json:"hostile_sent,omitempty"`
	HostileRefused  int   `json:"hostile_refused,omitempty"`
	HostileAccepted int   `json:"hostile_accepted,omitempty"`
	HostileErrors   int   `json:"hostile_errors,omitempty"`
	PeakRSSMB       int64 `json:"peak_rss_mb,omitempty"`
}

// runBenchEnroll measures the enrollment storage path over real HTTP on
// loopback: encounters of ten finger images, two irises and a face, each
// image made unique so that content addressing cannot skip a write. With
// --identify the engines extract and search too. With --hostile N, N more
// clients send hostile uploads meanwhile (decompression bombs, lying
// headers, bodies at and past the size cap with images at the capture
// limit) and the run fails when the process's resident memory passes
// --max-rss or the honest enrollments' p95 latency passes --max-p95.
func runBenchEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flag.NewFlagSet("bench enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.registerFlags(fs, false)
	n := fs.Int("encounters", 500, "encounters to enroll")
	concurrency := fs.Int("concurrency", 8, "concurrent clients")
	asJSON := fs.Bool("json", false, "print the result as one JSON line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	identify := fs.Bool("identify", false, "extract templates and search the galleries too (loads the engines)")
	hostileClients := fs.Int("hostile", 0, "clients sending hostile uploads meanwhile")
	maxRSS := fs.Int64("max-rss", 1024, "with --hostile: fail when resident memory passes this many MB")
	maxP95 := fs.Duration("max-p95", 0, "with --hostile: fail when the honest p95 latency passes this (0: no bound)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if cfg.Data == "./huella-data" {
		dir, err := os.MkdirTemp("", "huella-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
	}
	app, err := OpenApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer app.Close()
	if *identify {
		if err := app.StartIdentification(ctx); err != nil {
			return err
		}
		if err := app.WaitIdentification(ctx); err != nil {
			return err
		}
	}
	if err := app.HTTP.Open("127.0.0.1:0"); err != nil {
		return err
	}
	token, err := benchOfficer(ctx, app.Store)
	if err != nil {
		return err
	}
	images, err := benchImages()
	if err != nil {
		return err
	}
	bytesPerEnc := 0
	for _, im := range images {
		bytesPerEnc += len(im.data)
	}

	jobs := make(chan int)
	var mu sync.Mutex
	var latencies []time.Duration
	errCount := 0
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 60 * time.Second}
	start := time.Now()
	hostileDone := make(chan struct{})
	var hostileWG sync.WaitGroup
	var hostileStats hostileResult
	if *hostileClients > 0 {
		hostileWG.Add(1)
		go func() {
			defer hostileWG.Done()
			hostileStats = sendHostile(ctx, app.HTTP.URL(), token, *hostileClients, hostileDone)
		}()
	}
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body, ct := benchRequest(i, images)
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", app.HTTP.URL()+"/v1/encounters", body)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", ct)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusCreated
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				if ok {
					latencies = append(latencies, time.Since(t0))
				} else {
					errCount++
				}
				evaluation.Progress(ctx, "encounters", len(latencies)+errCount, *n)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(hostileDone)
	hostileWG.Wait()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	storeName := "sqlite"
	if cfg.Postgres != "" {
		storeName = "postgres"
	}
	r := enrollBenchResult{Store: storeName, Encounters: len(latencies), Concurrency: *concurrency,
		ImagesPerEnc: len(images), BytesPerEnc: bytesPerEnc, Seconds: elapsed.Seconds(),
		PerSecond: float64(len(latencies)) / elapsed.Seconds(), P50Millis: pct(0.50), P95Millis: pct(0.95), Errors: errCount}
	fmt.Fprintf(stdout, "%s: %d encounters (%d images, %d KB each) in %.1f s: %.1f encounters/s, p50 %.0f ms, p95 %.0f ms, %d errors\n",
		r.Store, r.Encounters, r.ImagesPerEnc, r.BytesPerEnc/1024, r.Seconds, r.PerSecond, r.P50Millis, r.P95Millis, r.Errors)
	var bounds []error
	if *hostileClients > 0 {
		r.Hostile, r.HostileSent, r.HostileRefused = *hostileClients, hostileStats.sent, hostileStats.refused
		r.HostileAccepted, r.HostileErrors, r.PeakRSSMB = hostileStats.accepted, hostileStats.errors, peakRSS()>>20
		fmt.Fprintf(stdout, "hostile: %d clients sent %d uploads: %d refused, %d accepted, %d server errors; peak resident memory %d MB\n",
			r.Hostile, r.HostileSent, r.HostileRefused, r.HostileAccepted, r.HostileErrors, r.PeakRSSMB)
		if r.PeakRSSMB > *maxRSS {
			bounds = append(bounds, fmt.Errorf("peak resident memory %d MB past --max-rss %d MB", r.PeakRSSMB, *maxRSS))
		}
		if *maxP95 > 0 && time.Duration(r.P95Millis*float64(time.Millisecond)) > *maxP95 {
			bounds = append(bounds, fmt.Errorf("honest p95 %.0f ms past --max-p95 %v", r.P95Millis, *maxP95))
		}
		if r.HostileErrors > 0 {
			bounds = append(bounds, fmt.Errorf("%d hostile uploads got a server error", r.HostileErrors))
		}
	}
	if *asJSON {
		if err := writeJSONLine(stdout, r); err != nil {
			return err
		}
	}
	if errCount > 0 {
		bounds = append(bounds, fmt.Errorf("%d enrollments failed", errCount))
	}
	return errors.Join(bounds...)
}

// hostileResult counts the answers to the hostile uploads.
type hostileResult struct{ sent, refused, accepted, errors int }

// sendHostile runs n clients that send hostile uploads in turn until done:
// each hostile image as a one-sample encounter, a body just under the size
// cap of three fingers at the capture limit, and a chunked body that runs
// past the cap.
func sendHostile(ctx context.Context, url, token string, n int, done <-chan struct{}) hostileResult {
	type upload struct {
		body    []byte
		ct      string
		chunked bool
	}
	var uploads []upload
	for _, c := range hostile.Cases() {
		b, ct := hostileRequest([]hostile.Case{c})
		uploads = append(uploads, upload{b, ct, false})
	}
	finger := hostile.PadPNG(hostile.BombPNG(2000, 2000), 20<<20-1024)
	limit := hostile.Case{Name: "finger-at-limit", Modality: "finger", PPI: 500, Data: finger}
	full, fullType := hostileRequest([]hostile.Case{limit, limit, limit})
	uploads = append(uploads, upload{full, fullType, false}, upload{full, fullType, true})
	var mu sync.Mutex
	var r hostileResult
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 120 * time.Second}
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				select {
				case <-done:
					return
				case <-ctx.Done():
					return
				default:
				}
				u := uploads[i%len(uploads)]
				var body io.Reader = bytes.NewReader(u.body)
				if u.chunked {
					body = io.MultiReader(bytes.NewReader(u.body), bytes.NewReader(u.body))
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/encounters", body)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", u.ct)
				if u.chunked {
					req.ContentLength = -1
				}
				resp, err := client.Do(req)
				mu.Lock()
				r.sent++
				switch {
				case err != nil:
					r.refused++ // the server may close a connection it refused mid-body
				case resp.StatusCode >= 500:
					r.errors++
				case resp.StatusCode >= 400:
					r.refused++
				default:
					r.accepted++
				}
				mu.Unlock()
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	return r
}

// hostileRequest builds an encounter at the bench site with one sample per case.
func hostileRequest(cases []hostile.Case) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var samples []map[string]any
	for j, c := range cases {
		s := map[string]any{"image": fmt.Sprintf("img%d", j), "modality": c.Modality}
		switch c.Modality {
		case "finger":
			s["position"], s["impression"], s["ppi"] = j+1, "plain", c.PPI
		case "iris":
			s["eye"] = "right"
		}
		samples = append(samples, s)
	}
	enc := map[string]any{
		"site": "MX-BENCH", "captured_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "reason": "apprehension",
		"criminal_history": map[string]any{"status": "none"},
		"biographics":      map[string]any{"names": []any{map[string]any{"given": "Hostile", "family": "Upload"}}, "sex": "U"},
		"samples":          samples,
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="encounter"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	json.NewEncoder(w).Encode(enc)
	for j, c := range cases {
		fw, _ := mw.CreateFormFile(fmt.Sprintf("img%d", j), "image")
		fw.Write(c.Data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// peakRSS returns the peak resident memory of this process (VmHWM), or 0
// where /proc does not tell.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchOfficer creates the bench site and officer and returns its token.
func benchOfficer(ctx context.Context, store huella.Store) (string, error) {
	ctx = systemContext(ctx, huella.PurposeAdministration)
	site := &huella.Site{Code: "MX-BENCH", Name: "Benchmark", Country: "MEX", TimeZone: "America/Mexico_City"}
	if err := store.CreateSite(ctx, site); err != nil && huella.ErrorCode(err) != huella.ECONFLICT {
		return "", err
	}
	token := hhttp.NewToken()
	u := &huella.User{Name: fmt.Sprintf("bench.%d", time.Now().UnixNano()), Role: huella.RoleOfficer, Sites: []string{site.Code}, TokenHash: huella.HashToken(token)}
	return token, store.CreateUser(ctx, u)
}

type benchImage struct {
	data   []byte
	sample map[string]any
}

// benchImages returns ten finger images as uncompressed PNG (145 KB each,
// at the heavy end of a livescan's output), two irises and a face.
func benchImages() ([]benchImage, error) {
	var out []benchImage
	fingers := []string{"101_1", "102_1", "103_1", "104_1", "105_1", "106_1", "107_1", "108_1", "101_2", "102_2"}
	for i, f := range fingers {
		raw, err := demo.Fixture("finger-" + f + ".png")
		if err != nil {
			return nil, err
		}
		g, err := imgproc.DecodeGray(raw)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, g); err != nil {
			return nil, err
		}
		out = append(out, benchImage{buf.Bytes(), map[string]any{"modality": "finger", "position": i + 1, "impression": "plain", "ppi": 500}})
	}
	for _, iris := range []struct{ file, eye string }{{"iris-001R01.jpg", "right"}, {"iris-001L01.jpg", "left"}} {
		raw, err := demo.Fixture(iris.file)
		if err != nil {
			return nil, err
		}
		out = append(out, benchImage{raw, map[string]any{"modality": "iris", "eye": iris.eye}})
	}
	face, err := demo.Fixture("face-a1.jpg")
	if err != nil {
		return nil, err
	}
	return append(out, benchImage{face, map[string]any{"modality": "face"}}), nil
}

// benchRequest builds encounter i. PNG images get a unique text chunk and
// JPEGs a unique comment, so every image is new to the blob store.
func benchRequest(i int, images []benchImage) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var samples []map[string]any
	for j, im := range images {
		s := map[string]any{"image": fmt.Sprintf("img%d", j)}
		for k, v := range im.sample {
			s[k] = v
		}
		samples = append(samples, s)
	}
	enc := map[string]any{
		"site": "MX-BENCH", "captured_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "reason": "apprehension",
		"criminal_history": map[string]any{"status": "none"},
		"biographics":      map[string]any{"names": []any{map[string]any{"given": "Bench", "family": fmt.Sprint(i)}}, "sex": "U"},
		"samples":          samples,
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="encounter"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	json.NewEncoder(w).Encode(enc)
	tag := []byte(fmt.Sprintf("bench %d %d", i, time.Now().UnixNano()))
	for j, im := range images {
		fw, _ := mw.CreateFormFile(fmt.Sprintf("img%d", j), "image")
		fw.Write(uniqueImage(im.data, tag))
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// uniqueImage inserts tag as a PNG tEXt chunk before IEND, or as a JPEG
// COM segment after SOI; decoders ignore both.
func uniqueImage(data, tag []byte) []byte {
	if bytes.HasPrefix(data, []byte("\x89PNG")) {
		// A chunk is its data length, then type and data, then the CRC of
		// type and data; it goes before the 12-byte IEND chunk.
		iend := len(data) - 12
		typeAndData := append([]byte("tEXtComment\x00"), tag...)
		chunk := binary.BigEndian.AppendUint32(nil, uint32(len(typeAndData)-4))
		chunk = append(chunk, typeAndData...)
		chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(typeAndData))
		return slices.Concat(data[:iend], chunk, data[iend:])
	}
	seg := []byte{0xFF, 0xFE, byte((len(tag) + 2) >> 8), byte(len(tag) + 2)}
	return slices.Concat(data[:2], seg, tag, data[2:])
}
