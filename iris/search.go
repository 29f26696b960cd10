package iris

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Gallery is the 1:N search structure: every enrolled template's code and
// mask packed (2·CodeWords words per entry) in a few large blocks of
// contiguous memory, so a scan streams memory linearly. A block built
// apart from the gallery (AppendBlock: a snapshot's chunk decoded on
// another core) joins it without being copied.
type Gallery struct {
	blocks [][]uint64 // entries packed, block after block
	starts []int      // number of block b's first entry
	n      int
}

// EntryWords is the number of 64-bit words one gallery entry occupies.
const EntryWords = 2 * CodeWords

// blockEntries is how many entries Add puts in one block before it starts
// the next: 4 MiB of codes and masks with 32-word codes.
const blockEntries = 1 << 12

// Add appends t to the gallery and returns its index.
func (g *Gallery) Add(t *Template) int {
	last := len(g.blocks) - 1
	if last < 0 || len(g.blocks[last]) >= blockEntries*EntryWords {
		g.blocks = append(g.blocks, nil)
		g.starts = append(g.starts, g.n)
		last++
	}
	g.blocks[last] = append(append(g.blocks[last], t.Code...), t.Mask...)
	g.n++
	return g.n - 1
}

// AppendBlock appends the entries packed in words (each a code then its
// mask, as Add packs them) and returns the index of the first. The
// gallery keeps words as its storage: the caller must not change them.
func (g *Gallery) AppendBlock(words []uint64) int {
	first := g.n
	if len(words) < EntryWords {
		return first
	}
	n := len(words) / EntryWords * EntryWords
	words = words[:n:n] // an Add after it copies
	g.blocks = append(g.blocks, words)
	g.starts = append(g.starts, first)
	g.n += len(words) / EntryWords
	return first
}

// Len is the number of templates in the gallery.
func (g *Gallery) Len() int { return g.n }

// block returns the block holding entry i.
func (g *Gallery) block(i int) int {
	b, _ := slices.BinarySearch(g.starts, i)
	if b == len(g.starts) || g.starts[b] > i {
		b--
	}
	return b
}

func (g *Gallery) entry(i int) []uint64 {
	b := g.block(i)
	k := i - g.starts[b]
	return g.blocks[b][k*EntryWords : (k+1)*EntryWords]
}

// Candidate is one search result: the gallery index, its distance to the
// probe and the rotation (in columns) that gave it.
type Candidate struct {
	Index    int
	Distance float64
	Shift    int
}

// less orders candidates by distance, then by index, so that every search
// method returns the same list.
func less(a, b Candidate) bool {
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	return a.Index < b.Index
}

// topK keeps the k best candidates seen.
type topK struct {
	k    int
	list []Candidate // sorted best first
}

// bound is the distance a candidate must beat to enter the list.
func (t *topK) bound() float64 {
	if len(t.list) < t.k {
		return 2
	}
	return t.list[len(t.list)-1].Distance
}

func (t *topK) offer(c Candidate) {
	if len(t.list) == t.k && !less(c, t.list[len(t.list)-1]) {
		return
	}
	i := sort.Search(len(t.list), func(i int) bool { return less(c, t.list[i]) })
	if len(t.list) < t.k {
		t.list = append(t.list, Candidate{})
	}
	copy(t.list[i+1:], t.list[i:])
	t.list[i] = c
}

// SearchExhaustive returns the k gallery entries closest to the probe,
// comparing every entry at every shift on every word: the reference the
// fast search is tested against.
func (g *Gallery) SearchExhaustive(p *Probe, k int) []Candidate {
	top := topK{k: k}
	for i := 0; i < g.Len(); i++ {
		d, s := p.distance(g.entry(i))
		top.offer(Candidate{Index: i, Distance: d, Shift: s})
	}
	return top.list
}

// Search returns the k gallery entries closest to the probe, best first,
// exactly as SearchExhaustive does, scanning the gallery with workers
// goroutines (0 = GOMAXPROCS).
func (g *Gallery) Search(p *Probe, k, workers int) []Candidate {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := g.Len()
	workers = max(1, min(workers, n/1024+1))
	if workers == 1 {
		top := topK{k: k}
		g.scan(p, 0, n, &top)
		return top.list
	}
	tops := make([]topK, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func(top *topK) {
			defer wg.Done()
			*top = topK{k: k}
			g.scan(p, lo, hi, top)
		}(&tops[w])
	}
	wg.Wait()
	all := topK{k: k}
	for _, t := range tops {
		for _, c := range t.list {
			all.offer(c)
		}
	}
	return all.list
}

// scan offers the entries lo..hi−1 to top, block by block. An entry whose
// distance (or lower bound) exceeds the list's bound cannot enter it and
// is not offered.
func (g *Gallery) scan(p *Probe, lo, hi int, top *topK) {
	for b := g.block(lo); lo < hi; b++ {
		base, words := g.starts[b], g.blocks[b]
		end := min(hi, base+len(words)/EntryWords)
		scanBlock(p, words[(lo-base)*EntryWords:(end-base)*EntryWords], lo, top)
		lo = end
	}
}

// scanBlock offers the entries packed in entries, the first numbered lo,
// to top.
//
// The loop is software-pipelined: entry i's counts are computed before
// entry i−1's are judged, so that the judgement (the extrema reduced at the
// kernel's end, then the floating-point bound) waits on results finished a
// whole kernel ago instead of stalling the next kernel behind it. Judging
// i−1 with the bound known before i changes nothing: the bound only moves
// when an entry is offered, and it is updated before the next judgement.
func scanBlock(p *Probe, entries []uint64, lo int, top *topK) {
	n := len(entries) / EntryWords
	if n == 0 {
		return
	}
	bound := top.bound()
	var counts [2][RotRows]uint64
	var extrema [2][3]uint32
	for i := 0; i <= n; i++ {
		if i < n {
			e := &extrema[i&1]
			e[0], e[1], e[2] = p.counts(entries[i*EntryWords:(i+1)*EntryWords], &counts[i&1])
		}
		if i == 0 {
			continue
		}
		j := i - 1
		e := &extrema[j&1]
		if lowerBound(e[0], e[1], e[2]) > bound+boundMargin {
			continue
		}
		d, s := bestOf(&counts[j&1], e[0], e[1], e[2], bound)
		if d > bound+boundMargin {
			continue
		}
		top.offer(Candidate{Index: lo + j, Distance: d, Shift: s})
		bound = top.bound()
	}
}

// DistanceTo compares the probe with gallery entry i.
func (p *Probe) DistanceTo(g *Gallery, i int) (float64, int) {
	return p.fastDistance(g.entry(i), math.Inf(1))
}
