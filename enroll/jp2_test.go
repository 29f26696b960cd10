package enroll_test

import (
	"os"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/storetest"
)

// TestEnrollJPEG2000: a fingerprint in a JP2 file, as livescans and national
// ID systems send them, is enrolled as it is (issue 21): its format and
// size are read from the image, and the encounter is stored with it.
func TestEnrollJPEG2000(t *testing.T) {
	data, err := os.ReadFile(datasets.Path(t, "fingerprint/libbiomeval/img.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	s, store := mustService(t)
	s.Identifier = nil // storage only: the image, not the search, is under test
	storetest.MustCreateSite(t, store, "MX-TAP")
	smp := &huella.Sample{Modality: huella.ModalityFinger, Position: 2, Impression: huella.ImpressionPlain, PPI: 500}
	e, err := s.Enroll(officerContext(), irisRequest([]*huella.Sample{smp}, [][]byte{data}))
	if err != nil {
		t.Fatalf("enroll a JP2 fingerprint: %v", err)
	}
	if got := e.Samples[0]; got.Format != "jp2" || got.Width != 908 || got.Height != 1007 {
		t.Errorf("stored sample %s %dx%d, want jp2 908x1007", got.Format, got.Width, got.Height)
	}

	truncated := data[:len(data)/2]
	if _, err := s.Enroll(officerContext(), irisRequest([]*huella.Sample{{Modality: huella.ModalityFinger, Position: 3,
		Impression: huella.ImpressionPlain, PPI: 500}}, [][]byte{truncated})); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("a truncated JP2: %v, want EINVALID", err)
	}
}
