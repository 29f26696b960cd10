package enroll_test

import (
	"context"
	"os"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
	"github.com/huella-abis/huella/isomap"
	"github.com/huella-abis/huella/storetest"
)

// TestEnrollISORecords: ISO/IEC 19794 records submitted as samples (a
// sample format of iso19794-4, -5 or -6, issue 21) are enrolled as the
// images they hold, with the finger position, impression, resolution and
// eye the records state: MOSIP's finger image records (JPEG 2000 inside),
// libbiomeval's face and iris records, and a finger image record of raw
// pixels that our encoder writes from an FVC2002 image, stored as a PNG of
// the same pixels. A record that disagrees with the request, or is cut
// short, changes nothing.
func TestEnrollISORecords(t *testing.T) {
	read := func(rel string) []byte {
		data, err := os.ReadFile(datasets.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	fvc, err := imgproc.DecodeGray(read("fingerprint/fvc2002/DB1_B/102_3.tif"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := iso19794.Iso19794p4v2005Codec{}.Encode(&iso19794.FingerImageRecord{ScaleUnits: 1, ScanResX: 500, ScanResY: 500,
		ImageResX: 500, ImageResY: 500, PixelDepth: 8, Compression: iso19794.FingerUncompressed,
		Views: []iso19794.FingerImageView{{Position: 3, CountOfViews: 1, ViewNumber: 1, Quality: 254, Impression: 1,
			Width: uint16(fvc.Rect.Dx()), Height: uint16(fvc.Rect.Dy()), Data: fvc.Pix}}})
	if err != nil {
		t.Fatal(err)
	}
	s, store := mustService(t)
	s.Identifier = nil // storage only: the records, not the search, are under test
	storetest.MustCreateSite(t, store, "MX-TAP")
	samples := []*huella.Sample{
		{Modality: huella.ModalityFinger, Format: isomap.FormatFingerImage},
		{Modality: huella.ModalityFinger, Format: isomap.FormatFingerImage, Position: 1},
		{Format: isomap.FormatFingerImage},
		{Modality: huella.ModalityFace, Format: isomap.FormatFace},
		{Modality: huella.ModalityIris, Format: isomap.FormatIris},
	}
	images := [][]byte{read("fingerprint/mosip-iso/FingerPrintLeft_Index.iso"), read("fingerprint/mosip-iso/FingerPrintRight_Thumb.iso"),
		raw, read("fingerprint/libbiomeval/face01.iso2005"), read("fingerprint/libbiomeval/iris01.iso2011")}
	e, err := s.Enroll(officerContext(), irisRequest(samples, images))
	if err != nil {
		t.Fatalf("enroll ISO records: %v", err)
	}
	want := []struct {
		modality   huella.Modality
		position   int
		impression huella.Impression
		format     string
		ppi        int
	}{
		{huella.ModalityFinger, 7, huella.ImpressionPlain, "jp2", 500},
		{huella.ModalityFinger, 1, huella.ImpressionPlain, "jp2", 500},
		{huella.ModalityFinger, 3, huella.ImpressionRolled, "png", 500},
		{huella.ModalityFace, 0, "", "jpeg", 0},
		{huella.ModalityIris, 0, "", "png", 0},
	}
	if len(e.Samples) != len(want) {
		t.Fatalf("%d samples stored, want %d", len(e.Samples), len(want))
	}
	for i, w := range want {
		got := e.Samples[i]
		if got.Modality != w.modality || got.Position != w.position || got.Impression != w.impression || got.Format != w.format || got.PPI != w.ppi {
			t.Errorf("sample %d: %s position %d %s %s %d ppi, want %+v", i, got.Modality, got.Position, got.Impression, got.Format, got.PPI, w)
		}
		if got.Width < 40 || got.Height < 40 { // libbiomeval's iris is 76x47
			t.Errorf("sample %d: %dx%d", i, got.Width, got.Height)
		}
	}
	if e.Samples[4].Eye == "" {
		t.Error("iris sample without its eye")
	}
	stored, err := s.Blobs.Get(context.Background(), e.Samples[2].ImageRef)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := imgproc.DecodeGray(stored); err != nil || !g.Rect.Eq(fvc.Rect) || string(g.Pix) != string(fvc.Pix) {
		t.Errorf("the raw record's image is not stored as the same pixels (err %v)", err)
	}

	count := func() int {
		list, err := store.ListEncounters(context.Background(), huella.EncounterFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	before := count()
	for _, c := range []struct {
		name   string
		sample *huella.Sample
		image  []byte
	}{
		{"ErrPositionDisagrees", &huella.Sample{Modality: huella.ModalityFinger, Format: isomap.FormatFingerImage, Position: 2}, images[0]},
		{"ErrTruncated", &huella.Sample{Modality: huella.ModalityFinger, Format: isomap.FormatFingerImage}, images[0][:200]},
		{"ErrNotARecord", &huella.Sample{Modality: huella.ModalityFinger, Format: isomap.FormatFingerImage}, stored},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Enroll(officerContext(), irisRequest([]*huella.Sample{c.sample}, [][]byte{c.image}))
			if huella.ErrorCode(err) != huella.EINVALID {
				t.Errorf("err %v, want EINVALID", err)
			}
		})
	}
	if n := count(); n != before {
		t.Errorf("%d encounters after refused records, want %d", n, before)
	}
}
