package tattoo

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/datasets"
)

// benchTemplates extracts the templates of the first n originals and the
// first n variants of the development set.
func benchTemplates(b *testing.B, n int) (originals, variants []*Template) {
	b.Helper()
	dir := datasets.Path(b, "tattoo/bivtatt-dev")
	images, err := ReadBIVTatt(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, im := range images {
		isVariant := im.Variant != ""
		if (isVariant && len(variants) >= n) || (!isVariant && len(originals) >= n) {
			continue
		}
		data, err := os.ReadFile(im.Path)
		if err != nil {
			b.Fatal(err)
		}
		t, err := ExtractBytes(data, im.Box)
		if err != nil {
			continue
		}
		if isVariant {
			variants = append(variants, t)
		} else {
			originals = append(originals, t)
		}
	}
	return originals, variants
}

// BenchmarkExtract measures decoding and extraction of one dev photo.
func BenchmarkExtract(b *testing.B) {
	dir := datasets.Path(b, "tattoo/bivtatt-dev")
	data, err := os.ReadFile(filepath.Join(dir, "images", "13_1.JPG"))
	if err != nil {
		b.Fatal(err)
	}
	box, err := readFirstBox(filepath.Join(dir, "bounding_boxes", "13_1.txt"))
	if err != nil {
		b.Fatal(err)
	}
	defer lockThread()()
	var cpu time.Duration
	for b.Loop() {
		start := threadCPUTime()
		if _, err := ExtractBytes(data, box); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPUTime() - start
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/extract")
}

// BenchmarkSearch100k searches a synthetic gallery of 100,000 SMT images:
// each entry is one of the dev originals' templates (shared, to bound
// memory) indexed under a random 80% of its visual words, so posting lists
// have the length and spread of a real gallery of that size and every
// shortlisted entry costs a real geometric verification. Global
// descriptors are the originals' own, so the global shortlist adds its
// full share of verifications.
func BenchmarkSearch100k(b *testing.B) {
	const size = 100_000
	originals, variants := benchTemplates(b, 80)
	g := NewGallery(nil)
	type prepared struct {
		words []uint32
		cells *cellIndex
	}
	base := make([]prepared, len(originals))
	for i, t := range originals {
		base[i] = prepared{g.vocab.Words(t.Descriptors), newCellIndex(g.vocab, t.Descriptors)}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := make([]uint32, 0, maxKeypoints)
	for i := range size {
		k := rng.IntN(len(originals))
		words = words[:0]
		for _, w := range base[k].words {
			if rng.Float64() < 0.8 {
				words = append(words, w)
			}
		}
		g.entries = append(g.entries, galleryEntry{id: string(rune(i)), template: originals[k], cells: base[k].cells})
		g.index.add(words, g.vocab.IDF)
		global := make([]float32, globalDims)
		if len(originals[k].Global) == globalDims {
			copy(global, originals[k].Global)
		}
		g.globals = append(g.globals, global...)
	}
	defer lockThread()()
	var cpu time.Duration
	i := 0
	for b.Loop() {
		start := threadCPUTime()
		g.Search(variants[i%len(variants)], SearchOptions{Limit: 10})
		cpu += threadCPUTime() - start
		i++
	}
	// CPU time of the searching thread: honest on a shared, busy machine.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/search")
}
