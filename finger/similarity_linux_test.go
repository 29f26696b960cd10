package finger_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/huella-abis/huella/finger"
)

// BenchmarkSimilarities scans 4,000 random descriptors (1 MB, in cache)
// and 100,000 (25.6 MB, streamed from memory) with each kernel on one core;
// cpu-Mcmp/s counts the thread's CPU time only.
func BenchmarkSimilarities(b *testing.B) {
	for _, size := range []int{4000, 100_000} {
		for _, name := range finger.SimilarityKernels() {
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				benchmarkSimilarities(b, name, size)
			})
		}
	}
}

func benchmarkSimilarities(b *testing.B, name string, size int) {
	r := rand.New(rand.NewPCG(13, 14))
	all := make([]finger.Descriptor, size)
	for i := range all {
		for w := range all[i] {
			all[i][w] = r.Uint64() & r.Uint64()
		}
	}
	probe := all[r.IntN(len(all))]
	out := make([]int32, len(all))
	defer finger.UseSimilarityKernel(name)()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		probe.Similarities(all, out)
	}
	cpu := (threadCPU() - start).Seconds()
	b.ReportMetric(float64(len(all))*float64(b.N)/cpu/1e6, "cpu-Mcmp/s")
}
