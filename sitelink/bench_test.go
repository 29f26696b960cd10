package sitelink_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/sitelink"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// noiseImages returns count PNG images of side×side grey noise, stored
// without compression (side 1224: about 1.5 MB each), different for every
// seed so that no two encounters share a blob.
func noiseImages(tb testing.TB, count, side int, seed uint64) [][]byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	var out [][]byte
	for range count {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for i := 0; i < len(img.Pix); i += 8 {
			v := r.Uint64()
			for j := 0; j < 8 && i+j < len(img.Pix); j++ {
				img.Pix[i+j] = uint8(v >> (8 * j))
			}
		}
		var buf bytes.Buffer
		if err := enc.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// thirteen is an encounter of 13 samples: ten fingers, two irises, a face
// (declared as a face and scar photos: the bench measures transport, not
// engines, and these modalities take any image size).
func thirteen(site string, images [][]byte) *enroll.Request {
	samples := make([]*huella.Sample, len(images))
	for i := range samples {
		samples[i] = &huella.Sample{Modality: huella.ModalitySMT}
	}
	samples[0].Modality = huella.ModalityFace
	return &enroll.Request{Encounter: &huella.Encounter{SiteCode: site, CapturedAt: time.Now().Add(-time.Minute), Reason: huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics:     huella.Biographics{Names: []huella.Name{{Given: "Persona", Family: "Prueba"}}, Sex: huella.SexMale},
		Samples:         samples}, Images: images}
}

// TestSiteLinkBench measures, on loopback, a connected site's time from
// enrollment to the center's decision visible at the site (the center
// enrolls without biometric search: identification time excluded), the
// rate a backlog drains at after a partition, and the bytes sent per
// encounter against its images' size. HUELLA_SITE_BENCH=1 runs it;
// HUELLA_SITE_BENCH_N (backlog, default 100), HUELLA_SITE_BENCH_SIDE
// (image side, default 1224: 1.5 MB) and HUELLA_SITE_BENCH_IMAGES
// (default 13) size it.
func TestSiteLinkBench(t *testing.T) {
	if os.Getenv("HUELLA_SITE_BENCH") == "" {
		t.Skip("set HUELLA_SITE_BENCH=1 to measure the site link")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	backlogN, side, perEncounter := env("HUELLA_SITE_BENCH_N", 100), env("HUELLA_SITE_BENCH_SIDE", 1224), env("HUELLA_SITE_BENCH_IMAGES", 13)
	connectedN := env("HUELLA_SITE_BENCH_CONNECTED", 40)

	center := mustOpenNode(t, "MX-TIJ")
	seeds, keys := siteKeys(t, "MX-TIJ")
	receiver := &sitelink.Center{Enroll: center.enroll, Store: center.store}
	hub := MustOpenHub(t, keys, receiver.Receive)
	site := mustOpenNode(t, "MX-TIJ")
	site.store.KeepSiteOutbox()
	link := newProxy(t, hostPort(hub.LeafURL()))
	leaf := MustOpenLeaf(t, "MX-TIJ", link.URL(), seeds["MX-TIJ"])
	waitFor(t, "linked", 10*time.Second, leaf.Linked)

	var mu sync.Mutex
	identified := map[string]time.Time{}
	relay := &sitelink.Relay{Store: site.store, Blobs: site.blobs, Send: leaf.Send, Workers: 4, Retry: 100 * time.Millisecond,
		OnCentral: func(id string, _ *huella.CentralIdentification) {
			mu.Lock()
			identified[id] = time.Now()
			mu.Unlock()
		}}
	relay.Open(context.Background())
	defer relay.Close()
	site.enroll.OnEnrolled = func(*huella.Encounter) { relay.Kick() }
	ctx := officerAt("MX-TIJ")
	imageBytes := 0

	// Connected: one encounter at a time, as an officer enrolls.
	var lat []time.Duration
	for i := range connectedN {
		images := noiseImages(t, perEncounter, side, uint64(i)*100)
		for _, img := range images {
			imageBytes += len(img)
		}
		e, err := site.enroll.Enroll(ctx, thirteen("MX-TIJ", images))
		if err != nil {
			t.Fatal(err)
		}
		stored := time.Now()
		waitFor(t, "identified", 60*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			_, ok := identified[e.ID]
			return ok
		})
		mu.Lock()
		lat = append(lat, identified[e.ID].Sub(stored))
		mu.Unlock()
	}
	sent, _ := leaf.LinkBytes()
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(time.Millisecond) }
	t.Logf("connected: %d encounters of %d images of %d bytes: enrollment to central decision at the site p50 %s p95 %s max %s",
		connectedN, perEncounter, imageBytes/(connectedN*perEncounter), p(0.5), p(0.95), p(1))
	t.Logf("bytes sent to the hub per encounter %d, images %d: %+.3f%%", sent/int64(connectedN), imageBytes/connectedN,
		100*(float64(sent)/float64(imageBytes)-1))

	// Partition: a backlog enrolled while cut off, drained after.
	cutOff(t, link, leaf, hub)
	for i := range backlogN {
		if _, err := site.enroll.Enroll(ctx, thirteen("MX-TIJ", noiseImages(t, perEncounter, side, uint64(100000+i)*100))); err != nil {
			t.Fatal(err)
		}
	}
	if got := backlog(t, site); got != backlogN {
		t.Fatalf("backlog %d, want %d", got, backlogN)
	}
	cpu0, wall0 := cpuTime(), time.Now()
	link.Heal()
	waitFor(t, "drained", time.Hour, func() bool { return backlog(t, site) == 0 })
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	t.Logf("backlog of %d drained in %s: %.1f encounters/s; CPU %s (site and center together), %.1f ms CPU per encounter",
		backlogN, wall.Round(time.Millisecond), float64(backlogN)/wall.Seconds(), cpu.Round(time.Millisecond),
		float64(cpu.Milliseconds())/float64(backlogN))
	if n := len(identified); n != connectedN+backlogN {
		t.Errorf("%d encounters identified, want %d", n, connectedN+backlogN)
	}
	fmt.Fprintln(os.Stderr)
}
