// Package engine adapts each biometric engine (finger/, iris/, face/) to the
// two seams the rest of Huella uses: extraction of a stored template from a
// sample image, and a 1:N index of one modality position's templates.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/huella-abis/huella"
)

// Engine extracts templates of one modality and makes indexes for them.
type Engine interface {
	// Modality is the modality the engine handles.
	Modality() huella.Modality
	// Algorithm names the template format and its version.
	Algorithm() (name string, version int)
	// Extract returns the template bytes and quality (0–100) of one sample
	// image. A sample with no usable biometric is EUNPROCESSABLE, with the
	// engine's reason in the message.
	Extract(ctx context.Context, s *huella.Sample, image []byte) (data []byte, quality int, err error)
	// NewIndex returns an empty 1:N index for this engine's templates.
	NewIndex() Index
}

// Index is the 1:N search structure of one modality position (one finger,
// one eye, the face): templates kept compact in contiguous memory.
type Index interface {
	// Add appends a template and returns its entry number.
	Add(data []byte) (int, error)
	// Len is the number of entries.
	Len() int
	// Search compares the probe with every entry, using all cores, and
	// returns the k most similar entries, best first, with their raw
	// similarity (higher is more alike).
	Search(probe []byte, k int) ([]Match, error)
	// ScoreEntries compares the probe with the given entries, for the
	// candidates another modality shortlisted.
	ScoreEntries(probe []byte, entries []int) ([]float64, error)
	// Bytes estimates the index's resident memory.
	Bytes() int
}

// Preselector is an Index with a cheap similarity of a probe to every entry,
// computed in one pass: the gallery sums it over each subject's slots to
// choose the subjects whose entries the exact comparator (ScoreEntries)
// sees, instead of Search's per-slot shortlists.
type Preselector interface {
	Index
	// Similarities returns the probe's similarity to every entry (higher
	// is more alike), in entry order, reusing out's memory, using all
	// cores.
	Similarities(probe []byte, out []int32) ([]int32, error)
}

// OnDemand is a Preselector that can keep only its first stage in memory:
// an entry added with AddFirstStage holds no template bytes, and its exact
// comparisons take the stored template bytes the caller fetched (the
// gallery, from its template store) instead of ScoreEntries, which refuses
// such entries, as Search does when one is shortlisted.
type OnDemand interface {
	Preselector
	// AddFirstStage appends a template keeping only what Similarities
	// needs, and returns its entry number.
	AddFirstStage(data []byte) (int, error)
	// ScoreTemplates compares the probe exactly with each template (the
	// bytes Add would take), using all cores.
	ScoreTemplates(probe []byte, templates [][]byte) ([]float64, error)
}

// Loader is an Index that takes many templates at once, for a warm start
// from a gallery snapshot: batches decode templates apart from the index,
// on every core at once, and AddBatch appends each batch's memory whole,
// in order, as a block the index's scans walk with its others, so that
// loading N templates costs N decodes spread over the cores and no copy.
type Loader interface {
	Index
	// NewBatch returns an empty batch of this index's entries with room
	// for entries templates of size bytes in all, of which held are to be
	// added whole (not first stage only).
	NewBatch(entries, size, held int) Batch
	// AddBatch appends the batch's entries in the order they were added
	// to it and returns the entry number of the first. The index takes
	// the batch's memory: the batch is empty after. A batch of another
	// index type is EINVALID.
	AddBatch(b Batch) (first int, err error)
}

// Batch holds templates decoded into a Loader's entry form, not yet in
// its index. One goroutine uses a batch at a time; batches of one index
// may fill on many goroutines at once.
type Batch interface {
	// Add decodes one template as Index.Add does or, with firstStage, as
	// OnDemand.AddFirstStage does (an index that is not an OnDemand
	// ignores it); a template Add would refuse is refused alike. It keeps
	// no reference to data.
	Add(data []byte, firstStage bool) error
	// Len is the number of templates added.
	Len() int
}

// findBlock returns the block holding entry e, given each block's first
// entry number (ascending, the first 0).
func findBlock(starts []int, e int) int {
	b, found := slices.BinarySearch(starts, e)
	if !found {
		b--
	}
	return b
}

// Match is one index entry and its raw similarity to a probe.
type Match struct {
	Entry int
	Score float64
}

// topK returns the k highest of scores as matches, best first.
func topK[S float32 | float64](scores []S, k int) []Match {
	h := make([]Match, 0, k+1)
	for i, v := range scores {
		s := float64(v)
		if len(h) == k && s <= h[len(h)-1].Score {
			continue
		}
		// Insertion into the short sorted list: k is small.
		j := len(h)
		h = append(h, Match{})
		for j > 0 && h[j-1].Score < s {
			h[j] = h[j-1]
			j--
		}
		h[j] = Match{Entry: i, Score: s}
		if len(h) > k {
			h = h[:k]
		}
	}
	return h
}

var errNoEntry = errors.New("engine: no such entry")

// unprocessable wraps an engine's failure-to-enroll reason as EUNPROCESSABLE.
func unprocessable(s *huella.Sample, err error) error {
	return huella.Errorf(huella.EUNPROCESSABLE, "%s sample has no usable %s: %v", s.Modality, s.Modality, err)
}

// Slot names the index a template belongs in: its modality and position
// (finger FGP code, eye, or none for the face).
type Slot struct {
	Modality huella.Modality
	Position int // finger FGP code; 1 right eye, 2 left eye; 0 face
}

// SlotOf returns the slot of a template.
func SlotOf(t *huella.Template) Slot {
	switch t.Modality {
	case huella.ModalityIris:
		if t.Eye == huella.EyeLeft {
			return Slot{t.Modality, 2}
		}
		return Slot{t.Modality, 1}
	case huella.ModalityFinger:
		return Slot{t.Modality, t.Position}
	default:
		return Slot{t.Modality, 0}
	}
}

func (s Slot) String() string { return fmt.Sprintf("%s/%d", s.Modality, s.Position) }
