package face_test

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/huella-abis/huella/face"
	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling thread: with the goroutine locked
// to its thread it measures one core's work whatever else the machine runs.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// forEachKernel runs f once per scan kernel this machine runs, as a subtest
// named after it, with the kernel selected.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range face.Kernels() {
		t.Run(name, func(t *testing.T) {
			defer face.UseKernel(name)()
			f(t)
		})
	}
}

func TestKernels(t *testing.T) {
	names := face.Kernels()
	if names[0] != "generic" {
		t.Errorf("kernels %v: want generic first", names)
	}
	if os.Getenv("HUELLA_CPU") == "" && face.Kernel() != names[len(names)-1] {
		t.Errorf("Kernel() = %q with no cap, want the fastest of %v", face.Kernel(), names)
	}
}

// TestKernelsMatchGo compares every kernel's dots with the pure-Go ones on
// random codes, including the extremes of int8 that saturate a 16-bit
// pair sum if a kernel took a shortcut.
func TestKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 1000
	codes := make([]int8, n*face.DescriptorSize)
	for i := range codes {
		codes[i] = int8(r.IntN(256) - 128)
	}
	for i := 0; i < face.DescriptorSize; i++ {
		codes[i] = -128                          // entry 0: all −128
		codes[face.DescriptorSize+i] = 127       // entry 1: all 127
		codes[2*face.DescriptorSize+i] = int8(i) // entry 2: a ramp
	}
	probes := [][]int16{make([]int16, face.DescriptorSize), make([]int16, face.DescriptorSize), make([]int16, face.DescriptorSize)}
	for j := range probes[0] {
		probes[0][j] = int16(r.IntN(255) - 127)
		probes[1][j] = -127
		probes[2][j] = 127
	}
	forEachKernel(t, func(t *testing.T) {
		for pi, p := range probes {
			// Every length up to a few, then all: the kernels have no tail
			// cases, but a length must be honoured exactly.
			for _, m := range []int{0, 1, 2, 3, 7, n} {
				got := make([]int32, m+1)
				want := make([]int32, m+1)
				got[m], want[m] = 12345, 12345
				face.DotInt8(codes[:m*face.DescriptorSize], p, got[:m])
				face.DotInt8Go(codes[:m*face.DescriptorSize], p, want[:m])
				if !slices.Equal(got, want) {
					t.Fatalf("probe %d, %d entries: dots differ from pure Go", pi, m)
				}
			}
		}
	})
}

// TestScoresKernels scores a gallery of random unit descriptors with every
// kernel: the same float32 scores, and within the int8 error of the cosine.
func TestScoresKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var g face.Gallery
	var descs [][]float32
	for range 3000 {
		d := randomDescriptor(r)
		descs = append(descs, d)
		if _, err := g.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	ref := map[int][]float32{}
	forEachKernel(t, func(t *testing.T) {
		for k := range 5 {
			p, err := face.NewProbe(descs[k*100])
			if err != nil {
				t.Fatal(err)
			}
			out := make([]float32, g.Len())
			g.Scores(p, out, 0)
			if ref[k] == nil {
				ref[k] = slices.Clone(out)
			} else if !slices.Equal(out, ref[k]) {
				t.Fatalf("probe %d: scores differ from the first kernel's", k)
			}
			for i, s := range out {
				if want := face.Similarity(descs[k*100], descs[i]); math.Abs(float64(s-want)) > 0.01 {
					t.Fatalf("probe %d entry %d: score %.4f, cosine %.4f", k, i, s, want)
				}
				if s != g.Score(p, i) {
					t.Fatalf("probe %d entry %d: Scores %v, Score %v", k, i, s, g.Score(p, i))
				}
			}
		}
	})
}

func randomDescriptor(r *rand.Rand) []float32 {
	v := make([]float32, face.DescriptorSize)
	var norm float64
	for j := range v {
		x := r.NormFloat64()
		v[j] = float32(x)
		norm += x * x
	}
	for j := range v {
		v[j] /= float32(math.Sqrt(norm))
	}
	return v
}

// BenchmarkScan measures the 1:N scan with each kernel on one goroutine
// over 100,000 entries; cpu-Mcmp/s counts the thread's CPU time only, so
// that other processes on the machine do not lower it.
func BenchmarkScan(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var g face.Gallery
	for range 100_000 {
		if _, err := g.Add(randomDescriptor(r)); err != nil {
			b.Fatal(err)
		}
	}
	p, err := face.NewProbe(randomDescriptor(r))
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, g.Len())
	for _, name := range face.Kernels() {
		b.Run(name, func(b *testing.B) {
			defer face.UseKernel(name)()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := threadCPU()
			for b.Loop() {
				g.Scores(p, out, 1)
			}
			cpu := (threadCPU() - start).Seconds()
			b.ReportMetric(float64(g.Len())*float64(b.N)/cpu/1e6, "cpu-Mcmp/s")
		})
	}
}

// TestGalleryBlocks scores a gallery made of blocks of uneven sizes (a
// Block quantised apart and appended whole, single entries, Adds after
// them) with 1–3 workers: every score the same as the gallery the
// descriptors were added to one by one.
func TestGalleryBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var descs [][]float32
	var whole face.Gallery
	for range 3100 {
		d := randomDescriptor(r)
		descs = append(descs, d)
		if _, err := whole.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	var blocks face.Gallery
	next := 0
	for _, size := range []int{1, 1030, 2, 1, 1500, 7} {
		b := face.NewBlock(size / 2)
		for _, d := range descs[next : next+size] {
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if first := blocks.AppendBlock(b); first != next {
			t.Fatalf("AppendBlock = %d, want %d", first, next)
		}
		next += size
	}
	for _, d := range descs[next:] {
		if _, err := blocks.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if blocks.Len() != whole.Len() {
		t.Fatalf("Len = %d, want %d", blocks.Len(), whole.Len())
	}
	forEachKernel(t, func(t *testing.T) {
		for _, k := range []int{0, 1031, len(descs) - 1} {
			p, err := face.NewProbe(descs[k])
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, whole.Len())
			whole.Scores(p, want, 1)
			for workers := 1; workers <= 3; workers++ {
				got := make([]float32, blocks.Len())
				blocks.Scores(p, got, workers)
				if !slices.Equal(got, want) {
					t.Fatalf("probe %d workers=%d: scores over blocks differ", k, workers)
				}
			}
			for i := range descs {
				if got := blocks.Score(p, i); got != want[i] {
					t.Fatalf("probe %d entry %d: Score over blocks %v, want %v", k, i, got, want[i])
				}
			}
		}
	})
}
