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

// TestSearchBlocks searches galleries of the same entries made of blocks of
// uneven sizes (AppendBlock: single entries, blocks shorter and longer than
// a worker's share, Adds after them) with each kernel and 1–3 workers: the
// candidates and DistanceTo must be those of the gallery the entries were
// added to one by one, so that the scan's pipeline starts and ends right
// at the blocks' boundaries.
func TestSearchBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var members []*iris.Template
	for range 2600 {
		members = append(members, randomTemplate(r))
	}
	var whole iris.Gallery
	for _, m := range members {
		whole.Add(m)
	}
	var blocks iris.Gallery
	next := 0
	for _, size := range []int{1, 1, 2, 700, 1, 1030, 3, 600, 1} {
		var words []uint64
		for _, m := range members[next : next+size] {
			words = append(append(words, m.Code...), m.Mask...)
		}
		if first := blocks.AppendBlock(words); first != next {
			t.Fatalf("AppendBlock = %d, want %d", first, next)
		}
		next += size
	}
	for _, m := range members[next:] {
		blocks.Add(m)
	}
	if blocks.Len() != len(members) {
		t.Fatalf("Len = %d, want %d", blocks.Len(), len(members))
	}
	probes := []*iris.Template{noisyCopy(r, members[0], 0.15), noisyCopy(r, members[703], 0.15), noisyCopy(r, members[len(members)-1], 0.15), randomTemplate(r)}
	forEachKernel(t, func(t *testing.T) {
		for pi, m := range probes {
			p := iris.NewProbe(m)
			for _, k := range []int{1, 5, 40} {
				want := whole.SearchExhaustive(p, k)
				if got := blocks.SearchExhaustive(p, k); !slices.Equal(got, want) {
					t.Fatalf("probe %d k=%d: exhaustive over blocks %v, want %v", pi, k, got, want)
				}
				for workers := 1; workers <= 3; workers++ {
					if got := blocks.Search(p, k, workers); !slices.Equal(got, want) {
						t.Fatalf("probe %d k=%d workers=%d: Search over blocks %v, want %v", pi, k, workers, got, want)
					}
				}
			}
			for _, i := range []int{0, 1, 2, 3, 4, 703, 704, 1733, 2337, len(members) - 1} {
				gotD, gotS := p.DistanceTo(&blocks, i)
				wantD, wantS := p.DistanceTo(&whole, i)
				if gotD != wantD || gotS != wantS {
					t.Fatalf("probe %d entry %d: DistanceTo over blocks %v %v, want %v %v", pi, i, gotD, gotS, wantD, wantS)
				}
			}
		}
	})
}
