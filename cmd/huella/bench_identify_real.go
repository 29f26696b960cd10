package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
)

// realMates are real fingers hidden in the synthetic crowd of "huella bench
// identify --real-mates DIR". Each finger of the FVC-named folder DIR
// (<finger>_<impression>) becomes one ten-print subject: its first
// impression that extracts is enrolled in one slot, FGP position 1 + (the
// finger's rank in DIR mod 10), so that a database's ten fingers occupy the
// ten positions, and the subject's other nine slots (and other modalities)
// are synthetic. Each other impression of the finger is a probe on its own:
// one real finger searched in its slot among every subject, the hardest
// case of a ten-print search.
type realMates struct {
	fingers []realFinger
	failed  int // impressions that did not extract
}

type realFinger struct {
	subjectID string
	position  int
	enrolled  *finger.Template
	probes    []*finger.Template
}

// loadRealMates extracts every impression of dir at ppi.
func loadRealMates(ctx context.Context, dir string, ppi int) (*realMates, error) {
	rep, err := finger.Evaluate(ctx, dir, ppi)
	if err != nil {
		return nil, fmt.Errorf("bench identify: --real-mates: %w", err)
	}
	byFinger := map[string][]*finger.Sample{}
	var names []string
	rm := &realMates{}
	for _, s := range rep.Samples {
		if s.Template == nil {
			rm.failed++
			continue
		}
		if byFinger[s.Finger] == nil {
			names = append(names, s.Finger)
		}
		byFinger[s.Finger] = append(byFinger[s.Finger], s)
	}
	sort.Strings(names)
	for i, name := range names {
		ss := byFinger[name] // sorted by impression (finger.Evaluate)
		f := realFinger{subjectID: "real_" + name, position: 1 + i%10, enrolled: ss[0].Template}
		for _, s := range ss[1:] {
			f.probes = append(f.probes, s.Template)
		}
		rm.fingers = append(rm.fingers, f)
	}
	if len(rm.fingers) == 0 {
		return nil, fmt.Errorf("bench identify: --real-mates: no impression of %s extracted", dir)
	}
	return rm, nil
}

// enroll writes each real finger's subject, its other slots and
// modalities drawn from gen.
func (rm *realMates) enroll(write func(*huella.Template) error, gen *synth.Generator, mods map[huella.Modality]bool) error {
	for _, f := range rm.fingers {
		p := gen.Person(mods)
		p.Fingers[f.position-1] = f.enrolled
		for _, t := range p.Templates(f.subjectID, mods) {
			if err := write(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// search identifies each probe impression alone in its slot and returns the
// share of probes whose finger's subject ranks first and within the first
// ten (by fused LLR, no threshold), and the number of probes.
func (rm *realMates) search(ctx context.Context, g *gallery.Gallery) (rank1, rank10 float64, probes int, err error) {
	hits1, hits10 := 0, 0
	for _, f := range rm.fingers {
		for _, t := range f.probes {
			data, err := t.MarshalBinary()
			if err != nil {
				return 0, 0, 0, err
			}
			probe := []*huella.Template{{Modality: huella.ModalityFinger, Position: f.position, Quality: t.Quality, Data: data}}
			cands, err := g.Identify(ctx, probe, 10, math.Inf(-1))
			if err != nil {
				return 0, 0, 0, err
			}
			probes++
			for rank, c := range cands {
				if c.SubjectID == f.subjectID {
					hits10++
					if rank == 0 {
						hits1++
					}
					break
				}
			}
		}
	}
	if probes == 0 {
		return 0, 0, 0, fmt.Errorf("bench identify: --real-mates: no finger has a second impression")
	}
	return float64(hits1) / float64(probes), float64(hits10) / float64(probes), probes, nil
}

// exhaustive ranks each probe impression as search does, by the calibrated
// LLR of its score (ties to the lower subject ID, as the gallery orders
// them), but against every subject of its slot with the exact comparator:
// the reference the two-stage index is measured against. The templates are
// read from the bench's template store, each prepared once for every probe
// of its slot, on all cores.
func (rm *realMates) exhaustive(ctx context.Context, store *fileTemplateStore, cal *fusion.Calibration) (rank1, rank10 float64, err error) {
	type probe struct {
		prepared *finger.Candidate
		mate     string
		llrs     []float64 // per template of the slot, in slot order
	}
	byPosition := map[int][]*probe{}
	for _, f := range rm.fingers {
		for _, t := range f.probes {
			byPosition[f.position] = append(byPosition[f.position], &probe{prepared: finger.Prepare(t), mate: f.subjectID})
		}
	}
	type entry struct {
		subject string
		data    []byte
	}
	slots := map[int][]entry{}
	err = store.forEach(func(t *huella.Template) error {
		if t.Modality == huella.ModalityFinger && byPosition[t.Position] != nil {
			slots[t.Position] = append(slots[t.Position], entry{t.SubjectID, t.Data})
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	hits1, hits10, n := 0, 0, 0
	for pos, probes := range byPosition {
		entries := slots[pos]
		for _, p := range probes {
			p.llrs = make([]float64, len(entries))
		}
		var next sync.Mutex
		i := 0
		var wg sync.WaitGroup
		var failed error
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					next.Lock()
					e := i
					i++
					next.Unlock()
					if e >= len(entries) || ctx.Err() != nil {
						return
					}
					var t finger.Template
					if err := t.UnmarshalBinary(entries[e].data); err != nil {
						next.Lock()
						failed = err
						next.Unlock()
						return
					}
					c := finger.Prepare(&t)
					for _, p := range probes {
						p.llrs[e] = cal.LLR(finger.Compare(p.prepared, c))
					}
				}
			}()
		}
		wg.Wait()
		if failed != nil {
			return 0, 0, failed
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		for _, p := range probes {
			mate := -1
			for e, en := range entries {
				if en.subject == p.mate {
					mate = e
				}
			}
			n++
			if mate < 0 {
				continue
			}
			rank := 0
			for e, llr := range p.llrs {
				if llr > p.llrs[mate] || llr == p.llrs[mate] && entries[e].subject < p.mate {
					rank++
				}
			}
			if rank == 0 {
				hits1++
			}
			if rank < 10 {
				hits10++
			}
		}
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("bench identify: --real-reference: no probe")
	}
	return float64(hits1) / float64(n), float64(hits10) / float64(n), nil
}
