package iris_test

import (
	"fmt"
	"math/rand/v2"
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

func TestKernelMatchesGo(t *testing.T) {
	if !iris.KernelAvailable {
		t.Skip("no AVX-512 VPOPCNTDQ on this CPU: the pure-Go path is the only one")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 200; k++ {
		p := iris.NewProbe(randomTemplate(r))
		g := randomTemplate(r)
		entry := append(slices.Clone(g.Code), g.Mask...)
		got, gotX := p.CountsKernel(entry)
		want, wantX := p.CountsGo(entry)
		if got != want || gotX != wantX {
			t.Fatalf("kernel counts %v extrema %v, want %v %v", got, gotX, want, wantX)
		}
	}
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
}

// BenchmarkSearch scans random galleries (one in cache, one in memory) with
// one goroutine; cpu-comparisons/s counts the thread's CPU time only.
func BenchmarkSearch(b *testing.B) {
	for _, size := range []int{4000, 200000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			var g iris.Gallery
			for i := 0; i < size; i++ {
				g.Add(randomTemplate(r))
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
		})
	}
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
