package face

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Gallery holds enrolled descriptors for 1:N search in a few large blocks
// of contiguous memory, quantised to int8 with one scale per descriptor: a
// 128-d entry takes 132 bytes, so a scan is bound by arithmetic rather
// than memory bandwidth, and the cosine is recovered to within about
// 0.003. A Block quantised apart from the gallery (a snapshot's chunk on
// another core) joins it without being copied (AppendBlock).
type Gallery struct {
	blocks []Block
	starts []int // number of block b's first entry
	n      int
}

// Block is descriptors quantised as a Gallery holds them, built apart from
// it.
type Block struct {
	codes  []int8    // DescriptorSize per entry
	scales []float32 // per entry: descriptor ≈ code · scale
}

// NewBlock returns an empty block with room for n descriptors.
func NewBlock(n int) Block {
	return Block{codes: make([]int8, 0, n*DescriptorSize), scales: make([]float32, 0, n)}
}

// Len is the number of descriptors in the block.
func (b *Block) Len() int { return len(b.scales) }

// Add quantises an L2-normalised descriptor into the block.
func (b *Block) Add(d []float32) error {
	if len(d) != DescriptorSize {
		return fmt.Errorf("face: gallery: descriptor has %d values, want %d", len(d), DescriptorSize)
	}
	n := len(b.codes)
	b.codes = slices.Grow(b.codes, DescriptorSize)[:n+DescriptorSize]
	b.scales = append(b.scales, quantize(b.codes[n:], d))
	return nil
}

// blockEntries is how many entries Add puts in one block before it starts
// the next.
const blockEntries = 1 << 14

// Len is the number of enrolled descriptors.
func (g *Gallery) Len() int { return g.n }

// Add appends an L2-normalised descriptor and returns its index.
func (g *Gallery) Add(d []float32) (int, error) {
	last := len(g.blocks) - 1
	if last < 0 || g.blocks[last].Len() >= blockEntries {
		g.blocks = append(g.blocks, Block{})
		g.starts = append(g.starts, g.n)
		last++
	}
	if err := g.blocks[last].Add(d); err != nil {
		return 0, err
	}
	g.n++
	return g.n - 1, nil
}

// AppendBlock appends the block's descriptors and returns the index of
// the first. The gallery keeps the block's memory as its own: the caller
// must not add to it after.
func (g *Gallery) AppendBlock(b Block) int {
	first := g.n
	if b.Len() == 0 {
		return first
	}
	b.codes, b.scales = slices.Clip(b.codes), slices.Clip(b.scales) // an Add after it copies
	g.blocks = append(g.blocks, b)
	g.starts = append(g.starts, first)
	g.n += b.Len()
	return first
}

// block returns the block holding entry i.
func (g *Gallery) block(i int) int {
	b, _ := slices.BinarySearch(g.starts, i)
	if b == len(g.starts) || g.starts[b] > i {
		b--
	}
	return b
}

// quantize writes d's int8 codes, at the scale of its largest component,
// to code and returns the scale.
func quantize(code []int8, d []float32) float32 {
	var m float32
	for _, v := range d {
		m = max(m, float32(math.Abs(float64(v))))
	}
	if m == 0 {
		clear(code)
		return 0
	}
	inv := 127 / m
	for i, v := range d {
		code[i] = int8(math.Round(float64(v * inv)))
	}
	return m / 127
}

// Probe is a descriptor prepared once for scanning a gallery.
type Probe struct {
	code  []int16
	scale float32
}

// NewProbe prepares an L2-normalised descriptor for Search.
func NewProbe(d []float32) (*Probe, error) {
	if len(d) != DescriptorSize {
		return nil, fmt.Errorf("face: probe: descriptor has %d values, want %d", len(d), DescriptorSize)
	}
	code := make([]int8, DescriptorSize)
	scale := quantize(code, d)
	p := &Probe{code: make([]int16, len(code)), scale: scale}
	for i, c := range code {
		p.code[i] = int16(c)
	}
	return p, nil
}

// Scores writes the cosine similarity of the probe to every gallery entry
// into out (len ≥ g.Len()), using workers goroutines (≤ 0: all CPUs).
func (g *Gallery) Scores(p *Probe, out []float32, workers int) {
	n := g.Len()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := max((n+workers-1)/workers, 1024)
	if chunk >= n {
		g.scan(p, 0, n, out)
		return
	}
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.scan(p, lo, hi, out)
		}()
	}
	wg.Wait()
}

// Score returns the cosine similarity of the probe to entry i, computed as
// Scores computes it: for the few entries another modality shortlisted.
func (g *Gallery) Score(p *Probe, i int) float32 {
	b := g.block(i)
	blk, k := &g.blocks[b], i-g.starts[b]
	var dot [1]int32
	dotInt8(blk.codes[k*DescriptorSize:(k+1)*DescriptorSize], p.code, dot[:])
	return float32(dot[0]) * blk.scales[k] * p.scale
}

// scan scores entries [lo, hi), block by block.
func (g *Gallery) scan(p *Probe, lo, hi int, out []float32) {
	dots := make([]int32, hi-lo)
	for b := g.block(lo); lo < hi; b++ {
		blk, base := &g.blocks[b], g.starts[b]
		end := min(hi, base+blk.Len())
		d := dots[:end-lo]
		dotInt8(blk.codes[(lo-base)*DescriptorSize:(end-base)*DescriptorSize], p.code, d)
		for i, dot := range d {
			out[lo+i] = float32(dot) * blk.scales[lo-base+i] * p.scale
		}
		lo = end
	}
}

// dotInt8Go is the portable int8 scan: dots[i] = codes[i·128:(i+1)·128]·probe.
// It scores two entries per 64-bit multiplication: the pair's codes packed
// as lo + hi·2³² times the probe value gives both products, and their sums
// (|·| ≤ 128·128·127 < 2³¹) stay apart in the two halves, the high one
// short by one when the low one is negative.
func dotInt8Go(codes []int8, probe []int16, dots []int32) {
	p := (*[DescriptorSize]int16)(probe)
	i := 0
	for ; i+1 < len(dots); i += 2 {
		a := (*[DescriptorSize]int8)(codes[i*DescriptorSize:])
		b := (*[DescriptorSize]int8)(codes[(i+1)*DescriptorSize:])
		var s0, s1 int64
		for j := 0; j < DescriptorSize; j += 4 {
			s0 += (int64(a[j])+int64(b[j])<<32)*int64(p[j]) +
				(int64(a[j+2])+int64(b[j+2])<<32)*int64(p[j+2])
			s1 += (int64(a[j+1])+int64(b[j+1])<<32)*int64(p[j+1]) +
				(int64(a[j+3])+int64(b[j+3])<<32)*int64(p[j+3])
		}
		s := s0 + s1
		lo := int32(s)
		dots[i], dots[i+1] = lo, int32((s-int64(lo))>>32)
	}
	for ; i < len(dots); i++ {
		e := (*[DescriptorSize]int8)(codes[i*DescriptorSize:])
		var s int32
		for j := 0; j < DescriptorSize; j += 4 {
			s += int32(e[j])*int32(p[j]) + int32(e[j+1])*int32(p[j+1]) +
				int32(e[j+2])*int32(p[j+2]) + int32(e[j+3])*int32(p[j+3])
		}
		dots[i] = s
	}
}
