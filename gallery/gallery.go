// Package gallery is the in-memory 1:N index of every enrolled subject (or
// watchlist entry): one engine index per modality position, each holding
// templates in contiguous memory and scanned on all cores, and the fusion
// of the per-position scores into one calibrated likelihood ratio per
// subject.
//
// Identify runs in two steps. First, candidates: every probe template whose
// slot has a cheap first stage (engine.Preselector: the two-stage finger
// index) adds its similarity to every entry into its owner's sum, and the
// subjects of highest sum are candidates (as many as Preselect exact
// comparisons allow); every other probe
// template shortlists the most similar entries of its slot. Then every
// candidate is scored by the exact comparator on every slot both sides have
// (filling in the scores the shortlists missed), and the calibrated LLRs
// are summed.
package gallery

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
)

// DefaultShortlist is how many entries each probe template shortlists.
const DefaultShortlist = 200

// DefaultPreselect is how many exact comparisons the subject-level first
// stage lets through: 200 subjects of a ten-print probe (BENCHMARKS.md,
// "Fingers at scale").
const DefaultPreselect = 2000

// Gallery indexes the templates of subjects (or watchlist entries) by slot.
type Gallery struct {
	// MinQuality is the quality below which a probe template is not used.
	MinQuality int
	// Shortlist is how many entries each probe template shortlists.
	Shortlist int
	// Preselect is how many exact comparisons the subject-level first
	// stage lets through: of the f probe templates whose slot's index is
	// an engine.Preselector, it sums the similarities per subject and keeps
	// the Preselect/f best subjects (a ten-print: Preselect/10), each
	// compared on its f slots. Fewer fingers rank mates less well and
	// cost less per subject, so they keep more subjects.
	Preselect int
	// Templates, when set, is the store the templates come from: slots
	// whose index is an engine.OnDemand then keep only the first stage of
	// templates that have a SampleID, and the exact stage fetches the
	// template bytes of its candidates from it. Set it before the first
	// Add; huella.IdentityStore implements it.
	Templates TemplateStore

	engines      map[huella.Modality]engine.Engine
	calibrations fusion.Set

	mu       sync.RWMutex
	ids      []string         // subject number -> ID ("" once removed)
	numbers  map[string]int32 // ID -> subject number
	canon    []int32          // subject number -> the number it was merged into (itself if not)
	slots    map[engine.Slot]*slot
	mergedTo map[string]string // merged ID -> surviving ID, for unmerge
}

// TemplateStore returns stored templates by sample ID: the part of
// huella.IdentityStore the exact stage of an on-demand slot needs.
type TemplateStore interface {
	// FindTemplates returns the templates of the samples with these IDs,
	// in no particular order; a sample without a template is left out.
	// EINVALID for more than huella.MaxTemplateIDs IDs.
	FindTemplates(ctx context.Context, sampleIDs []string) ([]*huella.Template, error)
}

// slot is the index of one modality position and who each entry belongs to.
type slot struct {
	index engine.Index
	owner []int32 // entry -> subject number (-1: replaced or removed)
	live  []int32 // subject number -> its live entry, or -1

	// An on-demand slot (onDemand set, with a template store) keeps the
	// sample ID of every entry whose template bytes the index does not
	// hold, back to back in refs: entry i's ends at refEnds[i] (an empty
	// ID: the index holds the bytes).
	onDemand engine.OnDemand
	refs     []byte
	refEnds  []uint32
}

// reserve makes room in the slot's bookkeeping for entries in all, its
// sample IDs in proportion to those held so far, and subjects numbered.
func (s *slot) reserve(entries, subjects int) {
	if held := len(s.owner); held > 0 && entries > held {
		s.refs = reserve(s.refs, int(int64(len(s.refs))*int64(entries)/int64(held)))
	}
	s.owner = reserve(s.owner, entries)
	if s.onDemand != nil {
		s.refEnds = reserve(s.refEnds, entries)
	}
	s.live = reserve(s.live, subjects)
}

// reserve returns x with room for n elements in all, or x itself if it
// has it already; grown, it has at least an eighth more than before, so
// that projections creeping up a little at a time do not copy it each
// time.
func reserve[E any](x []E, n int) []E {
	if n <= cap(x) {
		return x
	}
	grown := make([]E, len(x), max(n, cap(x)+cap(x)/8))
	copy(grown, x)
	return grown
}

// ref returns the sample ID of an entry whose template is in the store,
// or "" when the index holds its bytes.
func (s *slot) ref(e int) string {
	if s.onDemand == nil {
		return ""
	}
	start := uint32(0)
	if e > 0 {
		start = s.refEnds[e-1]
	}
	return string(s.refs[start:s.refEnds[e]])
}

// entry returns the subject's live entry in the slot.
func (s *slot) entry(n int32) (int, bool) {
	if int(n) >= len(s.live) || s.live[n] < 0 {
		return 0, false
	}
	return int(s.live[n]), true
}

// New returns an empty gallery over the engines, with one calibration per
// modality name ("finger", "iris", "face").
func New(engines []engine.Engine, calibrations fusion.Set) *Gallery {
	g := &Gallery{
		Shortlist:    DefaultShortlist,
		Preselect:    DefaultPreselect,
		engines:      make(map[huella.Modality]engine.Engine),
		calibrations: calibrations,
		numbers:      make(map[string]int32),
		slots:        make(map[engine.Slot]*slot),
		mergedTo:     make(map[string]string),
	}
	for _, e := range engines {
		g.engines[e.Modality()] = e
	}
	return g
}

var _ huella.Matcher = (*Gallery)(nil)

// Len returns the number of subjects in the gallery.
func (g *Gallery) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.numbers)
}

// Bytes estimates the resident memory of the indexes and the bookkeeping.
func (g *Gallery) Bytes() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := len(g.ids)*(16+4) + len(g.numbers)*48
	for _, s := range g.slots {
		n += s.index.Bytes() + 4*len(s.owner) + 4*len(s.live) + len(s.refs) + 4*len(s.refEnds)
	}
	return n
}

// Add indexes a template under its SubjectID. A subject holds one template
// per slot: a new one replaces the old (a later capture is usually better).
func (g *Gallery) Add(t *huella.Template) error {
	if t.SubjectID == "" {
		return huella.Errorf(huella.EINVALID, "template without subject")
	}
	eng, ok := g.engines[t.Modality]
	if !ok {
		return huella.Errorf(huella.EUNSUPPORTED, "no engine for %s", t.Modality)
	}
	key := engine.SlotOf(t)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.slot(key, eng)
	var entry int
	var err error
	if s.onDemand != nil && t.SampleID != "" {
		entry, err = s.onDemand.AddFirstStage(t.Data)
	} else {
		entry, err = s.index.Add(t.Data)
	}
	if err != nil {
		return err
	}
	place(s, entry, g.number(t.SubjectID), t.SampleID)
	return nil
}

// slot returns the slot of key, made with eng's index if new. The caller
// holds the write lock.
func (g *Gallery) slot(key engine.Slot, eng engine.Engine) *slot {
	s := g.slots[key]
	if s == nil {
		s = &slot{index: eng.NewIndex()}
		if g.Templates != nil {
			s.onDemand, _ = s.index.(engine.OnDemand)
		}
		g.slots[key] = s
	}
	return s
}

// place records that the slot's new entry belongs to subject number num
// (replacing its entry there, if any) and, for an on-demand slot, the
// sample ID its template is fetched by ("": the index holds it). The
// caller holds the write lock.
func place[S ~string | ~[]byte](s *slot, entry int, num int32, sample S) {
	if s.onDemand != nil {
		s.refs = append(s.refs, sample...)
		s.refEnds = append(s.refEnds, uint32(len(s.refs)))
	}
	if old, ok := s.entry(num); ok {
		s.owner[old] = -1
	}
	s.owner = append(s.owner, num)
	for int(num) >= len(s.live) {
		s.live = append(s.live, -1)
	}
	s.live[num] = int32(entry)
}

// number returns the subject number of id, registering it if new.
func (g *Gallery) number(id string) int32 {
	if n, ok := g.numbers[id]; ok {
		return n
	}
	n := int32(len(g.ids))
	g.ids = append(g.ids, id)
	g.canon = append(g.canon, n)
	g.numbers[id] = n
	return n
}

// Remove drops a subject from every slot (a purge). Its entries stay in
// the engine indexes as dead space until the gallery is rebuilt.
func (g *Gallery) Remove(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.numbers[id]
	if !ok {
		return
	}
	for _, s := range g.slots {
		if e, ok := s.entry(n); ok {
			s.owner[e] = -1
			s.live[n] = -1
		}
	}
	delete(g.numbers, id)
	g.ids[n] = ""
}

// Merge makes from's templates count as into's: the two were confirmed to
// be one person. Unmerge undoes it.
func (g *Gallery) Merge(from, into string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok1 := g.numbers[from]
	i, ok2 := g.numbers[into]
	if !ok1 || !ok2 {
		return huella.Errorf(huella.ENOTFOUND, "subject not in the gallery")
	}
	g.canon[f] = g.root(i)
	g.mergedTo[from] = into
	return nil
}

// Unmerge separates a subject merged before.
func (g *Gallery) Unmerge(from string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	f, ok := g.numbers[from]
	if !ok || g.mergedTo[from] == "" {
		return huella.Errorf(huella.ENOTFOUND, "subject was not merged")
	}
	g.canon[f] = f
	delete(g.mergedTo, from)
	return nil
}

func (g *Gallery) root(n int32) int32 {
	for g.canon[n] != n {
		n = g.canon[n]
	}
	return n
}

// Identify searches the probe's templates and returns up to k candidates
// whose fused LLR is at least minLLR, best first.
func (g *Gallery) Identify(ctx context.Context, probe []*huella.Template, k int, minLLR float64) ([]*huella.Candidate, error) {
	type slotProbe struct {
		t    *huella.Template
		key  engine.Slot
		s    *slot
		cal  *fusion.Calibration
		pre  engine.Preselector // nil: the slot's index has no first stage
		seen map[int32]float64  // subject root -> best raw score from the shortlist
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	var probes []*slotProbe
	used := make(map[engine.Slot]bool)
	for _, t := range probe {
		key := engine.SlotOf(t)
		s := g.slots[key]
		if s == nil || s.index.Len() == 0 || t.Quality < g.MinQuality || used[key] {
			continue
		}
		cal := g.calibrations[string(t.Modality)]
		if cal == nil {
			return nil, fmt.Errorf("gallery: no calibration for %s", t.Modality)
		}
		used[key] = true
		pre, _ := s.index.(engine.Preselector)
		probes = append(probes, &slotProbe{t: t, key: key, s: s, cal: cal, pre: pre, seen: make(map[int32]float64)})
	}
	if len(probes) == 0 {
		return nil, nil
	}
	// Step 1: candidates, from the subject-level first stage and from the
	// shortlists of the other slots.
	shortlist := g.Shortlist
	if shortlist <= 0 {
		shortlist = DefaultShortlist
	}
	candidates := make(map[int32]bool)
	var first []engine.Preselector
	var firstProbes [][]byte
	var firstSlots []*slot
	for _, p := range probes {
		if p.pre != nil {
			first = append(first, p.pre)
			firstProbes = append(firstProbes, p.t.Data)
			firstSlots = append(firstSlots, p.s)
		}
	}
	if len(first) > 0 {
		preselect := g.Preselect
		if preselect <= 0 {
			preselect = DefaultPreselect
		}
		keep := max(1, preselect/len(first))
		best, err := g.preselectSubjects(ctx, first, firstProbes, firstSlots, keep)
		if err != nil {
			return nil, err
		}
		for _, r := range best {
			candidates[r] = true
		}
	}
	for _, p := range probes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p.pre != nil {
			continue
		}
		matches, err := p.s.index.Search(p.t.Data, shortlist)
		if err != nil {
			return nil, fmt.Errorf("gallery: search %s: %w", p.key, err)
		}
		for _, m := range matches {
			owner := p.s.owner[m.Entry]
			if owner < 0 {
				continue
			}
			r := g.root(owner)
			if old, ok := p.seen[r]; !ok || m.Score > old {
				p.seen[r] = m.Score
			}
			candidates[r] = true
		}
	}
	// Step 2: fill in the slots each candidate's shortlists missed. The
	// slots are scored one at a time, the cheap ones (no first stage)
	// first, and after each a candidate is dropped once the LLR it can
	// still reach is below minLLR or below what k others are sure of: it
	// could not be returned, so the result is the same as scoring all.
	// The templates of on-demand slots are fetched from the store for the
	// candidates left, a store call (huella.MaxTemplateIDs) of the next
	// slots' at a time.
	wants := make([][]int, len(probes))
	whose := make([][]int32, len(probes))
	for i, p := range probes {
		for r := range candidates {
			if _, ok := p.seen[r]; ok {
				continue
			}
			for _, member := range g.members(r) {
				if e, ok := p.s.entry(member); ok {
					wants[i] = append(wants[i], e)
					whose[i] = append(whose[i], r)
				}
			}
		}
	}
	order := make([]int, 0, len(probes))
	for pass := range 2 {
		for i, p := range probes {
			if (p.pre != nil) == (pass == 1) {
				order = append(order, i)
			}
		}
	}
	bounds := make([]llrBounds, len(probes))
	for i, p := range probes {
		bounds[i] = boundsOf(p.cal)
	}
	pending := make([]map[int32]bool, len(probes)) // slot i: candidates still to score there
	for i := range probes {
		pending[i] = make(map[int32]bool, len(whose[i]))
		for _, r := range whose[i] {
			pending[i][r] = true
		}
	}
	// left returns slot i's entries still to score and their candidates.
	left := func(i int) (entries []int, owners []int32) {
		for j, e := range wants[i] {
			if candidates[whose[i][j]] {
				entries = append(entries, e)
				owners = append(owners, whose[i][j])
			}
		}
		return entries, owners
	}
	fetched := make(map[string][]byte)
	unfetched := 0 // position in order of the first slot not fetched yet
	for at, i := range order {
		if at >= unfetched {
			batch := make([][]int, len(probes))
			for ids := 0; unfetched < len(order); unfetched++ {
				j := order[unfetched]
				entries, _ := left(j)
				n := 0
				if probes[j].s.onDemand != nil {
					n = len(entries)
				}
				if ids > 0 && ids+n > huella.MaxTemplateIDs {
					break
				}
				batch[j], ids = entries, ids+n
			}
			got, err := g.fetch(ctx, batch, func(i int) *slot { return probes[i].s })
			if err != nil {
				return nil, err
			}
			maps.Copy(fetched, got)
		}
		p := probes[i]
		entries, owners := left(i)
		scores, err := g.score(p.s, p.t.Data, entries, fetched)
		if err != nil {
			return nil, fmt.Errorf("gallery: score %s: %w", p.key, err)
		}
		for j, sc := range scores {
			if math.IsNaN(sc) {
				continue // gone from the store since: no score
			}
			if old, ok := p.seen[owners[j]]; !ok || sc > old {
				p.seen[owners[j]] = sc
			}
		}
		clear(pending[i])
		if !pruneExactStage {
			continue
		}
		g.prune(candidates, k, minLLR, func(r int32) (lo, hi float64) {
			for j, q := range probes {
				if sc, ok := q.seen[r]; ok {
					llr := q.cal.LLR(sc)
					lo, hi = lo+llr, hi+llr
				} else if pending[j][r] {
					lo, hi = lo+bounds[j].lo, hi+bounds[j].hi
				}
			}
			return lo, hi
		})
	}
	// Step 3: fuse.
	var out []*huella.Candidate
	for r, ok := range candidates {
		if !ok {
			continue // dropped in step 2
		}
		c := &huella.Candidate{SubjectID: g.ids[r]}
		for _, p := range probes {
			sc, ok := p.seen[r]
			if !ok {
				continue // the subject has no template in this slot
			}
			ms := modalityScore(p.t, sc, p.cal)
			c.Scores = append(c.Scores, ms)
			c.LLR += ms.LLR
		}
		if c.LLR >= minLLR && c.SubjectID != "" {
			c.FMR = fusion.FMRBound(c.LLR)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LLR != out[j].LLR {
			return out[i].LLR > out[j].LLR
		}
		return out[i].SubjectID < out[j].SubjectID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// pruneExactStage is whether Identify drops candidates that cannot be
// returned before scoring their other slots (off only in tests, to check
// that it changes no result).
var pruneExactStage = true

// llrBounds is the range of LLRs one slot's comparison can add to a
// candidate: 0 included, since a template gone from the store adds nothing.
type llrBounds struct{ lo, hi float64 }

// boundsMargin widens the bounds so that sums of the same LLRs in another
// order, which may round differently, stay within them.
const boundsMargin = 1e-9

func boundsOf(cal *fusion.Calibration) llrBounds {
	b := llrBounds{-boundsMargin, boundsMargin}
	for _, llr := range cal.LLRs {
		b.lo, b.hi = min(b.lo, llr-boundsMargin), max(b.hi, llr+boundsMargin)
	}
	return b
}

// prune marks false the candidates that cannot be among the k returned
// whatever their slots still to score give: those whose highest reachable
// LLR is below minLLR, or below the lowest LLR that k other candidates
// are sure to reach. bounds returns a candidate's lowest and highest
// reachable LLR. The caller holds the read lock.
func (g *Gallery) prune(candidates map[int32]bool, k int, minLLR float64, bounds func(r int32) (lo, hi float64)) {
	type bounded struct {
		r      int32
		lo, hi float64
	}
	var all []bounded
	var sure []float64 // lowest LLRs of the candidates that can be returned
	for r, ok := range candidates {
		if !ok {
			continue
		}
		lo, hi := bounds(r)
		all = append(all, bounded{r, lo, hi})
		if g.ids[r] != "" && hi >= minLLR {
			sure = append(sure, lo)
		}
	}
	floor := minLLR
	if k > 0 && len(sure) >= k {
		// The k-th highest lowest LLR: k candidates reach at least that.
		slices.Sort(sure)
		floor = max(floor, sure[len(sure)-k])
	}
	for _, b := range all {
		if b.hi < floor {
			candidates[b.r] = false
		}
	}
}

// preselectSubjects returns the n subjects (roots) of highest similarity
// summed over the probes' slots, each slot counting a subject's best entry;
// ties go to the lower subject number. Subjects with no entry in any of the
// slots are not returned. The caller holds the read lock.
func (g *Gallery) preselectSubjects(ctx context.Context, indexes []engine.Preselector, probes [][]byte, slots []*slot, n int) ([]int32, error) {
	sums := make([]int32, len(g.ids))
	present := make([]bool, len(g.ids))
	merged := len(g.mergedTo) > 0
	var sims, best []int32
	for i, x := range indexes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if sims, err = x.Similarities(probes[i], sims); err != nil {
			return nil, fmt.Errorf("gallery: first stage: %w", err)
		}
		owner := slots[i].owner
		if !merged {
			// Every subject is its own root and has one live entry.
			for e, sim := range sims {
				if o := owner[e]; o >= 0 {
					sums[o] += sim
					present[o] = true
				}
			}
			continue
		}
		if best == nil {
			best = make([]int32, len(g.ids))
		}
		for r := range best {
			best[r] = -1
		}
		for e, sim := range sims {
			if o := owner[e]; o >= 0 {
				r := g.root(o)
				best[r] = max(best[r], sim)
			}
		}
		for r, b := range best {
			if b >= 0 {
				sums[r] += b
				present[r] = true
			}
		}
	}
	// A histogram of the sums finds the cut, so that one pass keeps the n
	// best without sorting every subject.
	top := int32(0)
	for r, s := range sums {
		if present[r] {
			top = max(top, s)
		}
	}
	hist := make([]int, top+1)
	for r, s := range sums {
		if present[r] && s >= 0 {
			hist[s]++
		}
	}
	cut, kept := top, 0
	for ; cut > 0; cut-- {
		kept += hist[cut]
		if kept >= n {
			break
		}
	}
	type summed struct{ sum, subject int32 }
	var out []summed
	for r, s := range sums {
		if present[r] && s >= cut {
			out = append(out, summed{s, int32(r)})
		}
	}
	slices.SortFunc(out, func(a, b summed) int {
		if a.sum != b.sum {
			return int(b.sum - a.sum)
		}
		return int(a.subject - b.subject)
	})
	subjects := make([]int32, min(n, len(out)))
	for i := range subjects {
		subjects[i] = out[i].subject
	}
	return subjects, nil
}

// fetch returns the stored template bytes, by sample ID, of the entries of
// on-demand slots in wants (wants[i] are entries of slotOf(i)), read from
// the template store in batches of huella.MaxTemplateIDs. The caller holds
// the read lock.
func (g *Gallery) fetch(ctx context.Context, wants [][]int, slotOf func(i int) *slot) (map[string][]byte, error) {
	var ids []string
	for i, want := range wants {
		s := slotOf(i)
		if s.onDemand == nil {
			continue
		}
		for _, e := range want {
			if id := s.ref(e); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(ids))
	for batch := range slices.Chunk(ids, huella.MaxTemplateIDs) {
		ts, err := g.Templates.FindTemplates(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("gallery: fetch templates: %w", err)
		}
		for _, t := range ts {
			out[t.SampleID] = t.Data
		}
	}
	return out, nil
}

// score compares the probe exactly with entries of s: those whose template
// the index holds with ScoreEntries, the others with the fetched bytes. An
// entry whose template the store no longer has scores NaN. The caller
// holds the read lock.
func (g *Gallery) score(s *slot, probe []byte, entries []int, fetched map[string][]byte) ([]float64, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if s.onDemand == nil {
		return s.index.ScoreEntries(probe, entries)
	}
	out := make([]float64, len(entries))
	var held, stored []int // positions in entries
	var templates [][]byte
	for i, e := range entries {
		id := s.ref(e)
		switch data, ok := fetched[id]; {
		case id == "":
			held = append(held, i)
		case ok:
			stored = append(stored, i)
			templates = append(templates, data)
		default:
			out[i] = math.NaN()
		}
	}
	if len(held) > 0 {
		es := make([]int, len(held))
		for j, i := range held {
			es[j] = entries[i]
		}
		scores, err := s.index.ScoreEntries(probe, es)
		if err != nil {
			return nil, err
		}
		for j, i := range held {
			out[i] = scores[j]
		}
	}
	if len(stored) > 0 {
		scores, err := s.onDemand.ScoreTemplates(probe, templates)
		if err != nil {
			return nil, err
		}
		for j, i := range stored {
			out[i] = scores[j]
		}
	}
	return out, nil
}

// members returns the subject numbers merged into root, root included.
// Merges are rare, so a scan of the merged set is cheap.
func (g *Gallery) members(root int32) []int32 {
	out := []int32{root}
	for from := range g.mergedTo {
		if n, ok := g.numbers[from]; ok && n != root && g.root(n) == root {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Verify compares the probe with one subject's templates (1:1) and returns
// the fused candidate; ENOTFOUND if the subject is not in the gallery.
func (g *Gallery) Verify(ctx context.Context, probe []*huella.Template, subjectID string) (*huella.Candidate, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.numbers[subjectID]
	if !ok {
		return nil, huella.Errorf(huella.ENOTFOUND, "subject has no templates to compare with")
	}
	root := g.root(n)
	c := &huella.Candidate{SubjectID: g.ids[root]}
	used := make(map[engine.Slot]bool)
	for _, t := range probe {
		key := engine.SlotOf(t)
		s := g.slots[key]
		if s == nil || used[key] || t.Quality < g.MinQuality {
			continue
		}
		var entries []int
		for _, m := range g.members(root) {
			if e, ok := s.entry(m); ok {
				entries = append(entries, e)
			}
		}
		if len(entries) == 0 {
			continue
		}
		cal := g.calibrations[string(t.Modality)]
		if cal == nil {
			return nil, fmt.Errorf("gallery: no calibration for %s", t.Modality)
		}
		used[key] = true
		fetched, err := g.fetch(ctx, [][]int{entries}, func(int) *slot { return s })
		if err != nil {
			return nil, err
		}
		scores, err := g.score(s, t.Data, entries, fetched)
		if err != nil {
			return nil, err
		}
		scores = slices.DeleteFunc(scores, math.IsNaN)
		if len(scores) == 0 {
			continue // gone from the store since
		}
		best := slices.Max(scores)
		ms := modalityScore(t, best, cal)
		c.Scores = append(c.Scores, ms)
		c.LLR += ms.LLR
	}
	if len(c.Scores) == 0 {
		return nil, huella.Errorf(huella.EUNPROCESSABLE, "the probe and the subject share no modality to compare")
	}
	c.FMR = fusion.FMRBound(c.LLR)
	return c, nil
}

// modalityScore describes one comparison of probe template t.
func modalityScore(t *huella.Template, score float64, cal *fusion.Calibration) huella.ModalityScore {
	ms := huella.ModalityScore{Modality: t.Modality, Score: score, LLR: cal.LLR(score)}
	switch t.Modality {
	case huella.ModalityFinger:
		ms.Position = t.Position
	case huella.ModalityIris:
		ms.Eye = t.Eye
	}
	return ms
}

// Replace makes the gallery hold, for the subjects named, the templates
// given and no others: it drops each subject and every subject merged into
// the same one (Merge), then adds the templates under their SubjectID. It
// applies a change read back from the store (a merge, an unmerge) in the
// store's terms, where merged subjects' templates are filed under the
// subject they were merged into.
func (g *Gallery) Replace(subjects []string, templates []*huella.Template) error {
	g.mu.Lock()
	var drop []string
	for _, id := range subjects {
		n, ok := g.numbers[id]
		if !ok {
			continue
		}
		for _, m := range g.members(g.root(n)) {
			drop = append(drop, g.ids[m])
		}
	}
	g.mu.Unlock()
	for _, id := range drop {
		g.Remove(id)
		g.mu.Lock()
		delete(g.mergedTo, id)
		g.mu.Unlock()
	}
	for _, t := range templates {
		if err := g.Add(t); err != nil {
			return err
		}
	}
	return nil
}
