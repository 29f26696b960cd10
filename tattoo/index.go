package tattoo

import (
	"container/heap"
	"math"
)

// posting is one occurrence of a word in a gallery image: its entry and
// its normalised tf-idf weight.
type posting struct {
	entry  uint32
	weight float32
}

// invertedIndex maps each visual word to the gallery images holding it.
type invertedIndex struct {
	lists [][]posting
	idf   []float32
	count int
}

type scored struct {
	entry int
	score float64
}

func newInvertedIndex(words int) *invertedIndex {
	return &invertedIndex{lists: make([][]posting, words)}
}

// bagOfWords returns the distinct words of an image with their L2-normalised
// tf-idf weights.
func bagOfWords(words []uint32, idf []float32) map[uint32]float32 {
	tf := make(map[uint32]float32, len(words))
	for _, w := range words {
		tf[w]++
	}
	var norm float64
	for w, c := range tf {
		x := c * idf[w]
		tf[w] = x
		norm += float64(x * x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for w := range tf {
			tf[w] *= inv
		}
	}
	return tf
}

func (x *invertedIndex) add(words []uint32, idf []float32) {
	entry := uint32(x.count)
	x.count++
	for w, v := range bagOfWords(words, idf) {
		if v > 0 {
			x.lists[w] = append(x.lists[w], posting{entry, v})
		}
	}
}

// query returns the k entries with the highest cosine similarity to the
// probe's words among those keep accepts, best first.
func (x *invertedIndex) query(words []uint32, idf []float32, k int, keep func(int) bool) []scored {
	acc := make([]float32, x.count)
	for w, q := range bagOfWords(words, idf) {
		for _, p := range x.lists[w] {
			acc[p.entry] += q * p.weight
		}
	}
	h := &minHeap{}
	for i, s := range acc {
		if s <= 0 {
			continue
		}
		if h.Len() == k && float64(s) <= (*h)[0].score {
			continue
		}
		if !keep(i) {
			continue
		}
		if h.Len() < k {
			heap.Push(h, scored{i, float64(s)})
		} else {
			(*h)[0] = scored{i, float64(s)}
			heap.Fix(h, 0)
		}
	}
	out := make([]scored, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(scored)
	}
	return out
}

type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i].score < h[j].score }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(v any)        { *h = append(*h, v.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
