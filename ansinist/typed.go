package ansinist

import (
	"encoding/binary"
	"fmt"
	"image"
	"strings"

	"github.com/huella-abis/huella/wsq"
)

// FingerprintHeader is the fixed header of a binary Type-3, 4, 5 or 6 record.
type FingerprintHeader struct {
	IDC        int
	Impression int    // IMP
	Positions  [6]int // FGP; 255 marks an unused entry
	// ScanResolution is ISR: 0 the native scanning resolution of 1.011,
	// 1 the nominal transmitting resolution of 1.012.
	ScanResolution int
	Width, Height  int // HLL, VLL
	Compression    int // GCA/BCA code: 0 none, 1 WSQ, …
}

// FingerprintHeader decodes the header of a binary fingerprint record
// (Types 3–6); ok is false for other records.
func (r *Record) FingerprintHeader() (h FingerprintHeader, ok bool) {
	if r.Type < 3 || r.Type > 6 || len(r.Header) < 14 {
		return h, false
	}
	b := r.Header
	h.IDC, h.Impression = int(b[0]), int(b[1])
	for i := range h.Positions {
		h.Positions[i] = int(b[2+i])
	}
	h.ScanResolution = int(b[8])
	h.Width = int(binary.BigEndian.Uint16(b[9:]))
	h.Height = int(binary.BigEndian.Uint16(b[11:]))
	h.Compression = int(b[13])
	return h, true
}

// SignatureHeader is the fixed header of a binary Type-8 record.
type SignatureHeader struct {
	IDC int
	// Type is SIG: 0 the subject's signature, 1 the official's.
	Type int
	// Representation is SRT: 0 scanned uncompressed, 1 scanned compressed,
	// 2 vector data.
	Representation int
	ScanResolution int // ISR
	Width, Height  int // HLL, VLL
}

// SignatureHeader decodes the header of a Type-8 record; ok is false for
// other records.
func (r *Record) SignatureHeader() (h SignatureHeader, ok bool) {
	if r.Type != 8 || len(r.Header) < 8 {
		return h, false
	}
	b := r.Header
	return SignatureHeader{
		IDC: int(b[0]), Type: int(b[1]), Representation: int(b[2]), ScanResolution: int(b[3]),
		Width: int(binary.BigEndian.Uint16(b[4:])), Height: int(binary.BigEndian.Uint16(b[6:])),
	}, true
}

// Biographics holds the Type-2 fields Huella maps, numbered as in the FBI
// EBTS: 2.018 name, 2.019 aliases, 2.020 place of birth, 2.021
// citizenship, 2.022 date of birth (YYYYMMDD), 2.024 sex.
type Biographics struct {
	Name         string
	Aliases      []string
	PlaceOfBirth string
	Citizenship  []string
	DateOfBirth  string
	Sex          string
}

// Biographics returns the EBTS biographic fields of the first Type-2
// record (zero when there is none). Repeated fields (aliases, citizenship,
// dates of birth) are read from their subfields.
func (t *Transaction) Biographics() Biographics {
	var b Biographics
	recs := t.RecordsOfType(2)
	if len(recs) == 0 {
		return b
	}
	r := recs[0]
	b.Name = r.Get(18)
	b.Aliases = firstItems(r.Field(19))
	b.PlaceOfBirth = r.Get(20)
	b.Citizenship = firstItems(r.Field(21))
	b.DateOfBirth = r.Get(22)
	b.Sex = r.Get(24)
	return b
}

func firstItems(f *Field) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, sub := range f.Subfields {
		if v := strings.TrimSpace(sub[0]); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// AddBiographics appends a Type-2 record holding the EBTS biographic
// fields that are set, plus any extra fields given by number.
func (t *Transaction) AddBiographics(b Biographics, extra map[int]string) *Record {
	r := t.AddText(extra)
	set := func(n int, v string) {
		if v != "" {
			r.Set(n, v)
		}
	}
	setList := func(n int, vs []string) {
		if len(vs) > 0 {
			subs := make([][]string, len(vs))
			for i, v := range vs {
				subs[i] = []string{v}
			}
			r.SetSubfields(n, subs)
		}
	}
	set(18, b.Name)
	setList(19, b.Aliases)
	set(20, b.PlaceOfBirth)
	setList(21, b.Citizenship)
	set(22, b.DateOfBirth)
	set(24, b.Sex)
	return r
}

// WSQFingerprint compresses a grey fingerprint image with WSQ at the
// default bit rate and returns it ready for AddFingerprint or
// AddFingerprintType4. ppi 0 means 500.
func WSQFingerprint(position, impression int, img *image.Gray, ppi int) (Fingerprint, error) {
	ppi = cmpOrInt(ppi, 500)
	data, err := wsq.EncodeGray(img, &wsq.Options{PPI: ppi})
	if err != nil {
		return Fingerprint{}, fmt.Errorf("ansinist: compress finger %d: %w", position, err)
	}
	b := img.Bounds()
	return Fingerprint{
		Position: position, Impression: impression, Width: b.Dx(), Height: b.Dy(), PPI: ppi,
		Compression: CompressionWSQ, Data: data,
	}, nil
}
