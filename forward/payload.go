package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
)

// Document is the JSON body of a delivery. Beyond the references every
// delivery carries (ours, pseudonymous), it holds only what the agreement
// lets leave: each group is filled from an allow-list, never by removing
// what is not allowed, so a field added to the records later stays home
// until an agreement names it.
type Document struct {
	DeliveryID     string         `json:"delivery_id"`
	IdempotencyKey string         `json:"idempotency_key"`
	Partner        string         `json:"partner"`
	AgreementID    string         `json:"agreement_id"`
	LegalBasis     string         `json:"legal_basis"`
	Trigger        huella.Trigger `json:"trigger"`
	Category       string         `json:"category,omitempty"`
	ConfirmationID string         `json:"confirmation_id,omitempty"`
	SubjectRef     string         `json:"subject_ref"`
	EncounterRef   string         `json:"encounter_ref"`
	SentAt         time.Time      `json:"sent_at"`

	Person          *Person                 `json:"person,omitempty"`
	Capture         *Capture                `json:"capture,omitempty"`
	CriminalHistory *huella.CriminalHistory `json:"criminal_history,omitempty"`
	Samples         []Sample                `json:"samples,omitempty"`
	SMTs            []SMT                   `json:"smts,omitempty"`
}

// Person is the biographic part of a delivery.
type Person struct {
	Names        []huella.Name       `json:"names,omitempty"`
	BirthDate    *huella.PartialDate `json:"birth_date,omitempty"`
	Sex          huella.Sex          `json:"sex,omitempty"`
	Nationality  string              `json:"nationality,omitempty"`
	PlaceOfBirth string              `json:"place_of_birth,omitempty"`
	BirthCountry string              `json:"birth_country,omitempty"` // ISO 3166-1 alpha-3, with the place of birth
	Documents    []huella.Document   `json:"documents,omitempty"`
}

// Capture says where, when and why the encounter took place.
type Capture struct {
	Site       string        `json:"site"`
	CapturedAt time.Time     `json:"captured_at"`
	Reason     huella.Reason `json:"reason"`
}

// Sample is one biometric image of a delivery.
type Sample struct {
	Modality   huella.Modality   `json:"modality"`
	Position   int               `json:"position,omitempty"`
	Impression huella.Impression `json:"impression,omitempty"`
	Eye        huella.Eye        `json:"eye,omitempty"`
	Format     string            `json:"format"`
	Width      int               `json:"width"`
	Height     int               `json:"height"`
	PPI        int               `json:"ppi,omitempty"`
	Image      []byte            `json:"image"` // base64 in JSON
}

// SMT is the description of a scar, mark or tattoo.
type SMT struct {
	Type        huella.SMTType `json:"type"`
	Code        string         `json:"code"`
	Class       string         `json:"class,omitempty"`
	Subclass    string         `json:"subclass,omitempty"`
	Colors      []string       `json:"colors,omitempty"`
	Description string         `json:"description,omitempty"`
}

// ImageSource returns the plaintext of a stored image (huella.BlobStore.Get).
type ImageSource func(ctx context.Context, ref string) ([]byte, error)

// BuildDocument returns the delivery's document for the partner under the
// agreement: the references, then each group the agreement allows.
func BuildDocument(ctx context.Context, d *huella.Delivery, a *huella.Agreement, e *huella.Encounter, images ImageSource, now time.Time) (*Document, error) {
	doc := &Document{
		DeliveryID: d.ID, IdempotencyKey: d.IdempotencyKey(), Partner: d.Partner, AgreementID: a.ID,
		LegalBasis: a.LegalBasis, Trigger: d.Trigger, Category: d.Category, ConfirmationID: d.ConfirmationID,
		SubjectRef: d.SubjectID, EncounterRef: d.EncounterID, SentAt: now.UTC(),
	}
	doc.Person = allowedPerson(a, &e.Biographics)
	if a.Allows(huella.FieldCapture) {
		doc.Capture = &Capture{Site: e.SiteCode, CapturedAt: e.CapturedAt.UTC(), Reason: e.Reason}
	}
	if a.Allows(huella.FieldCriminalHistory) {
		h := e.CriminalHistory
		doc.CriminalHistory = &h
	}
	samples, err := allowedSamples(ctx, a, e.Samples, images)
	if err != nil {
		return nil, err
	}
	doc.Samples = samples
	if a.Allows(huella.FieldSMTs) {
		for _, m := range e.SMTs {
			doc.SMTs = append(doc.SMTs, SMT{Type: m.Type, Code: m.Code, Class: m.Class, Subclass: m.Subclass,
				Colors: m.Colors, Description: m.Description})
		}
	}
	return doc, nil
}

// allowedPerson copies the biographic fields the agreement allows, or
// returns nil when it allows none.
func allowedPerson(a *huella.Agreement, b *huella.Biographics) *Person {
	p := &Person{}
	any := false
	if a.Allows(huella.FieldNames) {
		p.Names, any = b.Names, true
	}
	if a.Allows(huella.FieldBirthDate) {
		date := b.BirthDate
		p.BirthDate, any = &date, true
	}
	if a.Allows(huella.FieldSex) {
		p.Sex, any = b.Sex, true
	}
	if a.Allows(huella.FieldNationality) {
		p.Nationality, any = b.Nationality, true
	}
	if a.Allows(huella.FieldPlaceOfBirth) {
		p.PlaceOfBirth, p.BirthCountry, any = b.PlaceOfBirth, b.BirthCountry, true
	}
	if a.Allows(huella.FieldDocuments) {
		p.Documents, any = b.Documents, true
	}
	if !any {
		return nil
	}
	return p
}

// allowedSamples reads the images of the modalities the agreement allows.
func allowedSamples(ctx context.Context, a *huella.Agreement, samples []*huella.Sample, images ImageSource) ([]Sample, error) {
	var out []Sample
	for _, s := range samples {
		if !a.AllowsModality(s.Modality) {
			continue
		}
		data, err := images(ctx, s.ImageRef)
		if err != nil {
			return nil, fmt.Errorf("forward: image of sample %s: %w", s.ID, err)
		}
		out = append(out, Sample{Modality: s.Modality, Position: s.Position, Impression: s.Impression, Eye: s.Eye,
			Format: s.Format, Width: s.Width, Height: s.Height, PPI: s.PPI, Image: data})
	}
	return out, nil
}

// EncodeDocument returns the body bytes of the document in the partner's
// format: the bytes that are signed and sent.
func EncodeDocument(doc *Document, format huella.PayloadFormat) (body []byte, contentType string, err error) {
	switch format {
	case huella.FormatJSON, "":
		body, err = json.Marshal(doc)
		if err != nil {
			return nil, "", fmt.Errorf("forward: encode: %w", err)
		}
		return body, "application/json", nil
	case huella.FormatANSINIST:
		return encodeANSINIST(doc)
	}
	return nil, "", huella.Errorf(huella.EUNSUPPORTED, "payload format %q", format)
}
