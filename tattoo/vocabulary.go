package tattoo

import (
	"bytes"
	_ "embed" // the default vocabulary
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// Vocabulary is a vocabulary tree over binary descriptors (Nistér and
// Stewénius 2006): Branching centres at each of Depth levels, so
// Branching^Depth visual words, each with an inverse document frequency
// learnt from the training photographs.
type Vocabulary struct {
	Branching, Depth int
	// Centers holds the tree's nodes level by level: Branching at level 1,
	// Branching² at level 2…, children of node k at [k·B, k·B+B).
	Centers [][]Descriptor
	// IDF is the weight of each leaf word.
	IDF []float32
}

// Size returns the number of visual words (leaves).
func (v *Vocabulary) Size() int { return len(v.IDF) }

// Word returns the leaf reached by descending the tree greedily.
func (v *Vocabulary) Word(d *Descriptor) int {
	node := 0
	for l := 0; l < v.Depth; l++ {
		cs := v.Centers[l][node*v.Branching : node*v.Branching+v.Branching]
		best, bd := 0, 1<<30
		for k := range cs {
			if dist := d.Distance(&cs[k]); dist < bd {
				best, bd = k, dist
			}
		}
		node = node*v.Branching + best
	}
	return node
}

// Words quantises every descriptor.
func (v *Vocabulary) Words(ds []Descriptor) []uint32 {
	out := make([]uint32, len(ds))
	for i := range ds {
		out[i] = uint32(v.Word(&ds[i]))
	}
	return out
}

// QueryWords quantises a probe's descriptors with multiple assignment: each
// descriptor gives its nearest leaf and up to queryWords−1 more leaves at
// most queryWordMargin bits farther, searched under its nearest first-level
// node and the second nearest when that is within secondCellMargin. A
// descriptor near a boundary between words then still meets the gallery
// images whose matching descriptor fell on the other side (Jégou et al.
// 2010); the gallery side keeps one word per descriptor.
func (v *Vocabulary) QueryWords(ds []Descriptor) []uint32 {
	if v.Depth < 2 {
		return v.Words(ds)
	}
	type leaf struct{ word, dist int }
	out := make([]uint32, 0, 2*len(ds))
	b := v.Branching
	for i := range ds {
		d := &ds[i]
		var best [queryWords]leaf
		for k := range best {
			best[k] = leaf{-1, 1 << 30}
		}
		c1, c2 := nearestTwo(v.Centers[0], d)
		for _, node := range [2]int{c1, c2} {
			if node < 0 {
				continue
			}
			for l := 1; l < v.Depth-1; l++ {
				cs := v.Centers[l][node*b : node*b+b]
				nb, nd := 0, 1<<30
				for k := range cs {
					if dist := d.Distance(&cs[k]); dist < nd {
						nb, nd = k, dist
					}
				}
				node = node*b + nb
			}
			kids := v.Centers[v.Depth-1][node*b : node*b+b]
			for k := range kids {
				dist := d.Distance(&kids[k])
				if dist >= best[queryWords-1].dist {
					continue
				}
				j := queryWords - 1
				for j > 0 && best[j-1].dist > dist {
					best[j] = best[j-1]
					j--
				}
				best[j] = leaf{node*b + k, dist}
			}
		}
		for k, w := range best {
			if w.word < 0 || (k > 0 && w.dist > best[0].dist+queryWordMargin) {
				break
			}
			out = append(out, uint32(w.word))
		}
	}
	return out
}

// TrainVocabulary builds a vocabulary tree by hierarchical k-majority
// clustering (k-means under Hamming distance with bitwise-majority
// centres) of the descriptors of a set of training images, and sets each
// word's IDF from the number of images it occurs in.
func TrainVocabulary(images [][]Descriptor, branching, depth, iterations int, seed uint64) (*Vocabulary, error) {
	if branching < 2 || depth < 1 || math.Pow(float64(branching), float64(depth)) > 1<<22 {
		return nil, fmt.Errorf("tattoo: vocabulary %d^%d out of range", branching, depth)
	}
	var all []Descriptor
	for _, ds := range images {
		all = append(all, ds...)
	}
	if len(all) < branching {
		return nil, errors.New("tattoo: too few descriptors to train a vocabulary")
	}
	rng := rand.New(rand.NewPCG(seed, 0xb0))
	v := &Vocabulary{Branching: branching, Depth: depth, Centers: make([][]Descriptor, depth)}
	groups := [][]Descriptor{all}
	for l := 0; l < depth; l++ {
		var next [][]Descriptor
		for _, g := range groups {
			centers, members := kMajority(g, branching, iterations, rng)
			v.Centers[l] = append(v.Centers[l], centers...)
			next = append(next, members...)
		}
		groups = next
	}
	n := v.leafCount()
	df := make([]int, n)
	for _, ds := range images {
		seen := map[uint32]bool{}
		for _, w := range v.Words(ds) {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	v.IDF = make([]float32, n)
	for i := range df {
		v.IDF[i] = float32(math.Log(float64(len(images)+1) / float64(df[i]+1)))
	}
	return v, nil
}

// TrainDefaultVocabulary trains a vocabulary with the engine's parameters
// (the shape of the shipped one) from the descriptors of training images.
func TrainDefaultVocabulary(images [][]Descriptor) (*Vocabulary, error) {
	return TrainVocabulary(images, vocabularyBranching, vocabularyDepth, vocabularyIterations, vocabularySeed)
}

func (v *Vocabulary) leafCount() int {
	n := 1
	for range v.Depth {
		n *= v.Branching
	}
	return n
}

// kMajority clusters ds into k groups. When ds has fewer than k distinct
// members the missing centres repeat existing ones (their groups stay empty).
func kMajority(ds []Descriptor, k, iterations int, rng *rand.Rand) ([]Descriptor, [][]Descriptor) {
	centers := make([]Descriptor, k)
	if len(ds) == 0 {
		return centers, make([][]Descriptor, k)
	}
	// k-means++ style seeding.
	centers[0] = ds[rng.IntN(len(ds))]
	dist := make([]int, len(ds))
	for i := range dist {
		dist[i] = ds[i].Distance(&centers[0])
	}
	for c := 1; c < k; c++ {
		total := 0
		for _, d := range dist {
			total += d * d
		}
		pick := 0
		if total > 0 {
			r := rng.IntN(total)
			for i, d := range dist {
				r -= d * d
				if r < 0 {
					pick = i
					break
				}
			}
		} else {
			pick = rng.IntN(len(ds))
		}
		centers[c] = ds[pick]
		for i := range dist {
			dist[i] = min(dist[i], ds[i].Distance(&centers[c]))
		}
	}
	assign := make([]int, len(ds))
	for it := 0; it < iterations; it++ {
		changed := 0
		for i := range ds {
			best, bd := 0, 1<<30
			for c := range centers {
				if d := ds[i].Distance(&centers[c]); d < bd {
					best, bd = c, d
				}
			}
			if assign[i] != best || it == 0 {
				changed++
			}
			assign[i] = best
		}
		counts := make([][256]int32, k)
		sizes := make([]int32, k)
		for i, c := range assign {
			sizes[c]++
			for b := 0; b < 4; b++ {
				w := ds[i][b]
				for w != 0 {
					t := bits.TrailingZeros64(w)
					counts[c][b*64+t]++
					w &= w - 1
				}
			}
		}
		for c := range centers {
			if sizes[c] == 0 {
				continue
			}
			var d Descriptor
			for bit := 0; bit < 256; bit++ {
				if 2*counts[c][bit] > sizes[c] {
					d[bit>>6] |= 1 << (bit & 63)
				}
			}
			centers[c] = d
		}
		if changed == 0 {
			break
		}
	}
	members := make([][]Descriptor, k)
	for i, c := range assign {
		members[c] = append(members[c], ds[i])
	}
	return centers, members
}

// vocabularyMagic starts a serialised vocabulary.
var vocabularyMagic = [8]byte{'H', 'T', 'V', 'O', 'C', 'A', 'B', '1'}

// WriteTo serialises the vocabulary (little-endian).
func (v *Vocabulary) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	buf.Write(vocabularyMagic[:])
	binary.Write(&buf, binary.LittleEndian, uint32(v.Branching))
	binary.Write(&buf, binary.LittleEndian, uint32(v.Depth))
	for _, level := range v.Centers {
		binary.Write(&buf, binary.LittleEndian, level)
	}
	binary.Write(&buf, binary.LittleEndian, v.IDF)
	return buf.WriteTo(w)
}

// ReadVocabulary parses a vocabulary written by WriteTo.
func ReadVocabulary(data []byte) (*Vocabulary, error) {
	if len(data) < 16 || !bytes.Equal(data[:8], vocabularyMagic[:]) {
		return nil, errors.New("tattoo: not a vocabulary file")
	}
	b := binary.LittleEndian.Uint32(data[8:])
	d := binary.LittleEndian.Uint32(data[12:])
	if b < 2 || b > 4096 || d < 1 || d > 6 || math.Pow(float64(b), float64(d)) > 1<<22 {
		return nil, fmt.Errorf("tattoo: vocabulary %d^%d out of range", b, d)
	}
	want, n := 16, 1
	for range d {
		n *= int(b)
		want += 32 * n
	}
	if want += 4 * n; len(data) != want {
		return nil, fmt.Errorf("tattoo: vocabulary %d^%d needs %d bytes, have %d", b, d, want, len(data))
	}
	v := &Vocabulary{Branching: int(b), Depth: int(d), Centers: make([][]Descriptor, d)}
	r := bytes.NewReader(data[16:])
	n = 1
	for l := range v.Centers {
		n *= v.Branching
		v.Centers[l] = make([]Descriptor, n)
		if err := binary.Read(r, binary.LittleEndian, v.Centers[l]); err != nil {
			return nil, fmt.Errorf("tattoo: vocabulary level %d: %w", l, err)
		}
	}
	v.IDF = make([]float32, n)
	if err := binary.Read(r, binary.LittleEndian, v.IDF); err != nil {
		return nil, fmt.Errorf("tattoo: vocabulary weights: %w", err)
	}
	if r.Len() != 0 {
		return nil, errors.New("tattoo: vocabulary has trailing bytes")
	}
	return v, nil
}

//go:embed vocabulary.bin
var defaultVocabularyData []byte

var defaultVocabulary = sync.OnceValue(func() *Vocabulary {
	v, err := ReadVocabulary(defaultVocabularyData)
	if err != nil {
		panic("tattoo: embedded vocabulary: " + err.Error()) // a build defect, not input
	}
	return v
})

// DefaultVocabulary returns the vocabulary shipped with the engine, trained
// with TrainDefaultVocabulary on the Instagram distractor photos only (no
// BIVTatt subject; see the package documentation and BENCHMARKS.md).
func DefaultVocabulary() *Vocabulary { return defaultVocabulary() }
