package forward

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
)

// ContentTypeANSINIST is the media type of an ANSI/NIST-ITL delivery.
const ContentTypeANSINIST = "application/vnd.ansi-nist-itl"

// ansinistTransactionType is 1.004 (TOT) of a delivery: a criminal record
// forwarded for the partner's file, the EBTS "maintain" family.
const ansinistTransactionType = "MAP"

// encodeANSINIST writes the document as an ANSI/NIST-ITL 1-2011
// traditional transaction: the delivery ID as control number (1.009), a
// Type-2 record with the EBTS biographic fields the agreement allows, and
// one Type-14, Type-17 or Type-10 record per allowed image. Groups without
// an ANSI/NIST field of their own (criminal history, capture) are carried
// in Type-2 user-defined fields only when allowed: 2.900 agreement, 2.901
// trigger, 2.902-2.903 criminal history, 2.904-2.905 capture site and
// date, 2.906 identity documents (type, number, country) and 2.907 scars,
// marks and tattoos (type, code, class, subclass, colours, description).
func encodeANSINIST(doc *Document) ([]byte, string, error) {
	tx := ansinist.NewTransaction(ansinist.Header{
		TransactionType: ansinistTransactionType, Date: doc.SentAt, Destination: doc.Partner,
		Originator: "HUELLA", ControlNumber: doc.DeliveryID,
	})
	extra := map[int]string{900: doc.AgreementID, 901: string(doc.Trigger)}
	if doc.CriminalHistory != nil {
		extra[902] = string(doc.CriminalHistory.Status)
		if doc.CriminalHistory.Offence != "" {
			extra[903] = doc.CriminalHistory.Offence
		}
	}
	if doc.Capture != nil {
		extra[904] = doc.Capture.Site
		extra[905] = doc.Capture.CapturedAt.Format("20060102")
	}
	t2 := tx.AddBiographics(ansinistBiographics(doc.Person), extra)
	if doc.Person != nil && len(doc.Person.Documents) > 0 {
		var subs [][]string
		for _, d := range doc.Person.Documents {
			subs = append(subs, []string{d.Type, d.Number, d.Country})
		}
		t2.SetSubfields(906, subs)
	}
	if len(doc.SMTs) > 0 {
		var subs [][]string
		for _, m := range doc.SMTs {
			subs = append(subs, []string{string(m.Type), m.Code, m.Class, m.Subclass, strings.Join(m.Colors, " "), m.Description})
		}
		t2.SetSubfields(907, subs)
	}
	for _, s := range doc.Samples {
		switch s.Modality {
		case huella.ModalityFinger:
			tx.AddFingerprint(ansinist.Fingerprint{Position: s.Position, Impression: ansinistImpression(s.Impression),
				Width: s.Width, Height: s.Height, PPI: s.PPI, Compression: ansinistCompression(s.Format), Data: s.Image})
		case huella.ModalityIris:
			eye := 0
			switch s.Eye {
			case huella.EyeRight:
				eye = 1
			case huella.EyeLeft:
				eye = 2
			}
			tx.AddIris(ansinist.IrisImage{Eye: eye, Width: s.Width, Height: s.Height, PPI: s.PPI,
				Compression: ansinistCompression(s.Format), Data: s.Image})
		case huella.ModalityFace, huella.ModalitySMT:
			kind := "FACE"
			if s.Modality == huella.ModalitySMT {
				kind = "TATTOO"
			}
			tx.AddFacial(ansinist.FacialImage{ImageType: kind, Width: s.Width, Height: s.Height,
				Compression: ansinistCompression(s.Format), Data: s.Image})
		}
	}
	body, err := tx.Marshal()
	if err != nil {
		return nil, "", fmt.Errorf("forward: ansinist: %w", err)
	}
	return body, ContentTypeANSINIST, nil
}

func ansinistBiographics(p *Person) ansinist.Biographics {
	var b ansinist.Biographics
	if p == nil {
		return b
	}
	for i, n := range p.Names {
		name := strings.ToUpper(n.Family + "," + n.Given)
		if i == 0 {
			b.Name = name
		} else {
			b.Aliases = append(b.Aliases, name)
		}
	}
	b.PlaceOfBirth = cmp.Or(p.PlaceOfBirth, p.BirthCountry)
	if p.Nationality != "" {
		b.Citizenship = []string{p.Nationality}
	}
	if d := p.BirthDate; d != nil && d.Year > 0 {
		b.DateOfBirth = fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
	}
	b.Sex = string(p.Sex) // Huella keeps the EBTS codes M, F, X, U
	return b
}

func ansinistImpression(i huella.Impression) int {
	if i == huella.ImpressionRolled {
		return 1
	}
	return 0
}

func ansinistCompression(format string) string {
	switch format {
	case "wsq":
		return ansinist.CompressionWSQ
	case "jpeg":
		return ansinist.CompressionJPEGB
	case "png":
		return ansinist.CompressionPNG
	case "jp2":
		return ansinist.CompressionJP2
	}
	return ansinist.CompressionNone
}
