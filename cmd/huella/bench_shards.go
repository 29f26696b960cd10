package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
	"github.com/huella-abis/huella/shard"
)

// shardsBenchResult is the JSON line "huella bench shards" prints.
type shardsBenchResult struct {
	Subjects    int      `json:"subjects"`
	Shards      int      `json:"shards"`
	Modalities  []string `json:"modalities"`
	FingerIndex string   `json:"finger_index,omitempty"`
	Probes      int      `json:"probes"`
	NATS        string   `json:"nats"` // embedded-loopback or the URL given
	// Per probe: the slowest shard's own search, the whole scatter-gather
	// as the API node sees it, and their difference (the overhead).
	SlowestP50Millis  float64 `json:"slowest_shard_p50_ms"`
	SlowestP95Millis  float64 `json:"slowest_shard_p95_ms"`
	TotalP50Millis    float64 `json:"total_p50_ms"`
	TotalP95Millis    float64 `json:"total_p95_ms"`
	OverheadP50Millis float64 `json:"overhead_p50_ms"`
	OverheadP95Millis float64 `json:"overhead_p95_ms"`
	Partial           int     `json:"partial"`
	HitRateRank1      float64 `json:"hit_rate_rank1"`
	// Replicas per shard and the clients (API nodes: each its own NATS
	// connection and scatter-gather) searching at once; the throughput is
	// of the whole run, with the CPU time of the process (the NATS server
	// included when embedded).
	Replicas        int     `json:"replicas"`
	Clients         int     `json:"clients"`
	ProbesPerSecond float64 `json:"probes_per_second"`
	CPUMillisProbe  float64 `json:"cpu_ms_per_probe,omitempty"`
}

// runBenchShards splits synthetic subjects (internal/synth) over K matcher
// shards in this process, each on its own NATS connection over loopback,
// and times searches of mates through the scatter-gather client: the
// overhead over the slowest shard is what sharding costs a search.
func runBenchShards(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench shards", flag.ContinueOnError)
	fs.SetOutput(stderr)
	subjects := fs.Int("subjects", 20_000, "synthetic subjects, split over the shards")
	shards := fs.Int("shards", 2, "matcher shards")
	modalities := fs.String("modalities", "finger,iris", "modalities each subject has (finger, iris)")
	probes := fs.Int("probes", 50, "probes (mates of enrolled subjects)")
	fingerIndex := fs.String("finger-index", "two-stage", "finger index: two-stage or exhaustive (prepared, exact)")
	natsURL := fs.String("nats", "", "NATS server to use; empty runs one in the process on a loopback port")
	replicas := fs.Int("replicas", 1, "matcher replicas of each shard (each a copy of its shard's gallery; they share its searches)")
	clients := fs.Int("clients", 1, "API nodes searching at once, each on its own NATS connection")
	asJSON := fs.Bool("json", false, "print the result as one JSON line")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	mods := map[huella.Modality]bool{}
	var names []string
	for _, m := range strings.Split(*modalities, ",") {
		if m != string(huella.ModalityFinger) && m != string(huella.ModalityIris) {
			return fmt.Errorf("bench shards: modality %q: finger or iris", m)
		}
		mods[huella.Modality(m)] = true
		names = append(names, m)
	}
	cals, err := fusion.Default()
	if err != nil {
		return err
	}
	engines := []engine.Engine{engine.Finger{Exhaustive: *fingerIndex == "exhaustive" || *fingerIndex == "prepared"}, engine.Iris{}}

	url := *natsURL
	if *replicas < 1 || *clients < 1 {
		return fmt.Errorf("bench shards: --replicas and --clients are at least 1")
	}
	r := shardsBenchResult{Subjects: *subjects, Shards: *shards, Modalities: names, NATS: url, Replicas: *replicas, Clients: *clients}
	if mods[huella.ModalityFinger] {
		r.FingerIndex = *fingerIndex
	}
	if url == "" {
		s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
		if err != nil {
			return err
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			return fmt.Errorf("bench shards: nats server not ready")
		}
		defer s.Shutdown()
		url, r.NATS = s.ClientURL(), "embedded-loopback"
	}

	// matchers[i*replicas+j] is replica j of shard i.
	matchers := make([]*shard.Matcher, *shards**replicas)
	for i := range matchers {
		matchers[i] = &shard.Matcher{Spec: shard.Spec{Index: i / *replicas, Count: *shards}, Gallery: gallery.New(engines, cals)}
	}
	gen := synth.New(2026)
	every := max(1, *subjects / *probes)
	var mates [][]*huella.Template
	var mateIDs []string
	for i := 0; i < *subjects; i++ {
		if i%10_000 == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			evaluation.Progress(ctx, "make subjects", i, *subjects)
		}
		p := gen.Person(mods)
		id := fmt.Sprintf("sub_%08d", i)
		for j := range *replicas {
			m := matchers[shard.Of(id, *shards)**replicas+j]
			for _, t := range p.Templates(id, mods) {
				if err := m.Gallery.Add(t); err != nil {
					return err
				}
			}
		}
		if i%every == 0 && len(mates) < *probes {
			mates = append(mates, gen.Mate(p).Templates("", mods))
			mateIDs = append(mateIDs, id)
		}
	}
	evaluation.Progress(ctx, "make subjects", *subjects, *subjects)
	for _, m := range matchers {
		nc, err := shard.Connect(url, "huella-bench-matcher", nil, nil)
		if err != nil {
			return err
		}
		defer nc.Close()
		if err := m.Open(nc); err != nil {
			return err
		}
		defer m.Close()
	}
	var mu sync.Mutex
	var total, slowest, overhead []time.Duration
	hits := 0
	review := fusion.LLRForFMR(1e-3)
	next := make(chan int)
	errs := make(chan error, *clients)
	var wg sync.WaitGroup
	for range *clients {
		nc, err := shard.Connect(url, "huella-bench-api", nil, nil)
		if err != nil {
			return err
		}
		defer nc.Close()
		client, err := shard.NewClient(nc, *shards)
		if err != nil {
			return err
		}
		defer client.Close()
		client.Deadline = time.Minute // a miss is counted, not the point here
		client.OnSearch = func(t, s time.Duration) {
			mu.Lock()
			total, slowest, overhead = append(total, t), append(slowest, s), append(overhead, t-s)
			mu.Unlock()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cands, complete, err := client.Search(ctx, mates[i], 10, review)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if !complete {
					r.Partial++
				}
				if len(cands) > 0 && cands[0].SubjectID == mateIDs[i] {
					hits++
				}
				mu.Unlock()
			}
		}()
	}
	cpu0, _ := processCPU()
	start := time.Now()
	for i := range mates {
		next <- i
		evaluation.Progress(ctx, "identify", i+1, len(mates))
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, cpuOK := processCPU()
	select {
	case err := <-errs:
		return err
	default:
	}
	r.ProbesPerSecond = float64(len(mates)) / elapsed.Seconds()
	if cpuOK && len(mates) > 0 {
		r.CPUMillisProbe = float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(len(mates))
	}
	r.Probes = len(mates)
	r.HitRateRank1 = float64(hits) / float64(max(1, len(mates)))
	r.SlowestP50Millis, r.SlowestP95Millis = percentiles(slowest)
	r.TotalP50Millis, r.TotalP95Millis = percentiles(total)
	r.OverheadP50Millis, r.OverheadP95Millis = percentiles(overhead)
	fmt.Fprintf(stdout, "%d subjects (%s) in %d shards over NATS (%s), %d probes, rank-1 %.3f, %d partial\n",
		r.Subjects, *modalities, r.Shards, r.NATS, r.Probes, r.HitRateRank1, r.Partial)
	fmt.Fprintf(stdout, "  slowest shard  p50 %.1f ms  p95 %.1f ms\n", r.SlowestP50Millis, r.SlowestP95Millis)
	fmt.Fprintf(stdout, "  scatter-gather p50 %.1f ms  p95 %.1f ms\n", r.TotalP50Millis, r.TotalP95Millis)
	fmt.Fprintf(stdout, "  overhead       p50 %.1f ms  p95 %.1f ms\n", r.OverheadP50Millis, r.OverheadP95Millis)
	fmt.Fprintf(stdout, "  %d replica(s) per shard, %d client(s): %.1f probes/s, %.1f ms CPU per probe\n",
		r.Replicas, r.Clients, r.ProbesPerSecond, r.CPUMillisProbe)
	if *asJSON {
		return writeJSONLine(stdout, r)
	}
	return nil
}

// percentiles returns the median and the 95th percentile, in milliseconds.
func percentiles(d []time.Duration) (p50, p95 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return ms(d[len(d)/2]), ms(d[(len(d)*95)/100])
}
