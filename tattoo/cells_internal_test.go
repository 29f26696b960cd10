package tattoo

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// noisyDescriptors returns n random descriptors and, for each, a copy
// with flips random bits changed, shuffled, so that every copy's nearest
// original is its source.
func noisyDescriptors(n, flips int) (originals, copies []Descriptor) {
	r := rand.New(rand.NewPCG(23, 42))
	originals = make([]Descriptor, n)
	for i := range originals {
		originals[i] = Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	}
	copies = slices.Clone(originals)
	for i := range copies {
		for range flips {
			b := r.IntN(256)
			copies[i][b>>6] ^= 1 << (b & 63)
		}
	}
	r.Shuffle(len(copies), func(i, j int) { copies[i], copies[j] = copies[j], copies[i] })
	return originals, copies
}

func TestProbeCellsNearest(t *testing.T) {
	v := DefaultVocabulary()
	probe, _ := noisyDescriptors(50, 0)
	const k = 8
	cells := probeCellsNearest(v, probe, k)
	if len(cells) != k*len(probe) {
		t.Fatalf("got %d cells, want %d", len(cells), k*len(probe))
	}
	near := probeCells(v, probe)
	for i := range probe {
		row := cells[k*i : k*i+k]
		if row[0] != near[2*i] {
			t.Errorf("descriptor %d: nearest cell %d, want %d as probeCells", i, row[0], near[2*i])
		}
		for j := 1; j < k; j++ {
			a := probe[i].Distance(&v.Centers[0][row[j-1]])
			b := probe[i].Distance(&v.Centers[0][row[j]])
			if a > b || slices.Contains(row[:j], row[j]) {
				t.Fatalf("descriptor %d: cells %v not distinct and nearest first", i, row)
			}
		}
	}
}

// Searching every first-level cell must find what matching against every
// candidate descriptor finds.
func TestMatchInAllCellsIsExhaustive(t *testing.T) {
	v := DefaultVocabulary()
	candidate, probe := noisyDescriptors(600, 30)
	all := len(v.Centers[0])
	got := matchInCells(probe, probeCellsNearest(v, probe, all), all, candidate, newCellIndex(v, candidate))
	want := matchDescriptors(probe, candidate)
	if len(want) < 500 {
		t.Fatalf("exhaustive matching found %d of 600 matches, want most", len(want))
	}
	sortMatches := func(ms []Match) {
		slices.SortFunc(ms, func(a, b Match) int { return a.Probe - b.Probe })
	}
	sortMatches(got)
	sortMatches(want)
	if !slices.Equal(got, want) {
		t.Errorf("matching in all cells found %d matches, exhaustive matching %d", len(got), len(want))
	}
	// Two cells find fewer: that is what reverifying wider recovers.
	if narrow := matchInCells(probe, probeCells(v, probe), 2, candidate, newCellIndex(v, candidate)); len(narrow) > len(want) {
		t.Errorf("two cells found %d matches, more than exhaustive matching's %d", len(narrow), len(want))
	}
}
