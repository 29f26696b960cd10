//go:build unix

package gallery_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
)

var (
	identifySubjects = flag.Int("identify-subjects", 20_000, "BenchmarkIdentifyTenprint: subjects in the gallery")
	identifyPrune    = flag.Bool("identify-prune", true, "BenchmarkIdentifyTenprint: drop candidates that cannot be returned before scoring all their fingers")
)

// BenchmarkIdentifyTenprint times ten-print searches of a gallery of
// -identify-subjects ten-print subjects whose templates stay in a template
// store (bench identify's default), each probe a synthetic mate. The
// gallery repeats 2,000 synthetic subjects under new IDs and sample IDs
// (generating a million is an hour of finger descriptors): the first
// stage's scan costs the same whatever the descriptors hold, and the exact
// stage compares as many subjects either way. cpu-ms/op is the process's
// CPU time over every core, wall-ms/op the elapsed time; p95 of both too.
// Candidates are those at FMR 1e-3 or better, as bench identify asks.
func BenchmarkIdentifyTenprint(b *testing.B) {
	const distinct = 2000
	fingers := map[huella.Modality]bool{huella.ModalityFinger: true}
	gen := synth.New(2026)
	var people [][]*huella.Template
	var probes [][]*huella.Template
	for i := range min(distinct, *identifySubjects) {
		p := gen.Person(fingers)
		people = append(people, p.Templates("", fingers))
		if i%100 == 0 {
			probes = append(probes, gen.Mate(p).Templates("", fingers))
		}
	}
	store := &mapStore{templates: map[string][]byte{}}
	cals, err := fusion.Default()
	if err != nil {
		b.Fatal(err)
	}
	g := gallery.New([]engine.Engine{engine.Finger{}}, cals)
	g.Templates = store
	sample := 0
	for i := range *identifySubjects {
		for _, t := range people[i%len(people)] {
			sample++
			c := *t
			c.SubjectID, c.SampleID = fmt.Sprintf("sub_%08d", i), fmt.Sprintf("smp_%012d", sample)
			store.templates[c.SampleID] = c.Data
			if err := g.Add(&c); err != nil {
				b.Fatal(err)
			}
		}
	}
	defer gallery.SetPruning(*identifyPrune)()
	ctx := context.Background()
	var cpus, walls []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		c0, t0 := processCPU(), time.Now()
		got, err := g.Identify(ctx, probes[i%len(probes)], 10, fusion.LLRForFMR(1e-3))
		if err != nil || len(got) == 0 {
			b.Fatalf("Identify = %d candidates, %v", len(got), err)
		}
		cpus, walls = append(cpus, processCPU()-c0), append(walls, time.Since(t0))
		i++
	}
	b.StopTimer()
	slices.Sort(cpus)
	slices.Sort(walls)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(cpus[len(cpus)/2]), "cpu-p50-ms")
	b.ReportMetric(ms(cpus[len(cpus)*95/100]), "cpu-p95-ms")
	b.ReportMetric(ms(walls[len(walls)/2]), "wall-p50-ms")
	b.ReportMetric(ms(walls[len(walls)*95/100]), "wall-p95-ms")
}
