package nistmap_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/nistmap"
)

// demoEncounter is the demo's second person: two fingers, two irises, a
// face and a tattoo photo, with a full set of biographics, and two fingers
// not printed: the left thumb amputated, the left ring finger bandaged.
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
		FingerAbsences: []huella.FingerAbsence{{Position: huella.FingerLeftThumb, Reason: huella.AbsenceAmputated},
			{Position: huella.FingerLeftRing, Reason: huella.AbsenceUnprintable}},
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
	req, notes, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
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
	if !reflect.DeepEqual(got.FingerAbsences, e.FingerAbsences) {
		t.Errorf("finger absences = %+v, want %+v", got.FingerAbsences, e.FingerAbsences)
	}
	if err := validate(req, testNow); err != nil {
		t.Errorf("the import does not validate: %v", err)
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

// testNow is the clock of the imports in these tests: an early morning, when
// midday of the same day is still ahead (the hour that once refused imports
// dated today).
var testNow = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

// validate validates the imported encounter as enrollment would at now, with
// stand-ins for what storing the images fills in.
func validate(req *enroll.Request, now time.Time) error {
	e := *req.Encounter
	e.Purpose = huella.PurposeEnforcement
	for i := range e.Samples {
		s := *e.Samples[i]
		s.ImageRef, s.Width, s.Height = strings.Repeat("0", 64), 1, 1
		e.Samples[i] = &s
	}
	e.Samples = slices.Clone(e.Samples)
	return e.Validate(now)
}

// TestExportAbsences: an absent finger is marked in 14.018 of the slap
// that should show it, or else of a blank record of its own position.
func TestExportAbsences(t *testing.T) {
	e, images := demoEncounter(t)
	slap := &huella.Sample{Modality: huella.ModalityFinger, Position: huella.SlapRightFour, Impression: huella.ImpressionPlain,
		Format: "png", PPI: 500, Width: 388, Height: 374}
	images[slap] = images[e.Samples[0]]
	e.Samples = append(e.Samples, slap)
	e.FingerAbsences = []huella.FingerAbsence{{Position: huella.FingerRightRing, Reason: huella.AbsenceAmputated},
		{Position: huella.FingerLeftLittle, Reason: huella.AbsenceUnprintable}, {Position: huella.FingerRightLittle, Reason: huella.AbsenceUnprintable}}
	data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ansinist.ReadStrict(data)
	if err != nil {
		t.Fatalf("the export does not read in strict mode: %v", err)
	}
	amp := map[string]string{} // FGP of the record -> 14.018
	for _, r := range tx.RecordsOfType(14) {
		if f := r.Field(18); f != nil {
			amp[r.Get(13)] = f.Text()
		}
	}
	want := map[string]string{"13": "4\x1fXX\x1e5\x1fUP", "10": "10\x1fUP"}
	if !reflect.DeepEqual(amp, want) {
		t.Errorf("14.018 by record FGP = %q, want %q", amp, want)
	}
	req, notes, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 || len(req.Encounter.Samples) != len(e.Samples) {
		t.Errorf("import: %d samples (want %d), notes %v", len(req.Encounter.Samples), len(e.Samples), notes)
	}
	wantAbsent := []huella.FingerAbsence{{Position: 4, Reason: huella.AbsenceAmputated}, {Position: 5, Reason: huella.AbsenceUnprintable},
		{Position: 10, Reason: huella.AbsenceUnprintable}}
	if !reflect.DeepEqual(req.Encounter.FingerAbsences, wantAbsent) {
		t.Errorf("imported absences = %+v, want %+v", req.Encounter.FingerAbsences, wantAbsent)
	}
}

// TestImportAMP: 14.018 is read leniently; what cannot be mapped is noted,
// never a failure.
func TestImportAMP(t *testing.T) {
	fixture, err := demo.Fixture("finger-105_1.png")
	if err != nil {
		t.Fatal(err)
	}
	gray, err := imgproc.DecodeGray(fixture)
	if err != nil {
		t.Fatal(err)
	}
	// transaction holds a rolled right index (FGP 2) and a right slap
	// (FGP 13) whose 14.018 is amp.
	transaction := func(t *testing.T, amp [][]string) []byte {
		tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: testNow, Originator: "TEST"})
		tx.AddBiographics(ansinist.Biographics{Name: "PEREZ,ANA"}, nil)
		for _, pos := range []int{2, 13} {
			fp, err := ansinist.WSQFingerprint(pos, 1, gray, 500)
			if err != nil {
				t.Fatal(err)
			}
			r := tx.AddFingerprint(fp)
			if pos == 13 {
				r.SetSubfields(18, amp)
			}
		}
		data, err := tx.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tt := range []struct {
		name      string
		amp       [][]string
		want      []huella.FingerAbsence
		wantNotes []string
	}{
		{"OK", [][]string{{"5", "XX"}, {"3", "UP"}},
			[]huella.FingerAbsence{{Position: 3, Reason: huella.AbsenceUnprintable}, {Position: 5, Reason: huella.AbsenceAmputated}}, nil},
		{"LowerCase", [][]string{{" 4", "xx "}}, []huella.FingerAbsence{{Position: 4, Reason: huella.AbsenceAmputated}}, nil},
		{"UnknownCode", [][]string{{"4", "ZZ"}, {"5", "XX"}}, []huella.FingerAbsence{{Position: 5, Reason: huella.AbsenceAmputated}},
			[]string{"code for finger 4 is neither XX nor UP"}},
		{"NoCode", [][]string{{"4"}}, nil, []string{"code for finger 4 is neither XX nor UP"}},
		{"NotAFinger", [][]string{{"13", "XX"}, {"x", "UP"}}, nil,
			[]string{"not a finger 1-10", "not a finger 1-10"}},
		{"Twice", [][]string{{"4", "XX"}, {"4", "UP"}}, []huella.FingerAbsence{{Position: 4, Reason: huella.AbsenceAmputated}},
			[]string{"marks finger 4 unprintable, an earlier mark amputated"}},
		{"PrintedElsewhere", [][]string{{"2", "UP"}}, nil,
			[]string{"finger 2 is marked unprintable but another record holds its print"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, notes, err := nistmap.Import(transaction(t, tt.amp), nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.Encounter.FingerAbsences, tt.want) {
				t.Errorf("absences = %+v, want %+v", req.Encounter.FingerAbsences, tt.want)
			}
			if len(notes) != len(tt.wantNotes) {
				t.Fatalf("notes %q, want %d like %q", notes, len(tt.wantNotes), tt.wantNotes)
			}
			for i, want := range tt.wantNotes {
				if !strings.Contains(notes[i], want) {
					t.Errorf("note %q, want one with %q", notes[i], want)
				}
			}
			if len(req.Encounter.Samples) != 2 {
				t.Errorf("%d samples, want the index and the slap", len(req.Encounter.Samples))
			}
			if err := validate(req, testNow); err != nil {
				t.Errorf("the import does not validate: %v", err)
			}
		})
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
		req, _, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
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
		if err := req.Encounter.Biographics.Validate(testNow); err != nil {
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
		req, _, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
		if err == nil && len(req.Images) != len(req.Encounter.Samples) {
			t.Fatal("images and samples disagree")
		}
	})
}
