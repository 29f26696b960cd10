//go:build unix

package gallery_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
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
// store (bench identify's default), each probe a synthetic mate of one of
// 20 subjects enrolled once. The other subjects repeat 2,000 synthetic
// ones under new IDs and sample IDs (generating a million is an hour of
// finger descriptors): the first stage's scan costs the same whatever the
// descriptors hold, and the exact stage compares as many subjects. cpu-ms/op is the process's
// CPU time over every core, wall-ms/op the elapsed time; p95 of both too.
// Candidates are those at FMR 1e-3 or better, as bench identify asks.
func BenchmarkIdentifyTenprint(b *testing.B) {
	const distinct = 2000
	fingers := map[huella.Modality]bool{huella.ModalityFinger: true}
	gen := synth.New(2026)
	var people [][]*huella.Template
	for range min(distinct, *identifySubjects) {
		people = append(people, gen.Person(fingers).Templates("", fingers))
	}
	// The probes' people are enrolled once each, so that a probe has one
	// mate in the gallery, not one per repetition.
	const probes = 20
	var mates [][]*huella.Template
	probeOf := map[int]int{} // subject number -> probe
	var probe [][]*huella.Template
	every := max(1, *identifySubjects/probes)
	for j := range min(probes, *identifySubjects) {
		p := gen.Person(fingers)
		mates = append(mates, p.Templates("", fingers))
		probe = append(probe, gen.Mate(p).Templates("", fingers))
		probeOf[j*every] = j
	}
	cals, err := fusion.Default()
	if err != nil {
		b.Fatal(err)
	}
	store := &mapStore{templates: map[string][]byte{}}
	g := gallery.New([]engine.Engine{engine.Finger{}}, cals)
	g.Templates = store
	sample := 0
	for i := range *identifySubjects {
		ts := people[i%len(people)]
		if j, ok := probeOf[i]; ok {
			ts = mates[j]
		}
		for _, t := range ts {
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
	runtime.GC() // not in the first searches: the making's garbage, gone
	ctx := context.Background()
	var cpus, walls []time.Duration
	b.ResetTimer()
	i, hits := 0, 0
	for b.Loop() {
		j := i % len(probe)
		c0, t0 := processCPU(), time.Now()
		got, err := g.Identify(ctx, probe[j], 10, fusion.LLRForFMR(1e-3))
		if err != nil {
			b.Fatal(err)
		}
		cpus, walls = append(cpus, processCPU()-c0), append(walls, time.Since(t0))
		if len(got) > 0 && got[0].SubjectID == fmt.Sprintf("sub_%08d", j*every) {
			hits++
		}
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
	b.ReportMetric(float64(hits)/float64(i), "rank-1")
}
