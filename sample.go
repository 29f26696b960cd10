package huella

import (
	"fmt"
	"regexp"
	"slices"
)

// Modality is a kind of biometric.
type Modality string

// Modalities.
const (
	ModalityFinger Modality = "finger"
	ModalityIris   Modality = "iris"
	ModalityFace   Modality = "face"
	ModalitySMT    Modality = "smt" // scar, mark or tattoo photo
)

// Finger positions as ANSI/NIST-ITL friction ridge generalised position
// (FGP) codes: 1–10 the individual fingers, 13–15 the slap images.
const (
	FingerUnknown     = 0
	FingerRightThumb  = 1
	FingerRightIndex  = 2
	FingerRightMiddle = 3
	FingerRightRing   = 4
	FingerRightLittle = 5
	FingerLeftThumb   = 6
	FingerLeftIndex   = 7
	FingerLeftMiddle  = 8
	FingerLeftRing    = 9
	FingerLeftLittle  = 10
	SlapRightFour     = 13
	SlapLeftFour      = 14
	SlapBothThumbs    = 15
)

// AbsenceReason is why a finger has no print at an encounter, as a
// ten-print card marks it and ANSI/NIST-ITL 1-2011 field 14.018 (AMP) codes
// it: "XX" for amputated, "UP" for unable to print.
type AbsenceReason string

// Absence reasons.
const (
	AbsenceAmputated   AbsenceReason = "amputated"   // AMPCD XX
	AbsenceUnprintable AbsenceReason = "unprintable" // AMPCD UP: bandaged, injured, ...
)

// FingerAbsence records that the finger at Position (FGP 1–10) was not
// printed at the encounter, and why, so that a missing print is not taken
// for an omission.
type FingerAbsence struct {
	Position int           `json:"position"`
	Reason   AbsenceReason `json:"reason"`
}

// AMPCode returns the reason as ANSI/NIST-ITL field 14.018 codes it: "XX"
// amputated, "UP" unable to print; "" for an unknown reason.
func (r AbsenceReason) AMPCode() string {
	switch r {
	case AbsenceAmputated:
		return "XX"
	case AbsenceUnprintable:
		return "UP"
	}
	return ""
}

// Validate reports the first rule the absence breaks, as an EINVALID error.
func (a FingerAbsence) Validate() error {
	switch {
	case a.Position < FingerRightThumb || a.Position > FingerLeftLittle:
		return Errorf(EINVALID, "position must be a finger FGP code 1-10")
	case a.Reason != AbsenceAmputated && a.Reason != AbsenceUnprintable:
		return Errorf(EINVALID, "reason must be amputated or unprintable")
	}
	return nil
}

// Impression is how a finger was captured.
type Impression string

// Impressions.
const (
	ImpressionRolled Impression = "rolled"
	ImpressionPlain  Impression = "plain"
)

// Eye is which eye an iris sample shows.
type Eye string

// Eyes.
const (
	EyeRight Eye = "right"
	EyeLeft  Eye = "left"
)

// Image formats a sample may arrive in.
var imageFormats = []string{"png", "jpeg", "tiff", "bmp", "wsq", "jp2", "pgm"}

// Sample is one biometric image of an encounter. The image bytes live in
// the BlobStore, encrypted; ImageRef names them.
type Sample struct {
	ID         string     `json:"id"`
	Modality   Modality   `json:"modality"`
	Position   int        `json:"position,omitempty"`   // finger FGP code
	Impression Impression `json:"impression,omitempty"` // fingers only
	Eye        Eye        `json:"eye,omitempty"`        // irises only
	ImageRef   string     `json:"image_ref"`
	Format     string     `json:"format"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	PPI        int        `json:"ppi,omitempty"`
	Device     string     `json:"device,omitempty"`
	Quality    *int       `json:"quality,omitempty"` // 0–100, nil until measured
	// Template is the engine's template of the image, stored with the
	// sample when extraction succeeded.
	Template *Template `json:"-"`
}

var blobRefPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate reports the first rule the sample breaks, as an EINVALID error.
func (s *Sample) Validate() error {
	switch s.Modality {
	case ModalityFinger:
		if !(s.Position >= 0 && s.Position <= 10 || s.Position >= 13 && s.Position <= 15) {
			return Errorf(EINVALID, "finger position must be an FGP code 0-10 or 13-15")
		}
		if s.Impression != ImpressionRolled && s.Impression != ImpressionPlain {
			return Errorf(EINVALID, "finger impression must be rolled or plain")
		}
		if s.Eye != "" {
			return Errorf(EINVALID, "eye is for iris samples")
		}
	case ModalityIris:
		if s.Eye != EyeRight && s.Eye != EyeLeft {
			return Errorf(EINVALID, "iris eye must be right or left")
		}
		if s.Position != 0 || s.Impression != "" {
			return Errorf(EINVALID, "position and impression are for finger samples")
		}
	case ModalityFace, ModalitySMT:
		if s.Position != 0 || s.Impression != "" || s.Eye != "" {
			return Errorf(EINVALID, "position, impression and eye do not apply to %s samples", s.Modality)
		}
	default:
		return Errorf(EINVALID, "modality must be finger, iris, face or smt")
	}
	switch {
	case !blobRefPattern.MatchString(s.ImageRef):
		return Errorf(EINVALID, "image missing")
	case !slices.Contains(imageFormats, s.Format):
		return Errorf(EINVALID, "unknown image format %q", s.Format)
	case s.Width <= 0 || s.Height <= 0 || s.Width > 20000 || s.Height > 20000:
		return Errorf(EINVALID, "image size out of range")
	case s.PPI < 0 || s.PPI > 4000:
		return Errorf(EINVALID, "ppi out of range")
	case s.Quality != nil && (*s.Quality < 0 || *s.Quality > 100):
		return Errorf(EINVALID, "quality must be 0-100")
	}
	return checkText("device", s.Device, 200)
}

// slot names the place of a sample in an encounter: at most one sample
// fills each slot (one face, one iris per eye, one impression per finger).
func (s *Sample) slot() string {
	switch s.Modality {
	case ModalityFinger:
		return fmt.Sprintf("%s finger at position %d", s.Impression, s.Position)
	case ModalityIris:
		return fmt.Sprintf("%s iris", s.Eye)
	default:
		return string(s.Modality)
	}
}

// SMTType says whether a mark is a scar, a mark or a tattoo.
type SMTType string

// SMT types.
const (
	SMTScar   SMTType = "scar"
	SMTMark   SMTType = "mark"
	SMTTattoo SMTType = "tattoo"
)

// SMT describes a scar, mark or tattoo as ANSI/NIST-ITL Type-10 fields
// 10.040–10.043 do: NCIC code, class and subclass, colours, description.
type SMT struct {
	ID          string   `json:"id"`
	Type        SMTType  `json:"type"`
	Code        string   `json:"code"` // NCIC-style location code, e.g. "TAT L ARM"
	Class       string   `json:"class,omitempty"`
	Subclass    string   `json:"subclass,omitempty"`
	Colors      []string `json:"colors,omitempty"`
	Description string   `json:"description,omitempty"`
	// SampleIndex links the SMT to its photo among the encounter's samples
	// (nil when there is no photo). SampleID is set once stored.
	SampleIndex *int   `json:"sample_index,omitempty"`
	SampleID    string `json:"sample_id,omitempty"`
}

var ncicCodePattern = regexp.MustCompile(`^[A-Z0-9]{1,4}( [A-Z0-9]{1,5}){0,3}$`)

// SMTClasses are the tattoo classes of ANSI/NIST-ITL 10.042.
var SMTClasses = []string{"HUMAN", "ANIMAL", "PLANT", "FLAG", "OBJECT", "ABSTRACT", "SYMBOL", "OTHER"}

// SMTColors are the colour codes of ANSI/NIST-ITL 10.043.
var SMTColors = []string{"BLACK", "BROWN", "GRAY", "BLUE", "GREEN", "ORANGE", "PURPLE", "RED", "YELLOW", "WHITE", "MULTI", "OUTLINE"}

// Validate reports the first rule the SMT breaks, as an EINVALID error.
func (m *SMT) Validate() error {
	switch {
	case m.Type != SMTScar && m.Type != SMTMark && m.Type != SMTTattoo:
		return Errorf(EINVALID, "type must be scar, mark or tattoo")
	case len(m.Code) > 10 || !ncicCodePattern.MatchString(m.Code):
		return Errorf(EINVALID, "code must be an NCIC-style code such as TAT L ARM")
	case m.Class != "" && !slices.Contains(SMTClasses, m.Class):
		return Errorf(EINVALID, "class must be one of the ANSI/NIST 10.042 classes")
	case len(m.Colors) > len(SMTColors):
		return Errorf(EINVALID, "too many colours")
	}
	for _, c := range m.Colors {
		if !slices.Contains(SMTColors, c) {
			return Errorf(EINVALID, "colour %q is not an ANSI/NIST 10.043 code", c)
		}
	}
	if err := checkText("subclass", m.Subclass, 50); err != nil {
		return err
	}
	return checkText("description", m.Description, 1000)
}

// Template is a biometric template extracted from a sample by one engine,
// with what a 1:N search needs to know of where it came from.
type Template struct {
	SampleID  string   `json:"sample_id"`
	SubjectID string   `json:"subject_id,omitempty"` // or a watchlist entry ID
	Modality  Modality `json:"modality"`
	Position  int      `json:"position,omitempty"` // finger FGP code
	Eye       Eye      `json:"eye,omitempty"`
	Algorithm string   `json:"algorithm"` // e.g. "huella-finger"
	Version   int      `json:"version"`
	Quality   int      `json:"quality"` // 0–100
	Data      []byte   `json:"-"`
}
