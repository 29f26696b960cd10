package huella

import (
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// Subject is one person as Huella knows them: every encounter linked to the
// same biometrics, whatever names were given. A subject merged into another
// after an examiner confirmed a duplicate keeps its ID, with MergedInto set.
type Subject struct {
	ID         string       `json:"id"`
	CreatedAt  time.Time    `json:"created_at"`
	MergedInto string       `json:"merged_into,omitempty"`
	Encounters []*Encounter `json:"encounters,omitempty"` // filled on read, oldest first
}

// Reason is why the person was in front of the officer.
type Reason string

// Encounter reasons.
const (
	ReasonApprehension Reason = "apprehension"
	ReasonDetention    Reason = "detention"
	ReasonTransfer     Reason = "transfer"
	ReasonRelease      Reason = "release"
)

// CriminalHistoryStatus is what the person declared, or the record showed,
// about past offences at the encounter.
type CriminalHistoryStatus string

// Criminal history statuses.
const (
	HistoryNone       CriminalHistoryStatus = "none"
	HistoryArrest     CriminalHistoryStatus = "arrest"
	HistoryConviction CriminalHistoryStatus = "conviction"
)

// CriminalHistory is the declared criminal history of an encounter.
type CriminalHistory struct {
	Status  CriminalHistoryStatus `json:"status"`
	Offence string                `json:"offence,omitempty"` // required for a conviction
}

// Purpose tags why personal data is collected or read; every audit event
// carries one and agreements limit what each purpose allows.
type Purpose string

// Purposes.
const (
	PurposeEnforcement    Purpose = "migration-enforcement" // enrollment at a facility
	PurposeIdentification Purpose = "identification"        // a 1:N search or 1:1 check
	PurposeAdjudication   Purpose = "adjudication"          // an examiner's review
	PurposeInvestigation  Purpose = "investigation"         // a supervisor's inquiry
	PurposeForwarding     Purpose = "forwarding"            // delivery to a partner
	PurposeAudit          Purpose = "audit"                 // an auditor's review
	PurposeSubjectAccess  Purpose = "subject-access"        // a person's request for their data
	PurposeAdministration Purpose = "administration"        // users, sites, partners
)

// Purposes lists every purpose.
var Purposes = []Purpose{PurposeEnforcement, PurposeIdentification, PurposeAdjudication,
	PurposeInvestigation, PurposeForwarding, PurposeAudit, PurposeSubjectAccess, PurposeAdministration}

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { return slices.Contains(Purposes, p) }

// Encounter is one capture session of one person at one site: biographics as
// given that day, the biometric samples, and scars, marks and tattoos.
type Encounter struct {
	ID              string          `json:"id"`
	SubjectID       string          `json:"subject_id"`
	SiteCode        string          `json:"site"`
	CapturedAt      time.Time       `json:"captured_at"`
	Officer         string          `json:"officer"` // user ID of the enrolling officer
	Reason          Reason          `json:"reason"`
	CriminalHistory CriminalHistory `json:"criminal_history"`
	Purpose         Purpose         `json:"purpose"`
	Biographics     Biographics     `json:"biographics"`
	Samples         []*Sample       `json:"samples,omitempty"`
	SMTs            []*SMT          `json:"smts,omitempty"`
	// FingerAbsences are the fingers not printed, amputated or unprintable,
	// each at most once and never at a position that has a finger sample.
	FingerAbsences []FingerAbsence `json:"finger_absences,omitempty"`
	// OriginalRef is the blob of the ANSI/NIST transaction the encounter was
	// imported from, kept whole so that nothing unmapped is lost.
	OriginalRef string `json:"original_ref,omitempty"`
	// Identification is the outcome of the 1:N search made at enrollment
	// (nil for encounters enrolled without one).
	Identification *Identification `json:"identification,omitempty"`
	// Central is, at a site node, the center's identification of the
	// encounter: pending until the center has enrolled it (nil elsewhere).
	Central   *CentralIdentification `json:"central,omitempty"`
	CreatedAt time.Time              `json:"created_at"`
	// Idempotency is the key the client sent with the request that created
	// the encounter, if any, stored with it so that a retry finds it.
	Idempotency *Idempotency `json:"-"`
}

// Idempotency is what makes a request that creates an encounter safe to
// retry: the client's key, unique per officer, and a digest of what was
// asked. A retry with the key and the same digest is answered with the
// encounter made the first time; the key with another digest is refused.
type Idempotency struct {
	Key    string // 1-255 printable ASCII characters, chosen by the client
	Digest string // hex SHA-256 of the request's content
}

// MaxIdempotencyKey is the longest idempotency key accepted.
const MaxIdempotencyKey = 255

// ValidateIdempotencyKey reports whether a client's idempotency key is
// well-formed: 1-255 printable ASCII characters.
func ValidateIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKey {
		return Errorf(EINVALID, "Idempotency-Key must be 1-%d characters", MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return Errorf(EINVALID, "Idempotency-Key must be printable ASCII")
		}
	}
	return nil
}

// RedactedEncounter returns what a reader who may not read records of the
// encounter's site sees of it: when, where and why it happened, enough to
// know the person was seen before, and no personal data.
func RedactedEncounter(e *Encounter) *Encounter {
	return &Encounter{ID: e.ID, SubjectID: e.SubjectID, SiteCode: e.SiteCode,
		CapturedAt: e.CapturedAt, Reason: e.Reason, CreatedAt: e.CreatedAt}
}

// Clock skew tolerated between a capture station and the server.
const maxClockSkew = 5 * time.Minute

// Validate reports the first rule the encounter breaks, as an EINVALID error.
// now is the server's time, against which capture times are checked.
func (e *Encounter) Validate(now time.Time) error {
	switch {
	case !siteCodePattern.MatchString(e.SiteCode):
		return Errorf(EINVALID, "site must be a site code such as MX-TAP")
	case e.CapturedAt.IsZero():
		return Errorf(EINVALID, "captured_at required")
	case e.CapturedAt.After(now.Add(maxClockSkew)):
		return Errorf(EINVALID, "captured_at is in the future")
	case e.CapturedAt.Year() < 2000:
		return Errorf(EINVALID, "captured_at before 2000")
	}
	switch e.Reason {
	case ReasonApprehension, ReasonDetention, ReasonTransfer, ReasonRelease:
	default:
		return Errorf(EINVALID, "reason must be apprehension, detention, transfer or release")
	}
	switch e.CriminalHistory.Status {
	case HistoryNone, HistoryArrest:
	case HistoryConviction:
		if e.CriminalHistory.Offence == "" {
			return Errorf(EINVALID, "criminal_history.offence required for a conviction")
		}
	default:
		return Errorf(EINVALID, "criminal_history.status must be none, arrest or conviction")
	}
	if err := checkText("criminal_history.offence", e.CriminalHistory.Offence, 500); err != nil {
		return err
	}
	if !e.Purpose.Valid() {
		return Errorf(EINVALID, "unknown purpose %q", e.Purpose)
	}
	if err := e.Biographics.Validate(now); err != nil {
		return err
	}
	if len(e.Samples) == 0 {
		return Errorf(EINVALID, "an encounter needs at least one biometric sample")
	}
	seen := make(map[string]bool)
	for i, s := range e.Samples {
		if err := s.Validate(); err != nil {
			return Errorf(EINVALID, "samples[%d]: %s", i, ErrorMessage(err))
		}
		if s.Modality == ModalitySMT {
			continue // several photos of scars, marks and tattoos are normal
		}
		key := s.slot()
		if seen[key] {
			return Errorf(EINVALID, "samples[%d]: more than one %s", i, key)
		}
		seen[key] = true
	}
	absent := make(map[int]AbsenceReason)
	for i, a := range e.FingerAbsences {
		if err := a.Validate(); err != nil {
			return Errorf(EINVALID, "finger_absences[%d]: %s", i, ErrorMessage(err))
		}
		if absent[a.Position] != "" {
			return Errorf(EINVALID, "finger_absences[%d]: finger at position %d is marked absent twice", i, a.Position)
		}
		absent[a.Position] = a.Reason
	}
	for i, s := range e.Samples {
		if reason := absent[s.Position]; reason != "" && s.Modality == ModalityFinger {
			return Errorf(EINVALID, "samples[%d]: finger at position %d is marked %s but has a sample", i, s.Position, reason)
		}
	}
	for i, m := range e.SMTs {
		if err := m.Validate(); err != nil {
			return Errorf(EINVALID, "smts[%d]: %s", i, ErrorMessage(err))
		}
		if m.SampleIndex != nil && (*m.SampleIndex < 0 || *m.SampleIndex >= len(e.Samples) || e.Samples[*m.SampleIndex].Modality != ModalitySMT) {
			return Errorf(EINVALID, "smts[%d]: sample_index must name an smt sample", i)
		}
	}
	return nil
}

// checkText rejects over-long or non-UTF-8 free text.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s must be UTF-8 text", field)
	}
	if utf8.RuneCountInString(s) > max {
		return Errorf(EINVALID, "%s longer than %d characters", field, max)
	}
	return nil
}

// Biographics is what a person declared, or a document showed, at an
// encounter. Names often differ between encounters; all are kept.
type Biographics struct {
	Names        []Name      `json:"names"` // the first is the name given; the rest aliases
	BirthDate    PartialDate `json:"birth_date"`
	Sex          Sex         `json:"sex"`
	Nationality  string      `json:"nationality,omitempty"` // ISO 3166-1 alpha-3
	PlaceOfBirth string      `json:"place_of_birth,omitempty"`
	// BirthCountry is the country of birth, ISO 3166-1 alpha-3: what
	// interchange formats code (EBTS 2.020 POB as an NCIC code), where
	// PlaceOfBirth is the town or region as the person gave it.
	BirthCountry string     `json:"birth_country,omitempty"`
	Documents    []Document `json:"documents,omitempty"`
}

// Validate reports the first rule the biographics break, as an EINVALID error.
func (b *Biographics) Validate(now time.Time) error {
	if len(b.Names) == 0 {
		return Errorf(EINVALID, "biographics.names requires at least one name")
	}
	if len(b.Names) > 20 {
		return Errorf(EINVALID, "biographics.names has more than 20 names")
	}
	for i, n := range b.Names {
		if n.Given == "" && n.Family == "" {
			return Errorf(EINVALID, "biographics.names[%d]: given or family name required", i)
		}
		if err := checkText(fmt.Sprintf("biographics.names[%d].given", i), n.Given, 100); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("biographics.names[%d].family", i), n.Family, 100); err != nil {
			return err
		}
	}
	if err := b.BirthDate.Validate(now); err != nil {
		return err
	}
	switch b.Sex {
	case SexMale, SexFemale, SexOther, SexUnknown:
	default:
		return Errorf(EINVALID, "biographics.sex must be M, F, X or U")
	}
	if b.Nationality != "" && !IsCountryCode(b.Nationality) {
		return Errorf(EINVALID, "biographics.nationality must be an ISO 3166-1 alpha-3 code")
	}
	if err := checkText("biographics.place_of_birth", b.PlaceOfBirth, 200); err != nil {
		return err
	}
	if b.BirthCountry != "" && !IsCountryCode(b.BirthCountry) {
		return Errorf(EINVALID, "biographics.birth_country must be an ISO 3166-1 alpha-3 code")
	}
	if len(b.Documents) > 20 {
		return Errorf(EINVALID, "biographics.documents has more than 20 documents")
	}
	for i, d := range b.Documents {
		if err := d.Validate(); err != nil {
			return Errorf(EINVALID, "biographics.documents[%d]: %s", i, ErrorMessage(err))
		}
	}
	return nil
}

// Name is one name a person gave: the given names and the family names.
type Name struct {
	Given  string `json:"given,omitempty"`
	Family string `json:"family,omitempty"`
}

// PartialDate is a date of birth of which the month or day may be unknown
// (zero), as is common when a person has no documents.
type PartialDate struct {
	Year  int `json:"year,omitempty"`
	Month int `json:"month,omitempty"`
	Day   int `json:"day,omitempty"`
}

// Validate reports whether the date is possible and not in the future.
func (d PartialDate) Validate(now time.Time) error {
	if d == (PartialDate{}) {
		return nil // unknown
	}
	switch {
	case d.Year < 1900 || d.Year > now.Year():
		return Errorf(EINVALID, "biographics.birth_date.year out of range")
	case d.Month < 0 || d.Month > 12:
		return Errorf(EINVALID, "biographics.birth_date.month out of range")
	case d.Day != 0 && d.Month == 0:
		return Errorf(EINVALID, "biographics.birth_date.day given without a month")
	}
	if d.Day != 0 {
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
		if t.Day() != d.Day || d.Day < 0 {
			return Errorf(EINVALID, "biographics.birth_date.day does not exist")
		}
		if t.After(now) {
			return Errorf(EINVALID, "biographics.birth_date is in the future")
		}
	} else if d.Month != 0 && time.Date(d.Year, time.Month(d.Month), 1, 0, 0, 0, 0, time.UTC).After(now) {
		return Errorf(EINVALID, "biographics.birth_date is in the future")
	}
	return nil
}

// String formats the date as YYYY, YYYY-MM or YYYY-MM-DD.
func (d PartialDate) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	default:
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
}

// Sex as ANSI/NIST-ITL codes it.
type Sex string

// Sex codes.
const (
	SexMale    Sex = "M"
	SexFemale  Sex = "F"
	SexOther   Sex = "X"
	SexUnknown Sex = "U"
)

// Document is an identity document a person carried or named.
type Document struct {
	Type    string `json:"type"` // passport, national-id, birth-certificate, consular-id, driver-licence, other
	Number  string `json:"number"`
	Country string `json:"country,omitempty"` // issuing country, ISO 3166-1 alpha-3
}

var documentTypes = []string{"passport", "national-id", "birth-certificate", "consular-id", "driver-licence", "other"}

var documentNumberPattern = regexp.MustCompile(`^[A-Za-z0-9<\- ]{1,40}$`)

// Validate reports the first rule the document breaks.
func (d *Document) Validate() error {
	switch {
	case !slices.Contains(documentTypes, d.Type):
		return Errorf(EINVALID, "type must be one of passport, national-id, birth-certificate, consular-id, driver-licence, other")
	case !documentNumberPattern.MatchString(d.Number):
		return Errorf(EINVALID, "number must be 1-40 letters, digits, dashes or spaces")
	case d.Country != "" && !IsCountryCode(d.Country):
		return Errorf(EINVALID, "country must be an ISO 3166-1 alpha-3 code")
	}
	return nil
}
