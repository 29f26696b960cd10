package gallery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/synth"
)

// TestLoadSnapshotParallel loads synthetic subjects of every modality
// (ten fingers, two irises, a face; some fingers replaced by a later
// capture, some without sample ID) from a snapshot cut into many small
// chunks, on one to three cores, into galleries holding the finger
// templates and galleries fetching them from a store: each must identify
// and verify every probe exactly as a gallery the templates were added to
// one by one, and hold as many bytes. A snapshot with a bad template in
// the middle loads the templates before it and no other.
func TestLoadSnapshotParallel(t *testing.T) {
	ctx := context.Background()
	all := map[huella.Modality]bool{huella.ModalityFinger: true, huella.ModalityIris: true, huella.ModalityFace: true}
	cals := fusion.Set{"finger": linearUnit, "iris": linearUnit, "face": linearUnit}
	engines := []engine.Engine{engine.Finger{}, engine.Iris{}, &engine.Face{}}
	gen := synth.New(15)
	store := &mapStore{templates: map[string][]byte{}}
	var templates []*huella.Template
	var mates []*synth.Person
	for i := range 120 {
		p := gen.Person(all)
		ts := p.Templates(fmt.Sprintf("sub_%04d", i), all)
		if i%7 == 3 { // a later capture of one finger replaces the first
			again := *ts[0]
			again.Data = gen.Mate(p).Templates("", all)[0].Data
			ts = append(ts, &again)
		}
		for j, tm := range ts {
			if i%11 != 5 || j != 2 { // one finger of some subjects has no sample ID
				tm.SampleID = fmt.Sprintf("smp_%d_%d", i, j)
				store.templates[tm.SampleID] = tm.Data
			}
		}
		templates = append(templates, ts...)
		if i%30 == 0 {
			mates = append(mates, gen.Mate(p))
		}
	}
	snapshot := func(ts []*huella.Template) []byte {
		var buf bytes.Buffer
		w, err := gallery.NewSnapshotWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range ts {
			if err := w.Write(tm); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	data := snapshot(templates)
	newGallery := func(onDemand bool) *gallery.Gallery {
		g := gallery.New(engines, cals)
		g.Preselect = 40 // 20 subjects of a two-finger probe, and
		g.Shortlist = 5  // 5 of each iris and the face: the exact stage is slow
		if onDemand {
			g.Templates = store
		}
		return g
	}
	defer gallery.SetSnapshotChunk(32 << 10)() // ~17 chunks of ~7 subjects
	for _, onDemand := range []bool{false, true} {
		added := newGallery(onDemand)
		mustAdd(t, added, templates...)
		for _, procs := range []int{1, 3} {
			t.Run(fmt.Sprintf("onDemand=%v/procs=%d", onDemand, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				loaded := newGallery(onDemand)
				if n, err := loaded.LoadSnapshot(bytes.NewReader(data)); err != nil || n != len(templates) {
					t.Fatalf("LoadSnapshot = %d, %v; want %d", n, err, len(templates))
				}
				if a, b := added.Bytes(), loaded.Bytes(); a != b || added.Len() != loaded.Len() {
					t.Fatalf("Bytes, Len = %d, %d loaded; %d, %d added", b, loaded.Len(), a, added.Len())
				}
				for i, m := range mates {
					probe := m.Templates("", all)[8:] // two fingers, the irises, the face
					want, err := added.Identify(ctx, probe, 5, math.Inf(-1))
					if err != nil {
						t.Fatal(err)
					}
					got, err := loaded.Identify(ctx, probe, 5, math.Inf(-1))
					if err != nil {
						t.Fatal(err)
					}
					if candidates(got) != candidates(want) {
						t.Fatalf("mate %d: loaded gallery =\n%s, added gallery\n%s", i, candidates(got), candidates(want))
					}
					if len(got) == 0 || got[0].SubjectID != fmt.Sprintf("sub_%04d", 30*i) {
						t.Errorf("mate %d: not first", i)
					}
					for _, id := range []string{fmt.Sprintf("sub_%04d", 30*i+3), fmt.Sprintf("sub_%04d", 30*i+5)} {
						want, err1 := added.Verify(ctx, probe, id)
						got, err2 := loaded.Verify(ctx, probe, id)
						if err1 != nil || err2 != nil || candidates([]*huella.Candidate{got}) != candidates([]*huella.Candidate{want}) {
							t.Fatalf("Verify %s = %+v, %v; added %+v, %v", id, got, err2, want, err1)
						}
					}
				}
			})
		}
	}
	t.Run("ErrBadTemplate", func(t *testing.T) {
		bad := len(templates) * 2 / 3
		broken := append([]*huella.Template(nil), templates...)
		cut := *broken[bad]
		cut.Data = cut.Data[:len(cut.Data)-1]
		broken[bad] = &cut
		for _, procs := range []int{1, 2} {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			loaded := newGallery(true)
			n, err := loaded.LoadSnapshot(bytes.NewReader(snapshot(broken)))
			if err == nil || n != bad || !strings.Contains(err.Error(), fmt.Sprintf("template %d:", bad)) {
				t.Fatalf("LoadSnapshot = %d, %v; want %d and an error naming template %d", n, err, bad, bad)
			}
			before := newGallery(true)
			mustAdd(t, before, templates[:bad]...)
			if a, b := before.Bytes(), loaded.Bytes(); a != b || before.Len() != loaded.Len() {
				t.Fatalf("Bytes, Len = %d, %d loaded; %d, %d for the templates before the bad one", b, loaded.Len(), a, before.Len())
			}
		}
	})
	t.Run("UnknownSize", func(t *testing.T) {
		// A stream that cannot seek: no reservation, the same gallery.
		loaded := newGallery(true)
		if n, err := loaded.LoadSnapshot(struct{ io.Reader }{bytes.NewReader(data)}); err != nil || n != len(templates) {
			t.Fatalf("LoadSnapshot = %d, %v; want %d", n, err, len(templates))
		}
		probe := mates[1].Templates("", all)[8:]
		want, _ := newGalleryAdded(t, newGallery(true), templates).Identify(ctx, probe, 5, math.Inf(-1))
		got, err := loaded.Identify(ctx, probe, 5, math.Inf(-1))
		if err != nil || candidates(got) != candidates(want) {
			t.Fatalf("loaded gallery =\n%s (%v), added gallery\n%s", candidates(got), err, candidates(want))
		}
	})
	t.Run("LargeRecord", func(t *testing.T) {
		// Chunks smaller than one record grow to hold it.
		defer gallery.SetSnapshotChunk(100)()
		loaded := newGallery(false)
		if n, err := loaded.LoadSnapshot(bytes.NewReader(data)); err != nil || n != len(templates) {
			t.Fatalf("LoadSnapshot = %d, %v; want %d", n, err, len(templates))
		}
		if a, b := newGallery(false), loaded; b.Bytes() == 0 || a.Len() != 0 {
			t.Fatal("nothing loaded")
		}
	})
}

func newGalleryAdded(t *testing.T, g *gallery.Gallery, ts []*huella.Template) *gallery.Gallery {
	t.Helper()
	mustAdd(t, g, ts...)
	return g
}

// linearUnit maps any raw score to an LLR rising with it, so that the
// order of candidates is the raw scores' (only equality is tested here).
var linearUnit = &fusion.Calibration{Scores: []float64{-1, 1}, LLRs: []float64{-10, 10}}
