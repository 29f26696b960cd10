package adjudicate_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/adjudicate"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/internal/demo"
)

// MustBlobs returns an encrypted file blob store in a temporary folder.
func MustBlobs(tb testing.TB) huella.BlobStore {
	tb.Helper()
	dir := tb.TempDir()
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "data.key"))
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := blob.NewFileStore(filepath.Join(dir, "blobs"), key)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { blobs.Close() })
	return blobs
}

// mustSample stores a demo fixture and returns its sample.
func mustSample(tb testing.TB, blobs huella.BlobStore, id, fixture string, m huella.Modality, position int) *huella.Sample {
	tb.Helper()
	data, err := demo.Fixture(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := blobs.Put(context.Background(), data)
	if err != nil {
		tb.Fatal(err)
	}
	s := &huella.Sample{ID: id, Modality: m, Position: position, ImageRef: ref, Format: "png", PPI: 500}
	if m == huella.ModalityFinger {
		s.Impression = huella.ImpressionPlain
	}
	return s
}

func TestCompareFingers(t *testing.T) {
	ctx := context.Background()
	blobs := MustBlobs(t)
	probe := []*huella.Sample{
		mustSample(t, blobs, "p2", "finger-103_2.png", huella.ModalityFinger, 2),  // mate of c2
		mustSample(t, blobs, "p3", "finger-105_1.png", huella.ModalityFinger, 3),  // not c3's finger
		mustSample(t, blobs, "p4", "finger-104_1.png", huella.ModalityFinger, 4),  // no candidate finger 4
		mustSample(t, blobs, "p5", "iris-001R01.jpg", huella.ModalityFinger, 5),   // no fingerprint in it
		mustSample(t, blobs, "pi", "iris-001R01.jpg", huella.ModalityIris, 0),     // not a finger
		mustSample(t, blobs, "p2b", "finger-101_1.png", huella.ModalityFinger, 2), // a second finger 2: the first counts
	}
	candidate := []*huella.Sample{
		mustSample(t, blobs, "c2", "finger-103_1.png", huella.ModalityFinger, 2),
		mustSample(t, blobs, "c3", "finger-102_1.png", huella.ModalityFinger, 3),
		mustSample(t, blobs, "c5", "finger-106_1.png", huella.ModalityFinger, 5),
		mustSample(t, blobs, "c2b", "finger-101_2.png", huella.ModalityFinger, 2), // older: not used
	}
	got, err := adjudicate.CompareFingers(ctx, nil, blobs, probe, candidate)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d fingers compared, want 2 (positions 2 and 3)", len(got))
	}
	mates, others := got[0], got[1]
	if mates.Position != 2 || mates.Probe.SampleID != "p2" || mates.Candidate.SampleID != "c2" ||
		others.Position != 3 || others.Probe.SampleID != "p3" || others.Candidate.SampleID != "c3" {
		t.Fatalf("compared %d %s-%s and %d %s-%s, want 2 p2-c2 and 3 p3-c3", mates.Position, mates.Probe.SampleID,
			mates.Candidate.SampleID, others.Position, others.Probe.SampleID, others.Candidate.SampleID)
	}
	if len(mates.Pairs) < 8 || len(others.Pairs) > 4 {
		t.Errorf("mates have %d pairs (want >= 8), non-mates %d (want <= 4)", len(mates.Pairs), len(others.Pairs))
	}
	if mates.Score <= others.Score {
		t.Errorf("mates score %.3f, non-mates %.3f", mates.Score, others.Score)
	}
	// FVC2002 DB1 prints are 388×374 at 500 ppi: the minutiae live there.
	for _, f := range got {
		for _, side := range []adjudicate.Minutiae{f.Probe, f.Candidate} {
			if side.Width != 388 || side.Height != 374 {
				t.Errorf("finger %d sample %s: %dx%d, want 388x374", f.Position, side.SampleID, side.Width, side.Height)
			}
			for _, m := range side.Minutiae {
				if m.X < 0 || m.X >= side.Width || m.Y < 0 || m.Y >= side.Height {
					t.Errorf("finger %d sample %s: minutia %+v outside the image", f.Position, side.SampleID, m)
				}
			}
		}
	}
	t.Run("ErrMissingImage", func(t *testing.T) {
		lost := *candidate[0]
		lost.ImageRef = "0000000000000000000000000000000000000000000000000000000000000000"
		if _, err := adjudicate.CompareFingers(ctx, nil, blobs, probe[:1], []*huella.Sample{&lost}); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("err = %v, want ENOTFOUND", err)
		}
	})
	t.Run("StoredTemplates", func(t *testing.T) {
		// The templates as enrollment stored them; the images are then
		// unreadable, so a comparison that works read no image.
		stored := templates{}
		for _, smp := range []*huella.Sample{probe[0], candidate[0]} {
			image, err := blobs.Get(ctx, smp.ImageRef)
			if err != nil {
				t.Fatal(err)
			}
			data, q, err := engine.Finger{}.Extract(ctx, smp, image)
			if err != nil {
				t.Fatal(err)
			}
			algorithm, version := engine.Finger{}.Algorithm()
			stored[smp.ID] = &huella.Template{SampleID: smp.ID, Modality: huella.ModalityFinger, Position: 2,
				Algorithm: algorithm, Version: version, Quality: q, Data: data}
		}
		lostP, lostC := *probe[0], *candidate[0]
		lostP.ImageRef, lostC.ImageRef = "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000000"
		got, err := adjudicate.CompareFingers(ctx, stored, blobs, []*huella.Sample{&lostP}, []*huella.Sample{&lostC})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Score != mates.Score || len(got[0].Pairs) != len(mates.Pairs) {
			t.Fatalf("from the stored templates: %+v; want the same comparison as from the images (score %.4f, %d pairs)",
				got, mates.Score, len(mates.Pairs))
		}
		// A template of another version is not used: the image is read.
		stored[lostC.ID].Version++
		if _, err := adjudicate.CompareFingers(ctx, stored, blobs, []*huella.Sample{&lostP}, []*huella.Sample{&lostC}); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("with an outdated template: err = %v, want ENOTFOUND (the image read)", err)
		}
	})
}

// templates is a set of stored templates by sample ID.
type templates map[string]*huella.Template

func (m templates) FindTemplates(_ context.Context, ids []string) ([]*huella.Template, error) {
	var out []*huella.Template
	for _, id := range ids {
		if t := m[id]; t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}
