package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/huella-abis/huella"
)

// Admin is the actor of Context: an administrator acting for administration.
var Admin = &huella.User{ID: "usr_00000000000000000000000ADM", Name: "test.admin", Role: huella.RoleAdmin}

// Context returns a context whose actor is Admin and whose purpose is
// administration, so that audit events carry a known actor and purpose.
func Context() context.Context {
	ctx := huella.NewContextWithActor(context.Background(), Admin)
	return huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
}

// Site returns a valid site with the code, in Mexico.
func Site(code string) *huella.Site {
	return &huella.Site{Code: code, Name: "Test facility " + code, Country: "MEX", TimeZone: "America/Mexico_City"}
}

// User returns a valid user with the name and role, scoped to sites, with
// the token hashed into TokenHash.
func User(name string, role huella.Role, token string, sites ...string) *huella.User {
	return &huella.User{Name: name, Role: role, Sites: sites, TokenHash: huella.HashToken(token)}
}

// ImageRef returns a well-formed blob reference derived from seed.
func ImageRef(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// Encounter returns a valid detention encounter at site captured at at,
// with the 13 samples of a full enrollment: ten rolled fingers, both irises
// and a face. Image references differ between encounters.
func Encounter(site string, at time.Time) *huella.Encounter {
	seed := fmt.Sprintf("%s/%d", site, at.UnixNano())
	quality := 71
	e := &huella.Encounter{
		SiteCode:        site,
		CapturedAt:      at,
		Officer:         "usr_00000000000000000000000OFF",
		Reason:          huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Purpose:         huella.PurposeEnforcement,
		Biographics: huella.Biographics{
			Names:       []huella.Name{{Given: "Ana Lucía", Family: "Pérez Gómez"}},
			BirthDate:   huella.PartialDate{Year: 1990, Month: 4},
			Sex:         huella.SexFemale,
			Nationality: "GTM",
		},
	}
	for pos := huella.FingerRightThumb; pos <= huella.FingerLeftLittle; pos++ {
		e.Samples = append(e.Samples, &huella.Sample{
			Modality: huella.ModalityFinger, Position: pos, Impression: huella.ImpressionRolled,
			ImageRef: ImageRef(fmt.Sprintf("%s/finger/%d", seed, pos)), Format: "wsq",
			Width: 800, Height: 750, PPI: 500, Device: "Test scanner 500", Quality: &quality,
		})
	}
	for _, eye := range []huella.Eye{huella.EyeRight, huella.EyeLeft} {
		e.Samples = append(e.Samples, &huella.Sample{
			Modality: huella.ModalityIris, Eye: eye,
			ImageRef: ImageRef(fmt.Sprintf("%s/iris/%s", seed, eye)), Format: "png",
			Width: 640, Height: 480, Device: "Test iris camera",
		})
	}
	e.Samples = append(e.Samples, &huella.Sample{
		Modality: huella.ModalityFace, ImageRef: ImageRef(seed + "/face"), Format: "jpeg",
		Width: 480, Height: 640,
	})
	return e
}

// EncounterWithout returns Encounter with the fingers of the absences
// marked absent instead of printed: their finger samples are left out.
func EncounterWithout(site string, at time.Time, absences ...huella.FingerAbsence) *huella.Encounter {
	e := Encounter(site, at)
	var kept []*huella.Sample
	for _, smp := range e.Samples {
		if smp.Modality == huella.ModalityFinger && slices.ContainsFunc(absences, func(a huella.FingerAbsence) bool {
			return a.Position == smp.Position
		}) {
			continue
		}
		kept = append(kept, smp)
	}
	e.Samples, e.FingerAbsences = kept, absences
	return e
}

// RichEncounter returns Encounter with every optional field filled: aliases,
// a full date of birth, documents, a conviction, a photographed tattoo and
// a scar without a photo, and a time with nanoseconds in a non-UTC zone
// (which the store keeps at microsecond precision, in UTC).
func RichEncounter(site string, at time.Time) *huella.Encounter {
	loc := time.FixedZone("CST", -6*3600)
	e := Encounter(site, at.Add(789*time.Nanosecond).In(loc))
	e.Reason = huella.ReasonApprehension
	e.CriminalHistory = huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo con violencia"}
	e.Biographics = huella.Biographics{
		Names: []huella.Name{
			{Given: "José", Family: "Hernández"},
			{Given: "Pepe"},
			{Family: "Ramírez"},
		},
		BirthDate:    huella.PartialDate{Year: 1987, Month: 12, Day: 3},
		Sex:          huella.SexMale,
		Nationality:  "HND",
		PlaceOfBirth: "San Pedro Sula",
		Documents: []huella.Document{
			{Type: "passport", Number: "G1234567", Country: "HND"},
			{Type: "national-id", Number: "0501-1987-01234"},
		},
	}
	e.OriginalRef = ImageRef(fmt.Sprintf("%s/%d/original", site, at.UnixNano()))
	zero := 0
	e.Samples[0].Quality = &zero
	e.Samples[1].Impression = huella.ImpressionPlain
	e.Samples = append(e.Samples, &huella.Sample{
		Modality: huella.ModalitySMT, ImageRef: ImageRef(fmt.Sprintf("%s/%d/smt", site, at.UnixNano())),
		Format: "jpeg", Width: 1024, Height: 768, Device: "Test camera",
	})
	photo := len(e.Samples) - 1
	e.SMTs = []*huella.SMT{
		{Type: huella.SMTTattoo, Code: "TAT L ARM", Class: "SYMBOL", Subclass: "CROSS",
			Colors: []string{"BLACK", "RED"}, Description: "cruz con rosa", SampleIndex: &photo},
		{Type: huella.SMTScar, Code: "SC R HND"},
	}
	return e
}

// Date returns the UTC time of the date and hour.
func Date(year int, month time.Month, day, hour int) time.Time {
	return time.Date(year, month, day, hour, 0, 0, 0, time.UTC)
}
