package huella_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/storetest"
)

// withoutFingers returns the encounter without its finger samples at the
// positions.
func withoutFingers(e *huella.Encounter, positions ...int) *huella.Encounter {
	var kept []*huella.Sample
	for _, s := range e.Samples {
		if s.Modality == huella.ModalityFinger && slices.Contains(positions, s.Position) {
			continue
		}
		kept = append(kept, s)
	}
	e.Samples = kept
	return e
}

func TestEncounterFingerAbsences(t *testing.T) {
	now := time.Now()
	at := storetest.Date(2026, 1, 10, 10)
	t.Run("OK", func(t *testing.T) {
		e := withoutFingers(storetest.Encounter("MX-TAP", at), 4, 10)
		e.FingerAbsences = []huella.FingerAbsence{
			{Position: huella.FingerLeftLittle, Reason: huella.AbsenceAmputated},
			{Position: huella.FingerRightRing, Reason: huella.AbsenceUnprintable},
		}
		if err := e.Validate(now); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("SlapWithAbsentFinger", func(t *testing.T) {
		// A slap of four fingers shows the three left; it is no sample
		// of the absent finger.
		e := withoutFingers(storetest.Encounter("MX-TAP", at), 2)
		e.FingerAbsences = []huella.FingerAbsence{{Position: 2, Reason: huella.AbsenceAmputated}}
		slap := *e.Samples[0]
		slap.Position, slap.Impression = huella.SlapRightFour, huella.ImpressionPlain
		e.Samples = append(e.Samples, &slap)
		if err := e.Validate(now); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
	for _, tt := range []struct {
		name      string
		absences  []huella.FingerAbsence
		without   []int
		wantInMsg string
	}{
		{"ErrPositionZero", []huella.FingerAbsence{{Position: 0, Reason: huella.AbsenceAmputated}}, nil,
			"finger_absences[0]: position must be a finger FGP code 1-10"},
		{"ErrPositionSlap", []huella.FingerAbsence{{Position: 13, Reason: huella.AbsenceAmputated}}, nil,
			"finger_absences[0]: position must be a finger FGP code 1-10"},
		{"ErrReason", []huella.FingerAbsence{{Position: 3, Reason: "XX"}}, []int{3},
			"finger_absences[0]: reason must be amputated or unprintable"},
		{"ErrTwice", []huella.FingerAbsence{{Position: 3, Reason: huella.AbsenceAmputated}, {Position: 3, Reason: huella.AbsenceUnprintable}}, []int{3},
			"finger_absences[1]: finger at position 3 is marked absent twice"},
		{"ErrSampleAtAbsentPosition", []huella.FingerAbsence{{Position: 7, Reason: huella.AbsenceAmputated}}, nil,
			"samples[6]: finger at position 7 is marked amputated but has a sample"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := withoutFingers(storetest.Encounter("MX-TAP", at), tt.without...)
			e.FingerAbsences = tt.absences
			err := e.Validate(now)
			if huella.ErrorCode(err) != huella.EINVALID || !strings.Contains(huella.ErrorMessage(err), tt.wantInMsg) {
				t.Errorf("Validate = %v, want EINVALID with %q", err, tt.wantInMsg)
			}
			if strings.Contains(huella.ErrorMessage(err), "Ana") {
				t.Errorf("message %q carries a name", huella.ErrorMessage(err))
			}
		})
	}
}

func TestAbsenceReasonAMPCode(t *testing.T) {
	for reason, want := range map[huella.AbsenceReason]string{huella.AbsenceAmputated: "XX", huella.AbsenceUnprintable: "UP", "bandaged": ""} {
		if got := reason.AMPCode(); got != want {
			t.Errorf("%q.AMPCode() = %q, want %q", reason, got, want)
		}
	}
}

// TestBiographicsBirth: a birth country is an ISO 3166-1 alpha-3 code, and
// a date of birth may be known to the year or the month only.
func TestBiographicsBirth(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ok := func(mutate func(b *huella.Biographics)) error {
		b := huella.Biographics{Names: []huella.Name{{Family: "RUIZ"}}, Sex: huella.SexUnknown}
		mutate(&b)
		return b.Validate(now)
	}
	for name, mutate := range map[string]func(b *huella.Biographics){
		"Country":   func(b *huella.Biographics) { b.BirthCountry = "MEX" },
		"YearOnly":  func(b *huella.Biographics) { b.BirthDate = huella.PartialDate{Year: 1990} },
		"YearMonth": func(b *huella.Biographics) { b.BirthDate = huella.PartialDate{Year: 1990, Month: 4} },
	} {
		if err := ok(mutate); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, mutate := range map[string]func(b *huella.Biographics){
		"ErrCountry":      func(b *huella.Biographics) { b.BirthCountry = "MX" },
		"ErrDayNoMonth":   func(b *huella.Biographics) { b.BirthDate = huella.PartialDate{Year: 1990, Day: 4} },
		"ErrFutureMonth":  func(b *huella.Biographics) { b.BirthDate = huella.PartialDate{Year: 2026, Month: 12, Day: 31} },
		"ErrMonthOfRange": func(b *huella.Biographics) { b.BirthDate = huella.PartialDate{Year: 1990, Month: 13} },
	} {
		if err := ok(mutate); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
