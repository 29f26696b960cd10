package tattoo

import (
	"container/heap"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Candidate is one gallery image returned by a search.
type Candidate struct {
	// ID and Subject are the gallery entry's keys as given to Add.
	ID, Subject string
	// Score ranks the candidate: the geometric verification score
	// (Comparison.Score, verified matches less chance) plus the global
	// descriptors' share (see globalBonus).
	Score float64
	// Coarse is the bag-of-words similarity that put it on the shortlist
	// (0 when only the global descriptor did).
	Coarse float64
	// Global is the cosine of the two global descriptors (0 when either
	// template has none).
	Global float64
	// Comparison holds the verified matches for the examiner.
	Comparison Comparison
	// Template is the gallery image's template (Comparison's candidate
	// side), so the matches can be drawn.
	Template *Template

	entry int // index in the gallery's entries
}

// SubjectCandidate groups the matched images of one subject.
type SubjectCandidate struct {
	Subject string
	// Score is the best score of the subject's images.
	Score float64
	// Images are the subject's matched gallery images, best first.
	Images []Candidate
}

// SearchOptions tunes one search.
type SearchOptions struct {
	// Limit is the number of candidates returned (default 20).
	Limit int
	// Shortlist is the number of images the bag-of-words pass hands to
	// geometric verification (default shortlistSize); 0 or less than
	// Limit uses the default, negative verifies every image.
	Shortlist int
	// GlobalShortlist is the number of images most similar by global
	// descriptor added to the shortlist (default globalShortlistSize;
	// negative adds none).
	GlobalShortlist int
	// Exclude, when set, hides gallery entries by ID (for example the
	// probe's own source photo in an evaluation).
	Exclude func(id string) bool
	// Allow, when set, restricts the search to these IDs (for example the
	// result of a structured SMT query).
	Allow func(id string) bool
}

// ErrDuplicateID is returned by Add for an ID already in the gallery.
var ErrDuplicateID = errors.New("tattoo: duplicate gallery ID")

// Gallery is an in-memory 1:N index of SMT image templates: an inverted
// index of visual words for the shortlist and the templates for
// geometric verification. It is safe for concurrent use.
type Gallery struct {
	mu      sync.RWMutex
	vocab   *Vocabulary
	entries []galleryEntry
	ids     map[string]int
	index   *invertedIndex
	// globals holds every entry's global descriptor, globalDims values
	// each (zeros for a template without one), for a linear scan.
	globals []float32
}

type galleryEntry struct {
	id, subject string
	template    *Template
	cells       *cellIndex
}

// NewGallery returns an empty gallery that quantises descriptors with vocab
// (DefaultVocabulary when nil).
func NewGallery(vocab *Vocabulary) *Gallery {
	if vocab == nil {
		vocab = DefaultVocabulary()
	}
	return &Gallery{vocab: vocab, ids: map[string]int{}, index: newInvertedIndex(vocab.Size())}
}

// Len returns the number of images in the gallery.
func (g *Gallery) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.entries)
}

// Add enrols the template of one SMT image under id, for subject.
func (g *Gallery) Add(id, subject string, t *Template) error {
	if t == nil || len(t.Descriptors) == 0 {
		return fmt.Errorf("tattoo: add %q: %w", id, ErrNoFeatures)
	}
	if len(t.Keypoints) != len(t.Descriptors) || len(t.Descriptors) >= maxTemplateKeypoints {
		return fmt.Errorf("tattoo: add %q: %w", id, ErrBadTemplate)
	}
	words := g.vocab.Words(t.Descriptors)
	cells := newCellIndex(g.vocab, t.Descriptors)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.ids[id]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateID, id)
	}
	g.ids[id] = len(g.entries)
	g.entries = append(g.entries, galleryEntry{id: id, subject: subject, template: t, cells: cells})
	g.index.add(words, g.vocab.IDF)
	var global [globalDims]float32
	if len(t.Global) == globalDims {
		copy(global[:], t.Global)
	}
	g.globals = append(g.globals, global[:]...)
	return nil
}

// Search returns the gallery images most like probe, best first: every
// image is ranked by its bag-of-words similarity, the shortlist is
// re-ranked by geometric verification, and the best reverifySize images
// are verified again from a wider descriptor matching (see reverify).
func (g *Gallery) Search(probe *Template, opt SearchOptions) []Candidate {
	if opt.Limit <= 0 {
		opt.Limit = 20
	}
	short := opt.Shortlist
	if short == 0 {
		short = shortlistSize
	}
	short = max(short, opt.Limit)
	if probe == nil || len(probe.Keypoints) != len(probe.Descriptors) {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	keep := func(i int) bool {
		id := g.entries[i].id
		return (opt.Exclude == nil || !opt.Exclude(id)) && (opt.Allow == nil || opt.Allow(id))
	}
	var shortlist []scored
	if opt.Shortlist < 0 {
		for i := range g.entries {
			if keep(i) {
				shortlist = append(shortlist, scored{i, 0})
			}
		}
	} else {
		words := g.vocab.QueryWords(probe.Descriptors)
		shortlist = g.index.query(words, g.vocab.IDF, short, keep)
		if k := opt.GlobalShortlist; k >= 0 && len(probe.Global) == globalDims {
			if k == 0 {
				k = globalShortlistSize
			}
			shortlist = mergeShortlists(shortlist, g.globalQuery(probe.Global, k, keep))
		}
	}
	pc := probeCells(g.vocab, probe.Descriptors)
	out := make([]Candidate, 0, len(shortlist))
	for _, s := range shortlist {
		e := g.entries[s.entry]
		c := verifyMatches(probe, e.template, matchInCells(probe.Descriptors, pc, 2, e.template.Descriptors, e.cells))
		global := float64(globalSimilarity(probe.Global, g.globals[s.entry*globalDims:(s.entry+1)*globalDims]))
		out = append(out, Candidate{ID: e.id, Subject: e.subject, Score: c.Score + globalBonus(global), Coarse: s.score, Global: global, Comparison: c, Template: e.template, entry: s.entry})
	}
	byScore(out)
	g.reverify(probe, out[:min(len(out), reverifySize)])
	if len(out) > opt.Limit {
		out = out[:opt.Limit]
	}
	return out
}

// globalBonus is what a global descriptor similarity adds to a
// verification score: globalWeight points per unit of cosine above
// globalFloor. Photographs of one tattoo from another side share few
// verified keypoints but still look alike as a whole.
func globalBonus(similarity float64) float64 {
	return globalWeight * max(0, similarity-globalFloor)
}

// globalQuery returns the k kept entries whose global descriptors are
// most similar to q, by a linear scan.
func (g *Gallery) globalQuery(q []float32, k int, keep func(int) bool) []scored {
	h := make(minHeap, 0, k+1)
	for i := range g.entries {
		s := float64(globalSimilarity(q, g.globals[i*globalDims:(i+1)*globalDims]))
		if len(h) == k && s <= h[0].score {
			continue
		}
		if !keep(i) {
			continue
		}
		heap.Push(&h, scored{i, s})
		if len(h) > k {
			heap.Pop(&h)
		}
	}
	return h
}

// mergeShortlists appends to a the entries of b it does not hold, with a
// bag-of-words score of 0.
func mergeShortlists(a, b []scored) []scored {
	in := make(map[int]bool, len(a))
	for _, s := range a {
		in[s.entry] = true
	}
	for _, s := range b {
		if !in[s.entry] {
			a = append(a, scored{s.entry, 0})
		}
	}
	return a
}

// reverify verifies the best candidates again from tentative matches
// searched in the reverifyCells nearest first-level cells of each probe
// descriptor instead of one or two, and keeps the better of the two
// verifications. Matching restricted to one or two cells loses true matches
// whose descriptors fall on either side of a cell boundary; searching
// wider for every shortlisted image would cost four times as much, so only
// the images that already rank high pay for it. Scores only rise, so the
// re-sorted candidates stay ahead of those not verified again.
func (g *Gallery) reverify(probe *Template, best []Candidate) {
	if len(best) == 0 {
		return
	}
	cells := probeCellsNearest(g.vocab, probe.Descriptors, reverifyCells)
	for k := range best {
		e := g.entries[best[k].entry]
		c := verifyMatches(probe, e.template, matchInCells(probe.Descriptors, cells, reverifyCells, e.template.Descriptors, e.cells))
		if c.Score > best[k].Comparison.Score {
			best[k].Score, best[k].Comparison = c.Score+globalBonus(best[k].Global), c
		}
	}
	byScore(best)
}

// byScore sorts candidates by score (verification plus global bonus),
// then by bag-of-words similarity.
func byScore(cs []Candidate) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Score != cs[j].Score {
			return cs[i].Score > cs[j].Score
		}
		return cs[i].Coarse > cs[j].Coarse
	})
}

// SearchSubjects runs Search and groups the candidates by subject, best
// subject first.
func (g *Gallery) SearchSubjects(probe *Template, opt SearchOptions) []SubjectCandidate {
	limit := opt.Limit
	if limit <= 0 {
		limit = 20
	}
	opt.Limit = max(limit*3, shortlistSize)
	cands := g.Search(probe, opt)
	var out []SubjectCandidate
	pos := map[string]int{}
	for _, c := range cands {
		key := c.Subject
		if key == "" {
			key = "\x00" + c.ID // an image of no known subject stands alone
		}
		k, ok := pos[key]
		if !ok {
			k = len(out)
			pos[key] = k
			out = append(out, SubjectCandidate{Subject: c.Subject, Score: c.Score})
		}
		out[k].Images = append(out[k].Images, c)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
