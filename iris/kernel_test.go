package iris_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/huella-abis/huella/iris"
)

// TestKernelsTails searches galleries of every small size and of sizes just
// around the scan's split points with each kernel and 1–3 workers: the
// first, last and only entries, and the ragged last part of each worker's
// range, must give what the exhaustive scalar scan gives.
func TestKernelsTails(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var members []*iris.Template
	for i := 0; i < 2051; i++ {
		members = append(members, randomTemplate(r))
	}
	// A mate of the last entry, so that the best candidate sits at the tail.
	probe := iris.NewProbe(noisyCopy(r, members[len(members)-1], 0.15))
	forEachKernel(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 9, 1023, 1024, 1025, 2047, 2049, 2051} {
			var g iris.Gallery
			for _, m := range members[:n] {
				g.Add(m)
			}
			for _, k := range []int{1, 3, 10} {
				want := g.SearchExhaustive(probe, k)
				for workers := 1; workers <= 3; workers++ {
					if got := g.Search(probe, k, workers); !slices.Equal(got, want) {
						t.Fatalf("n=%d k=%d workers=%d: Search %v, exhaustive %v", n, k, workers, got, want)
					}
				}
			}
		}
	})
}

// TestKernelsOddMasks compares every kernel's counts with the pure-Go ones
// for masks whose valid bits end at every bit position of the code (a
// prefix of 0…CodeBits bits) and for single valid bits, so that each
// chunk, each nibble and the last rotation row are checked at their edges.
func TestKernelsOddMasks(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	prefix := func(bits int) []uint64 {
		m := make([]uint64, iris.CodeWords)
		for b := 0; b < bits; b++ {
			m[b/64] |= 1 << (b % 64)
		}
		return m
	}
	forEachKernel(t, func(t *testing.T) {
		for bits := 0; bits <= iris.CodeBits; bits += 7 {
			a, b := randomTemplate(r), randomTemplate(r)
			a.Mask = prefix(bits)
			p := iris.NewProbe(a)
			checkCounts(t, p, append(slices.Clone(b.Code), b.Mask...))
			checkCounts(t, p, append(slices.Clone(b.Code), prefix(iris.CodeBits-bits)...))
		}
		for bit := 0; bit < iris.CodeBits; bit += 5 {
			a, b := randomTemplate(r), randomTemplate(r)
			a.Mask = make([]uint64, iris.CodeWords)
			a.Mask[bit/64] = 1 << (bit % 64)
			for i := range b.Mask {
				b.Mask[i] = ^uint64(0)
			}
			checkCounts(t, iris.NewProbe(a), append(slices.Clone(b.Code), b.Mask...))
		}
	})
}
