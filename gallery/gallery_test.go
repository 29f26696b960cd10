package gallery_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
)

// numberEngine is a fake engine whose templates are one byte: the score of
// two templates is minus their difference, so tests can set distances.
type numberEngine struct{ modality huella.Modality }

func (e numberEngine) Modality() huella.Modality { return e.modality }
func (numberEngine) Algorithm() (string, int)    { return "number", 1 }
func (numberEngine) Extract(context.Context, *huella.Sample, []byte) ([]byte, int, error) {
	panic("not used")
}
func (numberEngine) NewIndex() engine.Index { return &numberIndex{} }

type numberIndex struct{ values []byte }

func (x *numberIndex) Add(d []byte) (int, error) {
	if len(d) != 1 {
		return 0, huella.Errorf(huella.EINVALID, "number template: %d bytes", len(d))
	}
	x.values = append(x.values, d[0])
	return len(x.values) - 1, nil
}
func (x *numberIndex) Len() int   { return len(x.values) }
func (x *numberIndex) Bytes() int { return len(x.values) }
func (x *numberIndex) score(p []byte, i int) float64 {
	return -math.Abs(float64(p[0]) - float64(x.values[i]))
}
func (x *numberIndex) Search(p []byte, k int) ([]engine.Match, error) {
	var out []engine.Match
	for i := range x.values {
		out = append(out, engine.Match{Entry: i, Score: x.score(p, i)})
	}
	for i := range out { // selection sort: tiny galleries
		for j := i + 1; j < len(out); j++ {
			if out[j].Score > out[i].Score {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out[:min(k, len(out))], nil
}

// numberScored counts the entries numberIndex.ScoreEntries compared.
var numberScored atomic.Int64

func (x *numberIndex) ScoreEntries(p []byte, entries []int) ([]float64, error) {
	numberScored.Add(int64(len(entries)))
	out := make([]float64, len(entries))
	for i, e := range entries {
		out[i] = x.score(p, e)
	}
	return out, nil
}

// linear maps score s to LLR 10+s: distance 0 gives 10, distance 10 gives 0.
var linear = &fusion.Calibration{Scores: []float64{-1000, 0}, LLRs: []float64{-990, 10}}

func numberGallery() *gallery.Gallery {
	return gallery.New([]engine.Engine{numberEngine{huella.ModalityFinger}, numberEngine{huella.ModalityFace}},
		fusion.Set{"finger": linear, "face": linear})
}

func tmpl(subject string, m huella.Modality, position int, v byte) *huella.Template {
	return &huella.Template{SubjectID: subject, Modality: m, Position: position, Quality: 80, Data: []byte{v}}
}

func mustAdd(tb testing.TB, g *gallery.Gallery, ts ...*huella.Template) {
	tb.Helper()
	for _, t := range ts {
		if err := g.Add(t); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestIdentify(t *testing.T) {
	ctx := context.Background()
	g := numberGallery()
	g.Shortlist = 1 // force the fill-in step
	mustAdd(t, g,
		tmpl("A", huella.ModalityFinger, 2, 10), tmpl("A", huella.ModalityFinger, 3, 50), tmpl("A", huella.ModalityFace, 0, 100),
		tmpl("B", huella.ModalityFinger, 2, 12), tmpl("B", huella.ModalityFinger, 3, 90),
		tmpl("C", huella.ModalityFace, 0, 200))
	probe := []*huella.Template{tmpl("", huella.ModalityFinger, 2, 12), tmpl("", huella.ModalityFinger, 3, 50), tmpl("", huella.ModalityFace, 0, 101)}
	t.Run("FusesSlotsBothSidesHave", func(t *testing.T) {
		got, err := g.Identify(ctx, probe, 10, -1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 || got[0].SubjectID != "A" {
			t.Fatalf("got %v, want A first", got)
		}
		// A: finger 2 at distance 2 (8), finger 3 at 0 (10), face at 1 (9);
		// B is shortlisted by finger 2 alone and filled in on finger 3.
		if want := 27.0; math.Abs(got[0].LLR-want) > 1e-9 || len(got[0].Scores) != 3 {
			t.Errorf("A: LLR %v from %d scores, want %v from 3", got[0].LLR, len(got[0].Scores), want)
		}
		if got[1].SubjectID != "B" || got[1].LLR != -20 {
			t.Errorf("B: %+v, want LLR 10 - 30 = -20", got[1])
		}
		if got[0].FMR != math.Exp(-27) {
			t.Errorf("FMR = %v", got[0].FMR)
		}
	})
	t.Run("Threshold", func(t *testing.T) {
		got, _ := g.Identify(ctx, probe, 10, 20)
		if len(got) != 1 || got[0].SubjectID != "A" {
			t.Fatalf("got %v, want only A above 20", got)
		}
	})
	t.Run("LowQualityProbeIgnored", func(t *testing.T) {
		g.MinQuality = 50
		defer func() { g.MinQuality = 0 }()
		low := *probe[2]
		low.Quality = 10
		got, _ := g.Identify(ctx, []*huella.Template{&low}, 10, -1000)
		if len(got) != 0 {
			t.Fatalf("got %v from a low-quality probe", got)
		}
	})
	t.Run("Verify", func(t *testing.T) {
		c, err := g.Verify(ctx, probe, "B")
		if err != nil {
			t.Fatal(err)
		}
		// B: finger 2 at distance 0 (10), finger 3 at 40 (-30); no face.
		if c.LLR != -20 || len(c.Scores) != 2 {
			t.Errorf("B: %+v, want LLR -20 from 2 scores", c)
		}
		if _, err := g.Verify(ctx, probe, "nobody"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("unknown subject: %v", err)
		}
	})
}

func TestReplaceMergeRemove(t *testing.T) {
	ctx := context.Background()
	g := numberGallery()
	mustAdd(t, g, tmpl("A", huella.ModalityFinger, 2, 10), tmpl("B", huella.ModalityFinger, 2, 200))
	probe := []*huella.Template{tmpl("", huella.ModalityFinger, 2, 200)}
	first := func() string {
		got, err := g.Identify(ctx, probe, 1, -1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return ""
		}
		return got[0].SubjectID
	}
	if got := first(); got != "B" {
		t.Fatalf("first = %q, want B", got)
	}
	t.Run("ReplaceKeepsOnePerSlot", func(t *testing.T) {
		mustAdd(t, g, tmpl("B", huella.ModalityFinger, 2, 100))
		got, _ := g.Identify(ctx, probe, 10, -1000)
		if len(got) != 2 || got[0].SubjectID != "B" || got[0].Scores[0].Score != -100 {
			t.Fatalf("got %+v: B's old template still counts", got)
		}
	})
	t.Run("Merge", func(t *testing.T) {
		if err := g.Merge("B", "A"); err != nil {
			t.Fatal(err)
		}
		got, _ := g.Identify(ctx, probe, 10, -1000)
		if len(got) != 1 || got[0].SubjectID != "A" || got[0].Scores[0].Score != -100 {
			t.Fatalf("after merge got %+v, want A with B's template", got)
		}
		if err := g.Unmerge("B"); err != nil {
			t.Fatal(err)
		}
		if got := first(); got != "B" {
			t.Fatalf("after unmerge first = %q, want B", got)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		g.Remove("B")
		if got := first(); got != "A" {
			t.Fatalf("after removal first = %q, want A", got)
		}
		if g.Len() != 1 {
			t.Errorf("Len = %d, want 1", g.Len())
		}
	})
}

// TestFingerprints identifies FVC2002 DB1 fingers with the real engine:
// impressions 1 are the gallery, impressions 2 the probes, and the
// calibration is fitted on impressions 3 and 4.
func TestFingerprints(t *testing.T) {
	dir := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	ctx := context.Background()
	var e engine.Finger
	extract := func(f, imp int) []byte {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d_%d.tif", f, imp)))
		if err != nil {
			t.Fatal(err)
		}
		g, err := imgproc.DecodeGray(data)
		if err != nil {
			t.Fatal(err)
		}
		tm, err := finger.Extract(g, finger.Options{})
		if err != nil {
			t.Fatalf("%d_%d: %v", f, imp, err)
		}
		b, _ := tm.MarshalBinary()
		return b
	}
	// Calibration from impressions 3 and 4 of every finger.
	var cal [][]byte
	for f := 101; f <= 110; f++ {
		cal = append(cal, extract(f, 3), extract(f, 4))
	}
	var gen, imp []float64
	for i := range cal {
		idx := e.NewIndex()
		idx.Add(cal[i])
		for j := i + 1; j < len(cal); j++ {
			s, err := idx.ScoreEntries(cal[j], []int{0})
			if err != nil {
				t.Fatal(err)
			}
			if i/2 == j/2 {
				gen = append(gen, s[0])
			} else {
				imp = append(imp, s[0])
			}
		}
	}
	c, err := fusion.Fit("finger", append(gen, gen...), imp, 16)
	if err != nil {
		t.Fatal(err)
	}
	g := gallery.New([]engine.Engine{e}, fusion.Set{"finger": c})
	for f := 101; f <= 110; f++ {
		mustAdd(t, g, &huella.Template{SubjectID: fmt.Sprint(f), Modality: huella.ModalityFinger, Position: 2, Quality: 100, Data: extract(f, 1)})
	}
	hits := 0
	for f := 101; f <= 110; f++ {
		got, err := g.Identify(ctx, []*huella.Template{{Modality: huella.ModalityFinger, Position: 2, Quality: 100, Data: extract(f, 2)}}, 1, math.Inf(-1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].SubjectID == fmt.Sprint(f) {
			hits++
		}
	}
	if hits < 9 {
		t.Errorf("rank-1 hits %d of 10, want at least 9", hits)
	}
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	w, err := gallery.NewSnapshotWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range []*huella.Template{tmpl("A", huella.ModalityFinger, 2, 10), tmpl("B", huella.ModalityFinger, 2, 200), tmpl("B", huella.ModalityFace, 0, 7)} {
		if err := w.Write(tm); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	g := numberGallery()
	n, err := g.LoadSnapshot(bytes.NewReader(data))
	if err != nil || n != 3 {
		t.Fatalf("LoadSnapshot = %d, %v; want 3", n, err)
	}
	got, _ := g.Identify(ctx, []*huella.Template{tmpl("", huella.ModalityFinger, 2, 199), tmpl("", huella.ModalityFace, 0, 7)}, 1, -1000)
	if len(got) != 1 || got[0].SubjectID != "B" || len(got[0].Scores) != 2 {
		t.Fatalf("after load: %+v", got)
	}
	t.Run("FormatV1", func(t *testing.T) {
		// Written before sample IDs: subject "A", finger, position 2, eye 0,
		// quality 80, the one-byte template 10.
		g := numberGallery()
		if n, err := g.LoadSnapshot(bytes.NewReader([]byte("HGS1\x01A\x00\x02\x00\x50\x01\x0a"))); err != nil || n != 1 {
			t.Fatalf("LoadSnapshot = %d, %v; want 1", n, err)
		}
		got, _ := g.Identify(ctx, []*huella.Template{tmpl("", huella.ModalityFinger, 2, 10)}, 1, -1000)
		if len(got) != 1 || got[0].SubjectID != "A" || got[0].Scores[0].Score != 0 {
			t.Fatalf("after load: %+v", got)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		for cut := 0; cut < len(data); cut++ {
			if n, _ := numberGallery().LoadSnapshot(bytes.NewReader(data[:cut])); n == 3 {
				t.Fatalf("a snapshot cut at %d of %d bytes loaded whole", cut, len(data))
			}
		}
	})
}

func FuzzLoadSnapshot(f *testing.F) {
	var buf bytes.Buffer
	w, _ := gallery.NewSnapshotWriter(&buf)
	w.Write(tmpl("A", huella.ModalityFinger, 2, 10))
	w.Write(tmpl("B", huella.ModalityFace, 0, 7))
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("HGS1\xff\xff\xff\xff\x0f"))
	f.Add([]byte("HGS2\x01A\xff\xff\xff\xff\x0f"))
	f.Add([]byte("HGS1\x01A\x00\x02\x00\x50\x01\x0a")) // format 1: no sample ID
	f.Fuzz(func(t *testing.T, data []byte) {
		numberGallery().LoadSnapshot(bytes.NewReader(data)) // must not panic
	})
}
