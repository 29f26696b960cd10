package nistmap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/nistmap"
)

// demoEncounter is the demo's second person: four fingers, two irises, a
// face and a tattoo photo, with a full set of biographics.
func demoEncounter(t *testing.T) (*huella.Encounter, map[*huella.Sample][]byte) {
	t.Helper()
	files := []string{"finger-105_1.png", "finger-106_1.png", "iris-002R01.jpg", "iris-002L01.jpg", "face-b1.jpg", "tattoo-57_1.jpg"}
	samples := []*huella.Sample{
		{Modality: huella.ModalityFinger, Position: 2, Impression: huella.ImpressionPlain, Format: "png", PPI: 500, Width: 388, Height: 374},
		{Modality: huella.ModalityFinger, Position: 3, Impression: huella.ImpressionRolled, Format: "png", PPI: 500, Width: 388, Height: 374},
		{Modality: huella.ModalityIris, Eye: huella.EyeRight, Format: "jpeg", Width: 320, Height: 280},
		{Modality: huella.ModalityIris, Eye: huella.EyeLeft, Format: "jpeg", Width: 320, Height: 280},
		{Modality: huella.ModalityFace, Format: "jpeg", Width: 250, Height: 250},
		{Modality: huella.ModalitySMT, Format: "jpeg", Width: 300, Height: 400},
	}
	images := map[*huella.Sample][]byte{}
	for i, f := range files {
		data, err := demo.Fixture(f)
		if err != nil {
			t.Fatal(err)
		}
		images[samples[i]] = data
	}
	five := 5
	e := &huella.Encounter{ID: "enc_TEST", SiteCode: "MX-TAP", CapturedAt: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC),
		Reason: huella.ReasonDetention, CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics: huella.Biographics{
			Names:     []huella.Name{{Given: "María Fernanda", Family: "López"}, {Given: "Fernanda", Family: "Ruiz"}},
			BirthDate: huella.PartialDate{Year: 1998, Month: 11}, Sex: huella.SexFemale, Nationality: "SLV", PlaceOfBirth: "San Miguel"},
		Samples: samples,
		SMTs: []*huella.SMT{{Type: huella.SMTTattoo, Code: "TAT L ARM", Class: "PLANT", Subclass: "ROSE",
			Colors: []string{"BLACK", "RED"}, Description: "rosa con tallo", SampleIndex: &five}},
	}
	return e, images
}

func TestRoundTrip(t *testing.T) {
	e, images := demoEncounter(t)
	data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{Originator: "MXHUELLA0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ansinist.ReadStrict(data); err != nil {
		t.Fatalf("the export does not read in strict mode: %v", err)
	}
	req, notes, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP"})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes on a round trip: %v", notes)
	}
	got := req.Encounter
	b, want := got.Biographics, e.Biographics
	if len(b.Names) != 2 || b.Names[0] != want.Names[0] || b.Names[1] != want.Names[1] || b.BirthDate != want.BirthDate ||
		b.Sex != want.Sex || b.Nationality != want.Nationality || b.PlaceOfBirth != want.PlaceOfBirth {
		t.Errorf("biographics = %+v, want %+v", b, want)
	}
	if len(got.Samples) != len(e.Samples) {
		t.Fatalf("%d samples, want %d", len(got.Samples), len(e.Samples))
	}
	for i, s := range got.Samples {
		w := e.Samples[i]
		if s.Modality != w.Modality || s.Position != w.Position || s.Impression != w.Impression || s.Eye != w.Eye {
			t.Errorf("sample %d = %+v, want %+v", i, s, w)
		}
	}
	if s := got.Samples[0]; s.Format != "wsq" || s.PPI != 500 {
		t.Errorf("fingers travel as WSQ at 500 ppi: %+v", s)
	}
	if len(got.SMTs) != 1 {
		t.Fatalf("SMTs = %+v", got.SMTs)
	}
	m := got.SMTs[0]
	if m.Type != huella.SMTTattoo || m.Code != "TAT L ARM" || m.Class != "PLANT" || m.Subclass != "ROSE" ||
		strings.Join(m.Colors, ",") != "BLACK,RED" || m.Description != "rosa con tallo" || *m.SampleIndex != 5 {
		t.Errorf("SMT = %+v", m)
	}
	if !got.CapturedAt.Equal(e.CapturedAt) || string(req.Original) != string(data) {
		t.Errorf("captured %v (want %v), original kept: %t", got.CapturedAt, e.CapturedAt, string(req.Original) == string(data))
	}
}

// TestReferenceTransactions imports every NIST reference transaction with
// images Huella enrolls.
func TestReferenceTransactions(t *testing.T) {
	dir := datasets.Path(t, "ansinist/nist-reference/ansi-references")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.an2"))
	imported := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		req, _, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP"})
		if huella.ErrorCode(err) == huella.EUNPROCESSABLE {
			continue // latents, palms, signatures only
		}
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		imported++
		if len(req.Images) != len(req.Encounter.Samples) {
			t.Errorf("%s: %d images for %d samples", filepath.Base(p), len(req.Images), len(req.Encounter.Samples))
		}
		for i, s := range req.Encounter.Samples {
			s.ImageRef = strings.Repeat("0", 64)
			s.Width, s.Height = 1, 1
			if err := s.Validate(); err != nil {
				t.Errorf("%s: sample %d: %v", filepath.Base(p), i, err)
			}
		}
		if err := req.Encounter.Biographics.Validate(time.Now()); err != nil {
			t.Errorf("%s: biographics: %v", filepath.Base(p), err)
		}
	}
	if imported < 10 {
		t.Errorf("only %d reference transactions imported", imported)
	}
}

func FuzzImport(f *testing.F) {
	e, images := demoEncounter(&testing.T{})
	if data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{}); err == nil {
		f.Add(data[:2000])
	}
	f.Add([]byte("1.001:42\x1d1.002:0502\x1c"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, _, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP"})
		if err == nil && len(req.Images) != len(req.Encounter.Samples) {
			t.Fatal("images and samples disagree")
		}
	})
}
