package enroll_test

import (
	"os"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/match"
	"github.com/huella-abis/huella/storetest"
)

// tenPrintCard returns the rolled prints 1-10 and the two four-finger
// slaps of NIST's ten-print card sample.an2 (WSQ), rolled[p] for position p.
func tenPrintCard(tb testing.TB) (rolled map[int][]byte, slaps map[int][]byte) {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, "ansinist/nist-reference/samples-nist/sample.an2"))
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := ansinist.Read(data)
	if err != nil {
		tb.Fatal(err)
	}
	rolled, slaps = map[int][]byte{}, map[int][]byte{}
	for _, r := range tx.RecordsOfType(4) {
		img, ok := r.Image()
		if !ok {
			continue
		}
		switch p := r.FingerPositions()[0]; {
		case p >= 1 && p <= 10:
			rolled[p] = img.Data
		case p == huella.SlapRightFour || p == huella.SlapLeftFour:
			slaps[p] = img.Data
		}
	}
	return rolled, slaps
}

// cardRequest is the card as an encounter: the rolled prints, position p
// carrying finger swap[p]'s print where swap names one, and the slaps.
func cardRequest(tb testing.TB, swap map[int]int) ([]*huella.Sample, [][]byte) {
	rolled, slaps := tenPrintCard(tb)
	var samples []*huella.Sample
	var images [][]byte
	for p := 1; p <= 10; p++ {
		img := rolled[p]
		if q, ok := swap[p]; ok {
			img = rolled[q]
		}
		samples = append(samples, &huella.Sample{Modality: huella.ModalityFinger, Position: p, Impression: huella.ImpressionRolled, PPI: 500})
		images = append(images, img)
	}
	for _, p := range []int{huella.SlapRightFour, huella.SlapLeftFour} {
		samples = append(samples, &huella.Sample{Modality: huella.ModalityFinger, Position: p, Impression: huella.ImpressionPlain, PPI: 500})
		images = append(images, slaps[p])
	}
	return samples, images
}

// TestSequenceCheck enrolls the ten-print card whole, then with two
// fingers' rolled prints swapped, and with a finger of each hand swapped:
// the swaps are refused before anything is stored, naming the positions.
func TestSequenceCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("template extraction skipped in -short mode")
	}
	s, store := mustService(t)
	cals, err := fusion.Default()
	if err != nil {
		t.Fatal(err)
	}
	identifier := match.NewIdentifier(store, []engine.Engine{engine.Iris{}, engine.Finger{}}, cals)
	if _, _, err := identifier.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Identifier = nil // the check on its own templates first; with the search below
	storetest.MustCreateSite(t, store, "MX-TAP")

	t.Run("OK", func(t *testing.T) {
		samples, images := cardRequest(t, nil)
		e, err := s.Enroll(officerContext(), irisRequest(samples, images))
		if err != nil {
			t.Fatalf("enroll the card: %v", err)
		}
		// The slaps stay, and their fingertips join as plain prints.
		var slaps, plain int
		for _, smp := range e.Samples {
			switch {
			case smp.Position >= huella.SlapRightFour:
				slaps++
			case smp.Impression == huella.ImpressionPlain:
				plain++
				if smp.Format != "png" || smp.Position < 2 || smp.Position == 6 {
					t.Errorf("fingertip sample %+v, want a PNG of a finger of the four-finger slaps", smp)
				}
			}
		}
		if slaps != 2 || plain < 6 {
			t.Errorf("stored %d slaps and %d fingertips, want 2 and at least 6 of 8", slaps, plain)
		}
		t.Logf("%d fingertips stored as plain prints", plain)
	})
	t.Run("OKSearched", func(t *testing.T) {
		s.Identifier = identifier
		defer func() { s.Identifier = nil }()
		samples, images := cardRequest(t, nil)
		e, err := s.Enroll(officerContext(), irisRequest(samples, images))
		if err != nil {
			t.Fatalf("enroll the card: %v", err)
		}
		plain := 0
		for _, smp := range e.Samples {
			if smp.Position <= huella.FingerLeftLittle && smp.Impression == huella.ImpressionPlain {
				plain++
				if smp.Template == nil {
					t.Errorf("fingertip %d stored without a template", smp.Position)
				}
			}
		}
		if plain < 6 {
			t.Errorf("stored %d fingertips, want at least 6 of 8", plain)
		}
		t.Logf("%d fingertips stored as plain prints, with templates", plain)
		for _, note := range e.Identification.Recapture {
			t.Errorf("recapture note %q: the card's prints all extract", note)
		}
	})
	for _, tc := range []struct {
		name  string
		swap  map[int]int
		names []string
	}{
		{"ErrSwappedFingers", map[int]int{3: 4, 4: 3}, []string{"finger 3 of slap 13 matches the individual print given as position 4", "finger 4 of slap 13 matches the individual print given as position 3"}},
		{"ErrSwappedHands", map[int]int{2: 7, 7: 2}, []string{"finger 7 of slap 14 matches the individual print given as position 2"}},
		{"ErrSwappedFingersSearched", map[int]int{3: 4, 4: 3}, []string{"finger 3 of slap 13 matches the individual print given as position 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasSuffix(tc.name, "Searched") {
				s.Identifier = identifier // the templates of the search's extraction
				defer func() { s.Identifier = nil }()
			}
			samples, images := cardRequest(t, tc.swap)
			_, err := s.Enroll(officerContext(), irisRequest(samples, images))
			if huella.ErrorCode(err) != huella.EINVALID {
				t.Fatalf("enroll with swapped prints: %v, want EINVALID", err)
			}
			for _, want := range tc.names {
				if msg := huella.ErrorMessage(err); !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}
