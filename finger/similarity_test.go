package finger_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/huella-abis/huella/finger"
)

// forEachSimilarityKernel runs f once per descriptor scan kernel this
// machine runs, as a subtest named after it, with the kernel selected.
func forEachSimilarityKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range finger.SimilarityKernels() {
		t.Run(name, func(t *testing.T) {
			defer finger.UseSimilarityKernel(name)()
			f(t)
		})
	}
}

func TestSimilarityKernels(t *testing.T) {
	names := finger.SimilarityKernels()
	if names[0] != "generic" {
		t.Errorf("kernels %v: want generic first", names)
	}
	if os.Getenv("HUELLA_CPU") == "" && finger.SimilarityKernel() != names[len(names)-1] {
		t.Errorf("SimilarityKernel() = %q with no cap, want the fastest of %v", finger.SimilarityKernel(), names)
	}
}

// checkSimilarities compares every kernel's scan with Similarity, pair by
// pair, and checks that out is written no further than len(all).
func checkSimilarities(t *testing.T, probes, all []finger.Descriptor) {
	t.Helper()
	forEachSimilarityKernel(t, func(t *testing.T) {
		for pi := range probes {
			for _, n := range []int{0, 1, 2, len(all)} {
				out := make([]int32, n+1)
				out[n] = -7
				probes[pi].Similarities(all[:n], out)
				for i := range n {
					if want := probes[pi].Similarity(&all[i]); int(out[i]) != want {
						t.Fatalf("probe %d entry %d of %d: %d, Similarity %d", pi, i, n, out[i], want)
					}
				}
				if out[n] != -7 {
					t.Fatalf("probe %d: wrote past %d entries", pi, n)
				}
			}
		}
	})
}

func TestSimilaritiesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var all []finger.Descriptor
	for range 500 {
		var d finger.Descriptor
		for w := range d {
			d[w] = r.Uint64() & r.Uint64()
		}
		all = append(all, d)
	}
	var ones finger.Descriptor
	for w := range ones {
		ones[w] = ^uint64(0)
	}
	all = append(all, ones, finger.Descriptor{})
	checkSimilarities(t, []finger.Descriptor{all[0], all[7], ones, {}}, all)
}

// TestSimilaritiesReal compares the kernels on descriptors of real prints.
func TestSimilaritiesReal(t *testing.T) {
	var all []finger.Descriptor
	for _, name := range []string{"101_1", "101_2", "102_1", "102_2", "103_1", "104_1"} {
		all = append(all, finger.Describe(MustExtract(t, "DB1_B", name)))
	}
	checkSimilarities(t, slices.Clone(all), all)
}
