package engine_test

import (
	"slices"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/internal/synth"
)

// TestLoaderBlocks builds each Loader index twice from the same synthetic
// templates, once by Add (and AddFirstStage) one at a time and once from
// batches of uneven sizes appended as blocks, with Adds after them: both
// must hold as many entries and bytes, and give every probe the same
// similarities, shortlist and exact scores, so that a scan walking the
// blocks sees what a scan of one array sees.
func TestLoaderBlocks(t *testing.T) {
	gen := synth.New(21)
	all := map[huella.Modality]bool{huella.ModalityFinger: true, huella.ModalityIris: true, huella.ModalityFace: true}
	bySlot := map[engine.Slot][][]byte{}
	for range 130 {
		for _, tm := range gen.Person(all).Templates("s", all) {
			key := engine.SlotOf(tm)
			bySlot[key] = append(bySlot[key], tm.Data)
		}
	}
	face := &engine.Face{}
	for _, c := range []struct {
		name  string
		eng   engine.Engine
		slot  engine.Slot
		first func(i int) bool // whether entry i keeps its first stage only
	}{
		{"Finger", engine.Finger{}, engine.Slot{Modality: huella.ModalityFinger, Position: 2}, func(i int) bool { return i%5 == 2 }},
		{"FingerFirstStage", engine.Finger{}, engine.Slot{Modality: huella.ModalityFinger, Position: 3}, func(i int) bool { return i < 100 }},
		{"FingerHeld", engine.Finger{}, engine.Slot{Modality: huella.ModalityFinger, Position: 4}, func(int) bool { return false }},
		{"Iris", engine.Iris{}, engine.Slot{Modality: huella.ModalityIris, Position: 1}, func(int) bool { return false }},
		{"Face", face, engine.Slot{Modality: huella.ModalityFace}, func(int) bool { return false }},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := bySlot[c.slot]
			if len(data) != 130 {
				t.Fatalf("%d templates of %s, want 130", len(data), c.slot)
			}
			add := func(x engine.Index, i int) {
				t.Helper()
				var err error
				if od, ok := x.(engine.OnDemand); ok && c.first(i) {
					_, err = od.AddFirstStage(data[i])
				} else {
					_, err = x.Add(data[i])
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			whole := c.eng.NewIndex()
			for i := range data {
				add(whole, i)
			}
			blocks := c.eng.NewIndex()
			loader := blocks.(engine.Loader)
			next := 0
			for _, size := range []int{1, 40, 1, 2, 56} {
				held, bytes := 0, 0
				for i := next; i < next+size; i++ {
					if !c.first(i) {
						held++
						bytes += len(data[i])
					}
				}
				b := loader.NewBatch(size, bytes, held)
				for i := next; i < next+size; i++ {
					if err := b.Add(data[i], c.first(i)); err != nil {
						t.Fatal(err)
					}
				}
				if first, err := loader.AddBatch(b); err != nil || first != next {
					t.Fatalf("AddBatch = %d, %v; want %d", first, err, next)
				}
				if b.Len() != 0 {
					t.Fatalf("batch holds %d entries after AddBatch, want 0", b.Len())
				}
				next += size
			}
			for i := next; i < len(data); i++ {
				add(blocks, i)
			}
			if blocks.Len() != whole.Len() || blocks.Bytes() != whole.Bytes() {
				t.Fatalf("Len %d, Bytes %d; want %d, %d", blocks.Len(), blocks.Bytes(), whole.Len(), whole.Bytes())
			}
			entries := []int{0, 1, 2, 40, 41, 42, 43, 44, 99, 100, 129}
			for _, p := range []int{0, 41, 43, 77, 129} {
				probe := data[p]
				if pre, ok := whole.(engine.Preselector); ok {
					want, err := pre.Similarities(probe, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := blocks.(engine.Preselector).Similarities(probe, nil)
					if err != nil || !slices.Equal(got, want) {
						t.Fatalf("probe %d: Similarities over blocks differ (%v)", p, err)
					}
				}
				want, wantErr := whole.Search(probe, 5)
				got, err := blocks.Search(probe, 5)
				if (err != nil) != (wantErr != nil) || !slices.Equal(got, want) {
					t.Fatalf("probe %d: Search over blocks %v, %v; want %v, %v", p, got, err, want, wantErr)
				}
				for _, e := range entries {
					want, wantErr := whole.ScoreEntries(probe, []int{e})
					got, err := blocks.ScoreEntries(probe, []int{e})
					if (err != nil) != (wantErr != nil) || !slices.Equal(got, want) {
						t.Fatalf("probe %d entry %d: ScoreEntries over blocks %v, %v; want %v, %v", p, e, got, err, want, wantErr)
					}
				}
			}
		})
	}
}

// BenchmarkSimilaritiesBlocks times the two-stage finger index's first
// stage over 100,000 entries held in blocks of the size Add fills and in
// blocks of the size a snapshot load makes (~350 entries a slot per 4 MiB
// chunk of ten-print, iris and face records): the scan must cost the same.
func BenchmarkSimilaritiesBlocks(b *testing.B) {
	const entries, distinct = 100_000, 500
	gen := synth.New(22)
	fingers := map[huella.Modality]bool{huella.ModalityFinger: true}
	var data [][]byte
	for len(data) < distinct {
		for _, tm := range gen.Person(fingers).Templates("s", fingers) {
			data = append(data, tm.Data)
		}
	}
	for _, c := range []struct {
		name  string
		block int // 0: Add
	}{{"Add", 0}, {"Blocks350", 350}} {
		x := engine.Finger{}.NewIndex()
		for i := 0; i < entries; {
			if c.block == 0 {
				if _, err := x.(engine.OnDemand).AddFirstStage(data[i%distinct]); err != nil {
					b.Fatal(err)
				}
				i++
				continue
			}
			batch := x.(engine.Loader).NewBatch(c.block, 0, 0)
			for range min(c.block, entries-i) {
				if err := batch.Add(data[i%distinct], true); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if _, err := x.(engine.Loader).AddBatch(batch); err != nil {
				b.Fatal(err)
			}
		}
		pre := x.(engine.Preselector)
		b.Run(c.name, func(b *testing.B) {
			var out []int32
			for b.Loop() {
				var err error
				if out, err = pre.Similarities(data[7], out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
