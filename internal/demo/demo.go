// Package demo seeds a Huella data directory with a demonstration facility,
// one user per role and a few encounters built from small fixtures of public
// research datasets (see fixtures/README.md), so that a newcomer sees a
// working system with one command.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"path"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
)

//go:embed fixtures/*.png fixtures/*.jpg
var fixtures embed.FS

// Sites are the demonstration facilities.
var Sites = []*huella.Site{
	{Code: "MX-TAP", Name: "Estación Migratoria Siglo XXI, Tapachula", Country: "MEX", TimeZone: "America/Mexico_City"},
	{Code: "MX-CDMX", Name: "Estación Migratoria Las Agujas, Ciudad de México", Country: "MEX", TimeZone: "America/Mexico_City"},
}

// PartnerCode is the demonstration partner agency, whose user is "socio".
const PartnerCode = "DEMO-SOCIO"

// User is a demonstration user with its token.
type User struct {
	*huella.User
	Token string
}

// Token returns the demonstration token of the named user: an HMAC of the
// name under the data key, so it is stable across restarts of the same data
// directory and unguessable without its key file.
func Token(key []byte, name string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("huella demo token v1\x00" + name))
	return "hu_demo_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Seed creates the demonstration sites, users and encounters if they are not
// there yet, and returns the users with their tokens.
func Seed(ctx context.Context, store huella.Store, enroller *enroll.Service, key []byte, now time.Time) ([]User, error) {
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	for _, s := range Sites {
		site := *s
		if err := store.CreateSite(ctx, &site); err != nil && huella.ErrorCode(err) != huella.ECONFLICT {
			return nil, fmt.Errorf("demo site: %w", err)
		}
	}
	specs := []struct {
		name  string
		role  huella.Role
		sites []string
	}{
		{"oficial.tapachula", huella.RoleOfficer, []string{"MX-TAP"}},
		{"oficial.cdmx", huella.RoleOfficer, []string{"MX-CDMX"}},
		{"dictaminador", huella.RoleExaminer, []string{"MX-TAP", "MX-CDMX"}},
		{"supervisor", huella.RoleSupervisor, nil},
		{"auditor", huella.RoleAuditor, nil},
		{"socio", huella.RolePartner, nil},
		{"admin", huella.RoleAdmin, nil},
	}
	existing, err := store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*huella.User)
	for _, u := range existing {
		byName[u.Name] = u
	}
	var users []User
	for _, sp := range specs {
		token := Token(key, sp.name)
		u := byName[sp.name]
		if u == nil {
			u = &huella.User{Name: sp.name, Role: sp.role, Sites: sp.sites, TokenHash: huella.HashToken(token)}
			if sp.role == huella.RolePartner {
				u.Partner = PartnerCode
			}
			if err := store.CreateUser(ctx, u); err != nil {
				return nil, fmt.Errorf("demo user: %w", err)
			}
		}
		users = append(users, User{User: u, Token: token})
	}
	if list, err := store.ListEncounters(ctx, huella.EncounterFilter{Limit: 1}); err != nil {
		return nil, err
	} else if len(list) > 0 {
		return users, nil // already seeded
	}
	if err := seedEncounters(ctx, enroller, users, now); err != nil {
		return nil, err
	}
	return users, nil
}

// seedEncounters enrolls three encounters: one person at Tapachula, the same
// person a month later in Mexico City under another name, and a second
// person with a tattoo.
func seedEncounters(ctx context.Context, enroller *enroll.Service, users []User, now time.Time) error {
	officer := func(name string) *huella.User {
		for _, u := range users {
			if u.Name == name {
				return u.User
			}
		}
		panic("demo: no user " + name)
	}
	fingers := func(impression int, ids ...int) []image {
		var out []image
		for i, id := range ids {
			out = append(out, image{file: fmt.Sprintf("finger-%d_%d.png", id, impression),
				sample: huella.Sample{Modality: huella.ModalityFinger, Position: i + 2, Impression: huella.ImpressionPlain, PPI: 500, Device: "FVC2002 DB1 optical sensor"}})
		}
		return out
	}
	iris := func(file string, eye huella.Eye) image {
		return image{file: file, sample: huella.Sample{Modality: huella.ModalityIris, Eye: eye, Device: "CASIA-Iris-Interval camera"}}
	}
	face := func(file string) image {
		return image{file: file, sample: huella.Sample{Modality: huella.ModalityFace}}
	}

	first := &huella.Encounter{
		SiteCode: "MX-TAP", CapturedAt: now.Add(-40 * 24 * time.Hour), Reason: huella.ReasonApprehension,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone},
		Biographics: huella.Biographics{
			Names: []huella.Name{{Given: "Carlos Alberto", Family: "Méndez Ruiz"}}, BirthDate: huella.PartialDate{Year: 1991, Month: 4},
			Sex: huella.SexMale, Nationality: "HND", PlaceOfBirth: "San Pedro Sula",
		},
	}
	firstImages := append(fingers(1, 101, 102, 103, 104), iris("iris-001R01.jpg", huella.EyeRight), iris("iris-001L01.jpg", huella.EyeLeft), face("face-a1.jpg"))
	if err := enrollAs(ctx, enroller, officer("oficial.tapachula"), first, firstImages); err != nil {
		return err
	}
	// The same person a month later under another name: identification
	// finds the first encounter by fingers, irises and face.
	again := &huella.Encounter{
		SiteCode: "MX-CDMX", CapturedAt: now.Add(-5 * 24 * time.Hour), Reason: huella.ReasonDetention,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryConviction, Offence: "robo con violencia (2019, Honduras)"},
		Biographics: huella.Biographics{
			Names: []huella.Name{{Given: "José Luis", Family: "Ramírez"}, {Given: "Carlos", Family: "Méndez"}}, BirthDate: huella.PartialDate{Year: 1990},
			Sex: huella.SexMale, Nationality: "GTM",
			Documents: []huella.Document{{Type: "national-id", Number: "0801-1990-12345", Country: "GTM"}},
		},
	}
	againImages := append(fingers(2, 101, 102, 103, 104), iris("iris-001R02.jpg", huella.EyeRight), iris("iris-001L02.jpg", huella.EyeLeft), face("face-a2.jpg"))
	if err := enrollAs(ctx, enroller, officer("oficial.cdmx"), again, againImages); err != nil {
		return err
	}
	tattooIndex := 7
	second := &huella.Encounter{
		SiteCode: "MX-TAP", CapturedAt: now.Add(-2 * 24 * time.Hour), Reason: huella.ReasonApprehension,
		CriminalHistory: huella.CriminalHistory{Status: huella.HistoryArrest},
		Biographics: huella.Biographics{
			Names: []huella.Name{{Given: "María Fernanda", Family: "López"}}, BirthDate: huella.PartialDate{Year: 1998, Month: 11, Day: 2},
			Sex: huella.SexFemale, Nationality: "SLV",
			Documents: []huella.Document{{Type: "passport", Number: "A1234567", Country: "SLV"}},
		},
		SMTs: []*huella.SMT{{Type: huella.SMTTattoo, Code: "TAT L ARM", Class: "PLANT", Colors: []string{"BLACK", "RED"},
			Description: "rosa con tallo en el antebrazo izquierdo", SampleIndex: &tattooIndex}},
	}
	secondImages := append(fingers(1, 105, 106, 107, 108), iris("iris-002R01.jpg", huella.EyeRight), iris("iris-002L01.jpg", huella.EyeLeft), face("face-b1.jpg"),
		image{file: "tattoo-57_1.jpg", sample: huella.Sample{Modality: huella.ModalitySMT}})
	return enrollAs(ctx, enroller, officer("oficial.tapachula"), second, secondImages)
}

type image struct {
	file   string
	sample huella.Sample
}

func enrollAs(ctx context.Context, enroller *enroll.Service, officer *huella.User, e *huella.Encounter, images []image) error {
	ctx = huella.NewContextWithActor(ctx, officer)
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeEnforcement)
	req := &enroll.Request{Encounter: e}
	for _, img := range images {
		data, err := Fixture(img.file)
		if err != nil {
			return err
		}
		s := img.sample
		e.Samples = append(e.Samples, &s)
		req.Images = append(req.Images, data)
	}
	if _, err := enroller.Enroll(ctx, req); err != nil {
		return fmt.Errorf("demo encounter: %w", err)
	}
	return nil
}

// Fixture returns the bytes of a fixture image by file name.
func Fixture(name string) ([]byte, error) {
	return fixtures.ReadFile(path.Join("fixtures", name))
}

// Irises returns the demo's first person's right and left irises at one
// capture ("01" or "02"): their samples and images, for tests.
func Irises(capture string) ([]*huella.Sample, [][]byte, error) {
	var samples []*huella.Sample
	var images [][]byte
	for _, eye := range []struct {
		eye    huella.Eye
		letter string
	}{{huella.EyeRight, "R"}, {huella.EyeLeft, "L"}} {
		data, err := Fixture("iris-001" + eye.letter + capture + ".jpg")
		if err != nil {
			return nil, nil, err
		}
		samples = append(samples, &huella.Sample{Modality: huella.ModalityIris, Eye: eye.eye})
		images = append(images, data)
	}
	return samples, images, nil
}

// SeedPartner registers the demonstration partner agency, receiving at
// endpoint, with an agreement that forwards declared convictions and
// confirmed hits of wanted persons and convicts: names, dates of birth,
// nationality, criminal history and where and when the person was
// encountered, with fingers and face. A partner seeded before has its
// endpoint updated (the simulator listens on a new port each run).
func SeedPartner(ctx context.Context, store huella.ForwardStore, endpoint string) error {
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	p := &huella.Partner{Code: PartnerCode, Name: "Agencia asociada (demostración)", Endpoint: endpoint, Format: huella.FormatJSON}
	if old, err := store.FindPartner(ctx, PartnerCode); err == nil {
		old.Endpoint = endpoint
		return store.UpdatePartner(ctx, old)
	}
	if err := store.CreatePartner(ctx, p); err != nil {
		return fmt.Errorf("demo partner: %w", err)
	}
	a := &huella.Agreement{Partner: PartnerCode,
		Triggers:   []huella.Trigger{huella.TriggerConviction, huella.TriggerHit},
		Categories: []string{string(huella.CategoryWanted), string(huella.CategoryConviction)},
		Modalities: []huella.Modality{huella.ModalityFinger, huella.ModalityFace},
		Fields: []huella.Field{huella.FieldNames, huella.FieldBirthDate, huella.FieldNationality,
			huella.FieldCriminalHistory, huella.FieldCapture},
		LegalBasis: "Memorando de entendimiento de demostración, art. 4",
	}
	if err := store.CreateAgreement(ctx, a); err != nil {
		return fmt.Errorf("demo agreement: %w", err)
	}
	return nil
}

// SeedWatchlist gives the partner a watchlist of wanted persons with one
// entry: the fingers of the demo's second person, under another name. Its
// retro search raises a hit on her encounter for the examiner to decide.
func SeedWatchlist(ctx context.Context, store huella.IdentityStore, enroller *enroll.Service, partner *huella.User) error {
	lists, err := store.ListWatchlists(ctx)
	if err != nil || len(lists) > 0 {
		return err
	}
	ctx = huella.NewContextWithPurpose(huella.NewContextWithActor(ctx, partner), huella.PurposeForwarding)
	w := &huella.Watchlist{Name: "Personas buscadas (demostración)", Owner: PartnerCode, Category: huella.CategoryWanted,
		ValidFrom: enroller.Now().Add(-24 * time.Hour)}
	if err := store.CreateWatchlist(ctx, w); err != nil {
		return fmt.Errorf("demo watchlist: %w", err)
	}
	entry := &huella.WatchEntry{WatchlistID: w.ID, Reference: "ORD-2025-0417",
		Biographics: huella.Biographics{Names: []huella.Name{{Given: "Fernanda", Family: "Ruiz Alas"}}, Sex: huella.SexFemale}}
	var images [][]byte
	for i, f := range []int{105, 106, 107, 108} {
		data, err := Fixture(fmt.Sprintf("finger-%d_1.png", f))
		if err != nil {
			return err
		}
		entry.Samples = append(entry.Samples, &huella.Sample{Modality: huella.ModalityFinger, Position: i + 2,
			Impression: huella.ImpressionPlain, PPI: 500})
		images = append(images, data)
	}
	if _, err := enroller.AddWatchEntry(ctx, entry, images); err != nil {
		return fmt.Errorf("demo watchlist entry: %w", err)
	}
	return nil
}
