package iris_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/huella-abis/huella/iris"
)

// randomTemplate returns a template with random code bits and a mask that,
// like real ones, leaves most bits valid.
func randomTemplate(r *rand.Rand) *iris.Template {
	t := &iris.Template{Code: make([]uint64, iris.CodeWords), Mask: make([]uint64, iris.CodeWords)}
	for i := range t.Code {
		t.Code[i] = r.Uint64()
		t.Mask[i] = r.Uint64() | r.Uint64() | r.Uint64()
	}
	return t
}

// noisyCopy flips a fraction of the bits of t, rotated by shift columns: a
// synthetic mate.
func noisyCopy(r *rand.Rand, t *iris.Template, flip float64) *iris.Template {
	c := &iris.Template{Code: slices.Clone(t.Code), Mask: slices.Clone(t.Mask)}
	for i := range c.Code {
		for b := 0; b < 64; b++ {
			if r.Float64() < flip {
				c.Code[i] ^= 1 << b
			}
		}
	}
	return c
}

// forEachKernel runs f once per kernel this machine runs, as a subtest
// named after it, with the kernel selected.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range iris.Kernels() {
		t.Run(name, func(t *testing.T) {
			defer iris.UseKernel(name)()
			f(t)
		})
	}
}

// checkCounts compares the selected kernel's counts with the pure-Go ones.
func checkCounts(t *testing.T, p *iris.Probe, entry []uint64) {
	t.Helper()
	got, gotX := p.Counts(entry)
	want, wantX := p.CountsGo(entry)
	if got != want || gotX != wantX {
		t.Fatalf("kernel counts %v extrema %v, want %v %v", got, gotX, want, wantX)
	}
}

func TestKernels(t *testing.T) {
	names := iris.Kernels()
	if names[0] != "generic" {
		t.Errorf("kernels %v: want generic first", names)
	}
	if os.Getenv("HUELLA_CPU") == "" && iris.Kernel() != names[len(names)-1] {
		t.Errorf("Kernel() = %q with no cap, want the fastest of %v", iris.Kernel(), names)
	}
}

func TestKernelsMatchGo(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for k := 0; k < 200; k++ {
			p := iris.NewProbe(randomTemplate(r))
			g := randomTemplate(r)
			checkCounts(t, p, append(slices.Clone(g.Code), g.Mask...))
		}
		// Saturated words: every byte counts 8 in both popcounts.
		zeros, ones := make([]uint64, iris.CodeWords), make([]uint64, iris.CodeWords)
		for i := range ones {
			ones[i] = ^uint64(0)
		}
		for _, c := range []struct{ probeCode, probeMask, code, mask []uint64 }{
			{zeros, ones, ones, ones},
			{ones, ones, ones, ones},
			{ones, zeros, zeros, ones},
			{zeros, zeros, zeros, zeros},
		} {
			p := iris.NewProbe(&iris.Template{Code: c.probeCode, Mask: c.probeMask})
			checkCounts(t, p, append(slices.Clone(c.code), c.mask...))
		}
	})
}

// TestKernelsMatchGoReal compares every kernel with the pure-Go counts on
// every pair of real templates, each one rotated against all the others.
func TestKernelsMatchGoReal(t *testing.T) {
	ts := fixedTemplates(t)
	forEachKernel(t, func(t *testing.T) {
		for _, a := range ts {
			p := iris.NewProbe(a.t)
			for _, b := range ts {
				checkCounts(t, p, append(slices.Clone(b.t.Code), b.t.Mask...))
			}
		}
	})
}

func TestSearchEqualsExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var g iris.Gallery
	var members []*iris.Template
	for i := 0; i < 3000; i++ {
		tp := randomTemplate(r)
		members = append(members, tp)
		g.Add(tp)
	}
	// Plant mates of some members so the top of the list is meaningful.
	for i := 0; i < 20; i++ {
		g.Add(noisyCopy(r, members[i*17], 0.2))
	}
	forEachKernel(t, func(t *testing.T) {
		for i := 0; i < 10; i++ {
			p := iris.NewProbe(members[i*17])
			for _, k := range []int{1, 5, 50} {
				got := g.Search(p, k, 0)
				want := g.SearchExhaustive(p, k)
				if !slices.Equal(got, want) {
					t.Fatalf("probe %d k=%d: Search %v, exhaustive %v", i, k, got, want)
				}
			}
		}
	})
}

// TestSearchEqualsExhaustiveRealKernels searches every real template among
// the others with each kernel.
func TestSearchEqualsExhaustiveRealKernels(t *testing.T) {
	ts := fixedTemplates(t)
	var g iris.Gallery
	for _, e := range ts {
		g.Add(e.t)
	}
	forEachKernel(t, func(t *testing.T) {
		for _, e := range ts {
			p := iris.NewProbe(e.t)
			for _, k := range []int{1, 3, 10} {
				got, want := g.Search(p, k, 0), g.SearchExhaustive(p, k)
				if !slices.Equal(got, want) {
					t.Fatalf("%s k=%d: Search %v, exhaustive %v", e.name, k, got, want)
				}
			}
		}
	})
}

// BenchmarkSearch scans random galleries (one in cache, one in memory) with
// one goroutine and each kernel this machine runs; cpu-comparisons/s counts
// the thread's CPU time only.
func BenchmarkSearch(b *testing.B) {
	for _, name := range iris.Kernels() {
		for _, size := range []int{4000, 200000} {
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				defer iris.UseKernel(name)()
				benchmarkSearch(b, size, 0)
			})
		}
		// The blocks of a gallery loaded from a snapshot: ~700 entries an
		// eye per 4 MiB chunk of ten-print, iris and face records.
		b.Run(fmt.Sprintf("%s/200000/blocks700", name), func(b *testing.B) {
			defer iris.UseKernel(name)()
			benchmarkSearch(b, 200000, 700)
		})
	}
}

// benchmarkSearch times Search over a gallery of size random entries,
// added one by one (block 0) or appended in blocks of that many.
func benchmarkSearch(b *testing.B, size, block int) {
	r := rand.New(rand.NewPCG(5, 6))
	var g iris.Gallery
	var words []uint64
	for i := 0; i < size; i++ {
		t := randomTemplate(r)
		if block == 0 {
			g.Add(t)
			continue
		}
		words = append(append(words, t.Code...), t.Mask...)
		if len(words) == block*iris.EntryWords || i == size-1 {
			g.AppendBlock(words)
			words = nil
		}
	}
	p := iris.NewProbe(randomTemplate(r))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start := threadCPU()
	for i := 0; i < b.N; i++ {
		g.Search(p, 10, 1)
	}
	cpu := (threadCPU() - start).Seconds()
	n := float64(g.Len()) * float64(b.N)
	b.ReportMetric(n/cpu, "cpu-comparisons/s")
	b.ReportMetric(n*iris.EntryWords*8/cpu/1e9, "cpu-GB/s")
}

// BenchmarkSearchExhaustive is the reference scan: plain Go, every shift,
// every word, no bound.
func BenchmarkSearchExhaustive(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var g iris.Gallery
	for i := 0; i < 20000; i++ {
		g.Add(randomTemplate(r))
	}
	p := iris.NewProbe(randomTemplate(r))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start := threadCPU()
	for i := 0; i < b.N; i++ {
		g.SearchExhaustive(p, 10)
	}
	b.ReportMetric(float64(g.Len())*float64(b.N)/(threadCPU()-start).Seconds(), "cpu-comparisons/s")
}
