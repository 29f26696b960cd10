package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/imgproc"
	_ "github.com/huella-abis/huella/wsq" // WSQ fingerprints decode like any image
)

// MinFingerQuality is the finger quality (0–100) below which a sample is
// not used for search and the officer is asked to recapture it.
const MinFingerQuality = 20

// Finger adapts the fingerprint engine. Its index is two-stage: it keeps
// the 256-byte descriptor each template carries (a copy on load) and is an
// engine.Preselector, so the gallery sums the descriptor similarities per
// subject and prepares and compares exactly only the best subjects'
// templates; it is an engine.OnDemand too, so a gallery with a template
// store keeps only the descriptors in memory and fetches the few templates
// the exact stage needs. With Exhaustive the index keeps every template's
// prepared search form instead and compares the probe with all of them:
// ~26 KB a finger and ~17k comparisons/s/core, the reference the two-stage
// index is measured against (BENCHMARKS.md, "Fingers at scale").
type Finger struct {
	Exhaustive bool
}

// Modality returns finger.
func (Finger) Modality() huella.Modality { return huella.ModalityFinger }

// Algorithm names the minutiae template format.
func (Finger) Algorithm() (string, int) { return "huella-finger", 1 }

// Extract decodes the image and extracts its minutiae at the sample's ppi.
func (Finger) Extract(ctx context.Context, s *huella.Sample, image []byte) ([]byte, int, error) {
	g, err := imgproc.DecodeGray(image)
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	t, err := finger.Extract(g, finger.Options{PPI: s.PPI})
	if err != nil {
		return nil, 0, unprocessable(s, err)
	}
	if t.Quality < MinFingerQuality {
		// Photos of other things yield a few stray "minutiae" at a quality
		// of 2–9; real prints of the dev sets rate 30 and more.
		return nil, t.Quality, unprocessable(s, fmt.Errorf("quality %d is below %d: recapture the finger", t.Quality, MinFingerQuality))
	}
	data, err := t.MarshalBinary()
	return data, t.Quality, err
}

// NewIndex returns a two-stage fingerprint index, or an index of prepared
// templates searched exhaustively (Exhaustive).
func (f Finger) NewIndex() Index {
	if f.Exhaustive {
		return &preparedFingerIndex{}
	}
	return &twoStageFingerIndex{}
}

var _ OnDemand = (*twoStageFingerIndex)(nil)

// FingerPreselect is how many entries the descriptor scan of a finger
// index keeps for the exact comparator, at least (Search keeps max(k,
// FingerPreselect)).
const FingerPreselect = 10

// twoStageFingerIndex is two-stage: every entry's fixed-length descriptor
// (finger.Describe, stored in the template since format version 2, so that
// adding is a copy) in a few large blocks of contiguous memory, scanned
// exhaustively with popcounts, and the stored template bytes, prepared for
// the exact comparator only for the entries the scan shortlisted. The
// prepared search form (~9 KB a finger) is never kept. Entries added with
// AddFirstStage keep no template bytes (an empty span of arena): their
// exact comparisons take the bytes the gallery fetched (ScoreTemplates).
// A snapshot's batches become blocks whole (AddBatch), without a copy.
type twoStageFingerIndex struct {
	mu     sync.RWMutex
	blocks []*fingerBlock
	starts []int // entry number of block b's first entry
	n      int
}

// fingerBlock is a run of a twoStageFingerIndex's entries, and the Batch
// a load fills.
type fingerBlock struct {
	descriptors []finger.Descriptor
	arena       []byte   // the templates' bytes without descriptor, back to back
	ends        []uint32 // end of entry i's bytes in arena; nil while no entry holds bytes
}

// fingerBlockEntries is how many entries Add puts in one block before it
// starts the next: 4 MiB of descriptors.
const fingerBlockEntries = 1 << 14

// errNotHeld is the error of an exact comparison with an entry whose
// template bytes the index does not hold (AddFirstStage).
var errNotHeld = errors.New("engine: the entry's template is in the store, not in the index")

func decodeFinger(data []byte) (*finger.Template, error) {
	var t finger.Template
	if err := t.UnmarshalBinary(data); err != nil {
		return nil, huella.Errorf(huella.EINVALID, "finger template: %v", err)
	}
	return &t, nil
}

// Add keeps the descriptor the template carries (format version 2: a
// copy) or, for a template of format version 1, describes it, and keeps the
// template's minutiae without the descriptor.
func (x *twoStageFingerIndex) Add(data []byte) (int, error) { return x.add(data, true) }

// AddFirstStage keeps only the template's descriptor (OnDemand).
func (x *twoStageFingerIndex) AddFirstStage(data []byte) (int, error) { return x.add(data, false) }

func (x *twoStageFingerIndex) add(data []byte, keep bool) (int, error) {
	d, err := fingerDescriptor(data)
	if err != nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	last := len(x.blocks) - 1
	if last < 0 || len(x.blocks[last].descriptors) >= fingerBlockEntries {
		x.blocks = append(x.blocks, &fingerBlock{})
		x.starts = append(x.starts, x.n)
		last++
	}
	x.blocks[last].add(d, data, keep)
	x.n++
	return x.n - 1, nil
}

// add appends an entry: its descriptor and, with keep, its minutiae.
func (b *fingerBlock) add(d finger.Descriptor, data []byte, keep bool) {
	b.descriptors = append(growSlack(b.descriptors, 1), d)
	if keep {
		if b.ends == nil {
			b.ends = make([]uint32, len(b.descriptors)-1, cap(b.descriptors))
		}
		b.arena = finger.AppendMinutiae(growSlack(b.arena, len(data)), data)
	}
	if b.ends != nil {
		b.ends = append(growSlack(b.ends, 1), uint32(len(b.arena)))
	}
}

// fingerDescriptor returns the descriptor a template carries (format
// version 2) or, for a template of format version 1, describes it.
func fingerDescriptor(data []byte) (finger.Descriptor, error) {
	d, stored, err := finger.StoredDescriptor(data)
	if err != nil {
		return d, huella.Errorf(huella.EINVALID, "finger template: %v", err)
	}
	if !stored {
		t, err := decodeFinger(data)
		if err != nil {
			return d, err
		}
		d = finger.Describe(t)
	}
	return d, nil
}

func (b *fingerBlock) Add(data []byte, firstStage bool) error {
	d, err := fingerDescriptor(data)
	if err != nil {
		return err
	}
	b.add(d, data, !firstStage)
	return nil
}

func (b *fingerBlock) Len() int { return len(b.descriptors) }

var _ Loader = (*twoStageFingerIndex)(nil)

// NewBatch returns an empty block sized for a batch's entries (Loader):
// its descriptors, and room for the minutiae of the held templates, whose
// size (with their descriptors) is size.
func (x *twoStageFingerIndex) NewBatch(entries, size, held int) Batch {
	b := &fingerBlock{descriptors: make([]finger.Descriptor, 0, entries)}
	if held > 0 {
		// Templates of format version 2 end with their descriptor, which
		// the arena does not keep; a version 1 template grows it.
		b.arena = make([]byte, 0, max(0, size-held*finger.DescriptorBytes))
	}
	return b
}

// AddBatch appends a batch as a block of the index (Loader).
func (x *twoStageFingerIndex) AddBatch(batch Batch) (int, error) {
	b, ok := batch.(*fingerBlock)
	if !ok {
		return 0, huella.Errorf(huella.EINVALID, "finger index: a batch of another index")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	first := x.n
	if len(b.descriptors) == 0 {
		return first, nil
	}
	// The block, clipped so that an Add after it copies rather than
	// writes into memory the batch handed over.
	blk := &fingerBlock{descriptors: slices.Clip(b.descriptors), arena: slices.Clip(b.arena), ends: slices.Clip(b.ends)}
	if len(blk.arena) == 0 {
		blk.arena = nil
	}
	*b = fingerBlock{}
	x.blocks = append(x.blocks, blk)
	x.starts = append(x.starts, first)
	x.n += len(blk.descriptors)
	return first, nil
}

func (x *twoStageFingerIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// locate returns the block of entry e and e's number within it. The
// caller holds the read lock.
func (x *twoStageFingerIndex) locate(e int) (*fingerBlock, int) {
	b := findBlock(x.starts, e)
	return x.blocks[b], e - x.starts[b]
}

// held reports whether the index holds entry e's template bytes. The
// caller holds the read lock.
func (x *twoStageFingerIndex) held(e int) bool {
	b, k := x.locate(e)
	return b.ends != nil && (k == 0 && b.ends[0] > 0 || k > 0 && b.ends[k] > b.ends[k-1])
}

// candidate prepares entry e, which the index holds, for the exact
// comparator. The caller holds the read lock.
func (x *twoStageFingerIndex) candidate(e int) *finger.Candidate {
	b, k := x.locate(e)
	start := uint32(0)
	if k > 0 {
		start = b.ends[k-1]
	}
	var t finger.Template
	if err := t.UnmarshalBinary(b.arena[start:b.ends[k]]); err != nil {
		panic("engine: finger index holds a template Add accepted but cannot decode: " + err.Error())
	}
	return finger.Prepare(&t)
}

// similarities writes the similarity of d to entries lo…hi−1 to out,
// block by block. The caller holds the read lock.
func (x *twoStageFingerIndex) similarities(d *finger.Descriptor, lo, hi int, out []int32) {
	from := lo
	for b := findBlock(x.starts, lo); lo < hi; b++ {
		blk, base := x.blocks[b], x.starts[b]
		end := min(hi, base+len(blk.descriptors))
		d.Similarities(blk.descriptors[lo-base:end-base], out[lo-from:end-from])
		lo = end
	}
}

// Search scans every descriptor, keeps the max(k, FingerPreselect) most
// similar entries, and returns the k best of those by the exact comparator.
func (x *twoStageFingerIndex) Search(probe []byte, k int) ([]Match, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	d, stored, _ := finger.StoredDescriptor(probe)
	if !stored {
		d = finger.Describe(t)
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	shortlist := x.preselect(&d, max(k, FingerPreselect))
	for _, e := range shortlist {
		if !x.held(e) {
			return nil, errNotHeld
		}
	}
	scores := make([]float64, len(shortlist))
	parallel(len(shortlist), func(i int) {
		scores[i] = finger.Compare(p, x.candidate(shortlist[i]))
	})
	out := topK(scores, k)
	for i := range out {
		out[i].Entry = shortlist[out[i].Entry]
	}
	return out, nil
}

func (x *twoStageFingerIndex) ScoreEntries(probe []byte, entries []int) ([]float64, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range entries {
		if e < 0 || e >= x.n {
			return nil, errNoEntry
		}
		if !x.held(e) {
			return nil, errNotHeld
		}
	}
	out := make([]float64, len(entries))
	parallel(len(entries), func(i int) {
		out[i] = finger.Compare(p, x.candidate(entries[i]))
	})
	return out, nil
}

// ScoreTemplates compares the probe exactly with templates fetched from
// the store (OnDemand), decoding and preparing each on all cores. A
// template that does not decode is EINVALID and nothing is scored.
func (x *twoStageFingerIndex) ScoreTemplates(probe []byte, templates [][]byte) ([]float64, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	decoded := make([]finger.Template, len(templates))
	for i, data := range templates {
		if err := decoded[i].UnmarshalBinary(data); err != nil {
			return nil, huella.Errorf(huella.EINVALID, "stored finger template %d: %v", i, err)
		}
	}
	out := make([]float64, len(templates))
	parallel(len(templates), func(i int) {
		out[i] = finger.Compare(p, finger.Prepare(&decoded[i]))
	})
	return out, nil
}

// Similarities returns the descriptor similarity of the probe to every
// entry (Preselector): the first stage the gallery sums per subject.
func (x *twoStageFingerIndex) Similarities(probe []byte, out []int32) ([]int32, error) {
	d, err := fingerDescriptor(probe)
	if err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.n
	out = slices.Grow(out[:0], n)[:n]
	workers := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	chunk := (n + workers - 1) / workers
	parallel(workers, func(w int) {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		x.similarities(&d, lo, hi, out[lo:hi])
	})
	return out, nil
}

// Bytes counts the descriptors, the templates' bytes and an offset per
// entry, however they are cut into blocks (a block with no template bytes
// has no offsets: a few bytes fewer than counted).
func (x *twoStageFingerIndex) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.n * (finger.DescriptorBytes + 4)
	for _, b := range x.blocks {
		n += len(b.arena)
	}
	return n
}

// preselect returns the m entries whose descriptors are most similar to
// d, scanning them all on every core; ties go to the lower entry. The
// caller holds the read lock.
func (x *twoStageFingerIndex) preselect(d *finger.Descriptor, m int) []int {
	n := x.n
	m = min(m, n)
	if m == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	chunk := (n + workers - 1) / workers
	parts := make([][]ranked, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sims := make([]int32, hi-lo)
			x.similarities(d, lo, hi, sims)
			parts[w] = bestRanked(sims, lo, m)
		}()
	}
	wg.Wait()
	var merged []ranked
	for _, p := range parts {
		merged = append(merged, p...)
	}
	slices.SortFunc(merged, rankedOrder)
	out := make([]int, m)
	for i := range out {
		out[i] = int(merged[i].entry)
	}
	return out
}

type ranked struct {
	sim   int32
	entry int32
}

// rankedOrder sorts by similarity, highest first, then by entry.
func rankedOrder(a, b ranked) int {
	if a.sim != b.sim {
		return int(b.sim - a.sim)
	}
	return int(a.entry - b.entry)
}

// bestRanked returns the m highest of sims, the similarities of entries
// lo, lo+1, …. A count of the similarities (at most
// finger.DescriptorBytes*8) finds the cut, so that one pass keeps them
// without a heap.
func bestRanked(sims []int32, lo, m int) []ranked {
	var hist [finger.DescriptorBytes*8 + 1]int
	for _, s := range sims {
		hist[s]++
	}
	cut, n := len(hist)-1, 0
	for ; cut > 0; cut-- {
		n += hist[cut]
		if n >= m {
			break
		}
	}
	out := make([]ranked, 0, n)
	for i, s := range sims {
		if int(s) >= cut {
			out = append(out, ranked{s, int32(lo + i)})
		}
	}
	slices.SortFunc(out, rankedOrder)
	return out[:min(m, len(out))]
}

// growSlack makes room for n more elements, growing by an eighth rather
// than append's doubling, which would leave up to half of a large index's
// memory unused.
func growSlack[E any](s []E, n int) []E {
	if len(s)+n <= cap(s) {
		return s
	}
	grown := make([]E, len(s), len(s)+n+len(s)/8+1024)
	copy(grown, s)
	return grown
}

// parallel runs f(0) … f(n-1) spread over every core.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// preparedFingerIndex keeps every entry's prepared search form and
// compares exhaustively.
type preparedFingerIndex struct {
	mu    sync.RWMutex
	cands []*finger.Candidate
	bytes int
}

func (x *preparedFingerIndex) Add(data []byte) (int, error) {
	t, err := decodeFinger(data)
	if err != nil {
		return 0, err
	}
	c := finger.Prepare(t)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cands = append(x.cands, c)
	x.bytes += len(data)
	return len(x.cands) - 1, nil
}

// preparedBatch is a preparedFingerIndex's Batch: prepared templates.
type preparedBatch struct {
	cands []*finger.Candidate
	bytes int
}

func (b *preparedBatch) Add(data []byte, _ bool) error {
	t, err := decodeFinger(data)
	if err != nil {
		return err
	}
	b.cands = append(b.cands, finger.Prepare(t))
	b.bytes += len(data)
	return nil
}

func (b *preparedBatch) Len() int { return len(b.cands) }

var _ Loader = (*preparedFingerIndex)(nil)

// NewBatch returns an empty batch, which prepares each template as it is
// added (Loader): the costly part of a load, on every core.
func (x *preparedFingerIndex) NewBatch(entries, _, _ int) Batch {
	return &preparedBatch{cands: make([]*finger.Candidate, 0, entries)}
}

// AddBatch appends a batch's prepared templates (Loader).
func (x *preparedFingerIndex) AddBatch(batch Batch) (int, error) {
	b, ok := batch.(*preparedBatch)
	if !ok {
		return 0, huella.Errorf(huella.EINVALID, "finger index: a batch of another index")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	first := len(x.cands)
	x.cands = append(growSlack(x.cands, len(b.cands)), b.cands...)
	x.bytes += b.bytes
	*b = preparedBatch{}
	return first, nil
}

func (x *preparedFingerIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.cands)
}

func (x *preparedFingerIndex) Search(probe []byte, k int) ([]Match, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	scores := finger.Search(p, x.cands)
	x.mu.RUnlock()
	return topK(scores, k), nil
}

func (x *preparedFingerIndex) ScoreEntries(probe []byte, entries []int) ([]float64, error) {
	t, err := decodeFinger(probe)
	if err != nil {
		return nil, err
	}
	p := finger.Prepare(t)
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]float64, len(entries))
	for i, e := range entries {
		if e < 0 || e >= len(x.cands) {
			return nil, errNoEntry
		}
		out[i] = finger.Compare(p, x.cands[e])
	}
	return out, nil
}

// Bytes counts the stored templates; the prepared search form is larger
// (see BENCHMARKS.md).
func (x *preparedFingerIndex) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bytes
}
