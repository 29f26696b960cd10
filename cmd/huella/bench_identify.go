package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/evaluation"
	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/cpulevel"
	"github.com/huella-abis/huella/internal/synth"
	"github.com/huella-abis/huella/iris"
)

// identifyBenchResult is the JSON line "huella bench identify" prints.
type identifyBenchResult struct {
	Subjects        int                `json:"subjects"`
	Modalities      []string           `json:"modalities"`
	BytesPerSubject float64            `json:"bytes_per_subject"`
	LoadS           float64            `json:"load_s"`
	Probes          int                `json:"probes"`
	P50Millis       map[string]float64 `json:"identify_p50_ms"`
	P95Millis       map[string]float64 `json:"identify_p95_ms"`
	HitRateRank1    map[string]float64 `json:"hit_rate_rank1"`
	CPUP50Millis    map[string]float64 `json:"identify_cpu_p50_ms,omitempty"` // CPU time of the process during one search (every core; Linux only)
	CPUP95Millis    map[string]float64 `json:"identify_cpu_p95_ms,omitempty"`
	LoadCPUS        float64            `json:"load_cpu_s,omitempty"`   // CPU time of the load from the snapshot
	FingerIndex     string             `json:"finger_index,omitempty"` // two-stage or exhaustive
	Templates       string             `json:"templates,omitempty"`    // two-stage: "store" (fetched on demand) or "memory"
	FetchMillis     float64            `json:"fetch_ms,omitempty"`     // store: mean time of one FindTemplates call
	FetchedIDs      map[string]float64 `json:"fetched_ids,omitempty"`  // store: templates fetched per search, mean (at least its exact comparisons on on-demand slots)
	Fetches         int64              `json:"fetches,omitempty"`      // store: FindTemplates calls of all the searches
	Shortlist       int                `json:"shortlist"`              // entries each probe template shortlists per slot
	Preselect       int                `json:"preselect,omitempty"`    // two-stage: exact comparisons the summed descriptor similarity lets through (a ten-print: /10 subjects)
	Penetration     float64            `json:"penetration_rate"`       // share of a slot the exact comparator searches per probe template: 1 for an exhaustive scan
	RealRank1       *float64           `json:"real_rank1,omitempty"`   // --real-mates: share of real probe impressions whose finger ranks first
	RealRank10      *float64           `json:"real_rank10,omitempty"`  // and within the first ten
	RealProbes      int                `json:"real_probes,omitempty"`
	RealExactRank1  *float64           `json:"real_exhaustive_rank1,omitempty"` // --real-reference: the same shares with the exact comparator over the whole slot
	RealExactRank10 *float64           `json:"real_exhaustive_rank10,omitempty"`
	Kernel          map[string]string  `json:"kernel"` // scan kernel per modality that has one: avx512, avx2 or generic (HUELLA_CPU caps it)
}

// runBenchIdentify builds a gallery of synthetic subjects in the engines'
// template formats (see internal/synth), writes it as a snapshot, measures
// the warm start from that snapshot, and times 1:N searches of mates of
// gallery subjects.
func runBenchIdentify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench identify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	subjects := fs.Int("subjects", 100_000, "synthetic subjects in the gallery")
	modalities := fs.String("modalities", "finger,iris,face", "modalities each subject has")
	probes := fs.Int("probes", 100, "probes of each kind")
	asJSON := fs.Bool("json", false, "print the result as one JSON line")
	shortlist := fs.Int("shortlist", gallery.DefaultShortlist, "entries each probe template shortlists in its slot before the other slots fill in")
	preselect := fs.Int("preselect", gallery.DefaultPreselect, "two-stage finger index: exact comparisons after the first stage, which keeps preselect/f subjects of highest descriptor similarity summed over the probe's f fingers")
	fingerIndex := fs.String("finger-index", "two-stage", "finger index: two-stage (descriptor pre-selection, then the exact comparator) or exhaustive (prepared, exact; \"prepared\" is the same)")
	templates := fs.String("templates", "store", "two-stage finger index: store (the exact stage fetches its templates from a template store on disk, by sample ID) or memory (the index holds them)")
	realReference := fs.Bool("real-reference", false, "with --real-mates: rank each real probe with the exact comparator over its whole slot too (real_exhaustive_rank1, real_exhaustive_rank10)")
	realDir := fs.String("real-mates", "", "FVC-named folder (<finger>_<n>) of real impressions: each finger's first one enrolled among the synthetic subjects, the others searched (real_rank1, real_rank10)")
	realPPI := fs.Int("real-ppi", 500, "resolution of the --real-mates images")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the searches (not the making or the load) to this file")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := cpulevel.Check(); err != nil {
		return fmt.Errorf("bench identify: %w", err)
	}
	if *fingerIndex == "prepared" {
		*fingerIndex = "exhaustive"
	}
	if *fingerIndex != "exhaustive" && *fingerIndex != "two-stage" {
		return fmt.Errorf("bench identify: --finger-index must be two-stage or exhaustive")
	}
	if *templates != "store" && *templates != "memory" {
		return fmt.Errorf("bench identify: --templates must be store or memory")
	}
	mods := map[huella.Modality]bool{}
	var names []string
	for _, m := range strings.Split(*modalities, ",") {
		mods[huella.Modality(m)] = true
		names = append(names, m)
	}
	cals, err := fusion.Default()
	if err != nil {
		return err
	}
	engines := []engine.Engine{engine.Finger{Exhaustive: *fingerIndex == "exhaustive"}, engine.Iris{}}
	if mods[huella.ModalityFace] {
		face, err := engine.NewFace()
		if err != nil {
			return err
		}
		engines = append(engines, face)
	}
	for m := range mods {
		if cals[string(m)] == nil {
			return fmt.Errorf("bench identify: no calibration for %s (run huella eval fusion)", m)
		}
	}

	var real *realMates
	if *realDir != "" {
		if !mods[huella.ModalityFinger] {
			return fmt.Errorf("bench identify: --real-mates needs the finger modality")
		}
		if real, err = loadRealMates(ctx, *realDir, *realPPI); err != nil {
			return err
		}
	}

	// Make the gallery as a snapshot file, keeping the probes' mates.
	dir, err := os.MkdirTemp("", "huella-bench-identify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gallery.snapshot")
	gen := synth.New(2026)
	every := max(1, *subjects / *probes)
	var mates []*synth.Person
	var mateIDs []string
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := gallery.NewSnapshotWriter(f)
	if err != nil {
		return err
	}
	store, err := newFileTemplateStore(dir)
	if err != nil {
		return err
	}
	defer store.Close()
	// Every template goes to the snapshot and to the template store, under
	// a sample ID in increasing order.
	samples := 0
	write := func(t *huella.Template) error {
		samples++
		t.SampleID = fmt.Sprintf("smp_%012d", samples)
		if err := store.Write(t); err != nil {
			return err
		}
		return w.Write(t)
	}
	made := time.Now()
	for i := 0; i < *subjects; i++ {
		if i%10_000 == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			evaluation.Progress(ctx, "make subjects", i, *subjects)
		}
		p := gen.Person(mods)
		id := fmt.Sprintf("sub_%08d", i)
		for _, t := range p.Templates(id, mods) {
			if err := write(t); err != nil {
				return err
			}
		}
		if i%every == 0 && len(mates) < *probes {
			mates = append(mates, gen.Mate(p))
			mateIDs = append(mateIDs, id)
		}
	}
	evaluation.Progress(ctx, "make subjects", *subjects, *subjects)
	if real != nil {
		if err := real.enroll(write, gen, mods); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := store.Seal(); err != nil {
		return err
	}
	f.Close()
	fmt.Fprintf(stderr, "made %d subjects in %.1f s\n", *subjects, time.Since(made).Seconds())

	// Warm start: the snapshot into a fresh gallery.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	cpu0, haveCPU := processCPU()
	g := gallery.New(engines, cals)
	g.Shortlist = *shortlist
	g.Preselect = *preselect
	if *templates == "store" {
		g.Templates = store
	}
	f, err = os.Open(path)
	if err != nil {
		return err
	}
	if _, err := g.LoadSnapshot(f); err != nil {
		f.Close()
		return err
	}
	f.Close()
	load := time.Since(start)
	cpu1, _ := processCPU()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	r := identifyBenchResult{Subjects: *subjects, Modalities: names, LoadS: load.Seconds(), Probes: len(mates),
		BytesPerSubject: float64(after.HeapAlloc-before.HeapAlloc) / float64(*subjects),
		P50Millis:       map[string]float64{}, P95Millis: map[string]float64{}, HitRateRank1: map[string]float64{}, Penetration: 1, Shortlist: *shortlist}
	if haveCPU {
		r.LoadCPUS = (cpu1 - cpu0).Seconds()
		r.CPUP50Millis, r.CPUP95Millis = map[string]float64{}, map[string]float64{}
	}
	if mods[huella.ModalityFinger] {
		r.FingerIndex = *fingerIndex
		if *fingerIndex == "two-stage" {
			r.Templates = *templates
		}
	}
	r.Kernel = scanKernels(mods)
	if mods[huella.ModalityFinger] && *fingerIndex == "two-stage" {
		// The descriptor scan is exhaustive; the exact comparator sees
		// every finger of the subjects of highest summed similarity.
		r.Penetration = min(1, float64(*preselect/10)/float64(*subjects))
		r.Preselect = *preselect
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	r.FetchedIDs = map[string]float64{}
	kinds := map[string]map[huella.Modality]bool{
		"tenprint":      {huella.ModalityFinger: true},
		"two_iris_face": {huella.ModalityIris: true, huella.ModalityFace: true},
	}
	for kind, want := range kinds {
		use := map[huella.Modality]bool{}
		for m := range want {
			if mods[m] {
				use[m] = true
			}
		}
		if len(use) == 0 {
			continue
		}
		var lat, cpu []time.Duration
		hits := 0
		ids0 := store.ids.Load()
		for i, m := range mates {
			probe := m.Templates("", use)
			t0 := time.Now()
			c0, _ := processCPU()
			cands, err := g.Identify(ctx, probe, 10, fusion.LLRForFMR(1e-3))
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
			c1, _ := processCPU()
			cpu = append(cpu, c1-c0)
			if len(cands) > 0 && cands[0].SubjectID == mateIDs[i] {
				hits++
			}
			evaluation.Progress(ctx, "identify "+kind, i+1, len(mates))
		}
		slices.Sort(lat)
		r.P50Millis[kind] = float64(lat[len(lat)/2].Microseconds()) / 1000
		r.P95Millis[kind] = float64(lat[(len(lat)*95)/100].Microseconds()) / 1000
		if haveCPU {
			slices.Sort(cpu)
			r.CPUP50Millis[kind] = float64(cpu[len(cpu)/2].Microseconds()) / 1000
			r.CPUP95Millis[kind] = float64(cpu[(len(cpu)*95)/100].Microseconds()) / 1000
		}
		r.HitRateRank1[kind] = float64(hits) / float64(len(mates))
		if *templates == "store" {
			r.FetchedIDs[kind] = float64(store.ids.Load()-ids0) / float64(len(mates))
		}
	}
	if real != nil {
		rank1, rank10, n, err := real.search(ctx, g)
		if err != nil {
			return err
		}
		r.RealRank1, r.RealRank10, r.RealProbes = &rank1, &rank10, n
		fmt.Fprintf(stdout, "  real fingers   rank-1 %.3f  rank-10 %.3f (%d probes of %d fingers, %d impressions failed)\n",
			rank1, rank10, n, len(real.fingers), real.failed)
		if *realReference {
			rank1, rank10, err := real.exhaustive(ctx, store, cals[string(huella.ModalityFinger)])
			if err != nil {
				return err
			}
			r.RealExactRank1, r.RealExactRank10 = &rank1, &rank10
			fmt.Fprintf(stdout, "  real fingers, exhaustive exact comparator: rank-1 %.3f  rank-10 %.3f\n", rank1, rank10)
		}
	}
	r.FetchMillis, r.Fetches = store.fetchMillis()
	fmt.Fprintf(stdout, "%d subjects (%s): %.0f bytes/subject, load %.1f s from snapshot, kernels %v\n", r.Subjects, *modalities, r.BytesPerSubject, r.LoadS, r.Kernel)
	for kind := range r.P50Millis {
		fmt.Fprintf(stdout, "  %-14s p50 %.0f ms  p95 %.0f ms  rank-1 %.3f (%d probes)\n", kind, r.P50Millis[kind], r.P95Millis[kind], r.HitRateRank1[kind], r.Probes)
	}
	if *asJSON {
		return writeJSONLine(stdout, r)
	}
	return nil
}

// scanKernels names the 1:N scan kernel of each benchmarked modality that
// has a choice of them (for fingers, the first stage's descriptor scan).
func scanKernels(mods map[huella.Modality]bool) map[string]string {
	k := map[string]string{}
	if mods[huella.ModalityFinger] {
		k[string(huella.ModalityFinger)] = finger.SimilarityKernel()
	}
	if mods[huella.ModalityIris] {
		k[string(huella.ModalityIris)] = iris.Kernel()
	}
	if mods[huella.ModalityFace] {
		k[string(huella.ModalityFace)] = face.Kernel()
	}
	return k
}
