// Package nistmap maps ANSI/NIST-ITL transactions to Huella encounters and
// back: the import of livescan and partner files, and the EBTS-style export
// that forwarding and partners read.
//
// Import takes fingers from Types 4 and 14 (FGP → position, IMP →
// impression; latents are not a capture and are skipped), irises from
// Type-17 (eye position), faces and scars, marks and tattoos from Type-10
// (image type, SMT code 10.040, descriptors 10.042, colours 10.043), and
// biographics from Type-2 (EBTS 2.018 name, 2.019 aliases, 2.020 place of
// birth, 2.021 citizenship, 2.022 date of birth, 2.024 sex), and the fingers
// marked amputated (XX) or unable to print (UP) from Type-14 field 14.018
// (AMP). Whatever cannot be mapped stays in the original transaction, which
// the encounter keeps.
package nistmap

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/png"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/enroll"
	"github.com/huella-abis/huella/finger/slap"
	"github.com/huella-abis/huella/imgproc"
)

// ImportOptions are what a transaction does not say about an encounter.
type ImportOptions struct {
	Site   string        // facility code
	Reason huella.Reason // default detention
	// Now is the time of the import, against which dates in the
	// transaction are checked; zero means time.Now().
	Now time.Time
}

// Import maps a transaction to an enrollment request. It returns notes on
// what was not mapped (kept in the original transaction) and an error when
// nothing biometric could be mapped.
func Import(data []byte, opt ImportOptions) (*enroll.Request, []string, error) {
	tx, err := ansinist.Read(data)
	if err != nil {
		return nil, nil, huella.Errorf(huella.EINVALID, "not a readable ANSI/NIST-ITL transaction: %v", err)
	}
	e := &huella.Encounter{SiteCode: opt.Site, Reason: opt.Reason, CriminalHistory: huella.CriminalHistory{Status: huella.HistoryNone}}
	if e.Reason == "" {
		e.Reason = huella.ReasonDetention
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	var notes []string
	var note string
	if e.CapturedAt, note = captureTime(tx.Get(1, 5), now); note != "" {
		notes = append(notes, note)
	}
	var bioNotes []string
	if intiV6(tx) {
		e.Biographics, bioNotes = biographics(intiBiographics(tx), now, false)
	} else {
		e.Biographics, bioNotes = biographics(tx.Biographics(), now, true)
	}
	notes = append(notes, bioNotes...)
	req := &enroll.Request{Encounter: e, Original: data}
	add := func(s *huella.Sample, img *ansinist.Image, what string) {
		data, format, err := storable(img)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v (kept in the original transaction)", what, err))
			return
		}
		s.Format = format
		if s.Modality == huella.ModalityFinger && img.PPI > 0 {
			s.PPI = img.PPI
		}
		e.Samples = append(e.Samples, s)
		req.Images = append(req.Images, data)
	}
	seen := make(map[string]bool)
	absent := make(map[int]huella.AbsenceReason)
	for _, r := range tx.Records {
		img, ok := r.Image()
		what := fmt.Sprintf("record %d.%d", r.Type, r.IDC())
		var marked []int // fingers the record's image does not show
		if r.Type == 14 {
			var ampNotes []string
			marked, ampNotes = amputations(r, what, absent)
			notes = append(notes, ampNotes...)
		}
		switch {
		case !ok:
		case r.Type == 4 || r.Type == 14:
			s, reason := fingerSample(r)
			if s == nil {
				notes = append(notes, what+": "+reason)
				continue
			}
			if slices.Contains(marked, s.Position) {
				continue // the record marks its own finger absent: the image shows none
			}
			key := fmt.Sprintf("finger %d %s", s.Position, s.Impression)
			if seen[key] {
				notes = append(notes, what+": a second "+key+" (kept in the original transaction)")
				continue
			}
			seen[key] = true
			add(s, img, what)
		case r.Type == 17:
			eye := map[int]huella.Eye{1: huella.EyeRight, 2: huella.EyeLeft}[r.EyePosition()]
			if eye == "" || seen["iris "+string(eye)] {
				notes = append(notes, what+": iris without a distinct eye position")
				continue
			}
			seen["iris "+string(eye)] = true
			add(&huella.Sample{Modality: huella.ModalityIris, Eye: eye}, img, what)
		case r.Type == 10:
			switch t := r.ImageType(); t {
			case "FACE":
				if seen["face"] {
					notes = append(notes, what+": a second face")
					continue
				}
				seen["face"] = true
				add(&huella.Sample{Modality: huella.ModalityFace}, img, what)
			case "SCAR", "MARK", "TATTOO":
				before := len(e.Samples)
				add(&huella.Sample{Modality: huella.ModalitySMT}, img, what)
				if len(e.Samples) > before {
					e.SMTs = append(e.SMTs, smtOf(t, r.SMT(), before)...)
				}
			default:
				notes = append(notes, fmt.Sprintf("%s: image type %q", what, t))
			}
		case r.Type >= 3:
			notes = append(notes, fmt.Sprintf("%s: Type-%d images are not enrolled", what, r.Type))
		}
	}
	e.FingerAbsences, notes = fingerAbsences(absent, e.Samples, notes)
	if len(e.Samples) == 0 {
		return nil, notes, huella.Errorf(huella.EUNPROCESSABLE, "the transaction holds no finger, iris, face or SMT image Huella can enroll")
	}
	return req, notes, nil
}

// AMP codes of field 14.018: amputated, and unable to print (bandaged,
// injured).
var ampCodes = map[string]huella.AbsenceReason{
	huella.AbsenceAmputated.AMPCode():   huella.AbsenceAmputated,
	huella.AbsenceUnprintable.AMPCode(): huella.AbsenceUnprintable,
}

// amputations reads field 14.018 (AMP) of a Type-14 record: one subfield
// per finger the image does not show, its position and code. It records
// the known codes in absent (the first mark of a finger wins) and returns
// every finger marked, whatever the code, with notes on what it skipped.
func amputations(r *ansinist.Record, what string, absent map[int]huella.AbsenceReason) (marked []int, notes []string) {
	f := r.Field(18)
	if f == nil {
		return nil, nil
	}
	for _, sub := range f.Subfields {
		pos, err := strconv.Atoi(strings.TrimSpace(sub[0]))
		if err != nil || pos < huella.FingerRightThumb || pos > huella.FingerLeftLittle {
			notes = append(notes, what+": 14.018 marks a position that is not a finger 1-10 (kept in the original transaction)")
			continue
		}
		marked = append(marked, pos)
		var code string
		if len(sub) > 1 {
			code = strings.ToUpper(strings.TrimSpace(sub[1]))
		}
		reason, ok := ampCodes[code]
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("%s: 14.018 code for finger %d is neither XX nor UP (kept in the original transaction)", what, pos))
		case absent[pos] == "":
			absent[pos] = reason
		case absent[pos] != reason:
			notes = append(notes, fmt.Sprintf("%s: 14.018 marks finger %d %s, an earlier mark %s; the first is kept", what, pos, reason, absent[pos]))
		}
	}
	return marked, notes
}

// fingerAbsences lists the absent fingers by position, leaving out (with a
// note) any finger another record holds a print of.
func fingerAbsences(absent map[int]huella.AbsenceReason, samples []*huella.Sample, notes []string) ([]huella.FingerAbsence, []string) {
	var out []huella.FingerAbsence
	for pos := huella.FingerRightThumb; pos <= huella.FingerLeftLittle; pos++ {
		reason := absent[pos]
		if reason == "" {
			continue
		}
		if slices.ContainsFunc(samples, func(s *huella.Sample) bool { return s.Modality == huella.ModalityFinger && s.Position == pos }) {
			notes = append(notes, fmt.Sprintf("14.018: finger %d is marked %s but another record holds its print; the print is enrolled", pos, reason))
			continue
		}
		out = append(out, huella.FingerAbsence{Position: pos, Reason: reason})
	}
	return out, notes
}

// maxZoneAhead is how far ahead of UTC a capture station's calendar may be
// (UTC+14): a transaction dated tomorrow in UTC may be dated today where it
// was taken.
const maxZoneAhead = 14 * time.Hour

// captureTime reads 1.005 DAT (YYYYMMDD): the day of the capture is known,
// its hour is not. It is taken as midday UTC of that day, but never later than
// now, so that a transaction imported on the morning of its own day (or a day
// "ahead" in a zone east of UTC) is not in the future. A date further ahead,
// or none, gives now, with a note saying so.
func captureTime(dat string, now time.Time) (time.Time, string) {
	day, err := time.Parse("20060102", dat)
	switch {
	case err != nil:
		return now, "1.005: no readable date (YYYYMMDD); captured_at set to the time of import"
	case day.After(now.Add(maxZoneAhead)):
		return now, "1.005: the date is in the future; captured_at set to the time of import"
	}
	if midday := day.Add(12 * time.Hour); midday.Before(now) {
		return midday, ""
	}
	return now, ""
}

// fingerSample maps FGP and IMP, or says why the record is not a capture.
func fingerSample(r *ansinist.Record) (*huella.Sample, string) {
	pos := r.FingerPositions()
	if len(pos) == 0 || !(pos[0] >= 0 && pos[0] <= 15) {
		return nil, "finger position is not a finger or slap (palm or unknown)"
	}
	// FGP 11 and 12 are the plain thumbs of a ten-print card's bottom row.
	switch pos[0] {
	case 11:
		return &huella.Sample{Modality: huella.ModalityFinger, Position: huella.FingerRightThumb, Impression: huella.ImpressionPlain}, ""
	case 12:
		return &huella.Sample{Modality: huella.ModalityFinger, Position: huella.FingerLeftThumb, Impression: huella.ImpressionPlain}, ""
	}
	var imp huella.Impression
	switch r.Impression() {
	case 0, 2, 20, 24, 28:
		imp = huella.ImpressionPlain
	case 1, 3, 8, 21, 25, 29:
		imp = huella.ImpressionRolled
	default:
		return nil, fmt.Sprintf("impression type %d is not a ten-print capture (latent or unknown)", r.Impression())
	}
	return &huella.Sample{Modality: huella.ModalityFinger, Position: pos[0], Impression: imp}, ""
}

// storable returns the image bytes in a format Huella stores as it is
// (WSQ, JPEG, PNG), re-encoding anything else (raw, JPEG 2000, lossless
// JPEG) as PNG.
func storable(img *ansinist.Image) ([]byte, string, error) {
	switch {
	case bytes.HasPrefix(img.Data, []byte{0xFF, 0xA0}):
		return img.Data, "wsq", nil
	case bytes.HasPrefix(img.Data, []byte{0xFF, 0xD8}) && img.Compression != "JPEGL":
		return img.Data, "jpeg", nil
	case bytes.HasPrefix(img.Data, []byte("\x89PNG")):
		return img.Data, "png", nil
	}
	decoded, err := img.Decode()
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, decoded); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "png", nil
}

func smtOf(imageType string, s ansinist.SMT, sample int) []*huella.SMT {
	kind := map[string]huella.SMTType{"SCAR": huella.SMTScar, "MARK": huella.SMTMark, "TATTOO": huella.SMTTattoo}[imageType]
	var out []*huella.SMT
	for i, code := range s.Codes {
		m := &huella.SMT{Type: kind, Code: strings.ToUpper(strings.TrimSpace(code)), SampleIndex: &sample}
		if i < len(s.Descriptors) {
			d := s.Descriptors[i]
			if len(d) > 0 && slices.Contains(huella.SMTClasses, strings.ToUpper(d[0])) {
				m.Class = strings.ToUpper(d[0])
			}
			if len(d) > 1 {
				m.Subclass = d[1]
			}
			if len(d) > 2 {
				m.Description = d[2]
			}
		}
		if i < len(s.Colors) {
			for _, c := range s.Colors[i] {
				if c = strings.ToUpper(c); slices.Contains(huella.SMTColors, c) {
					m.Colors = append(m.Colors, c)
				}
			}
		}
		if m.Validate() == nil {
			out = append(out, m)
		}
	}
	if len(out) == 0 { // an SMT photo without a usable description still has a type
		code := map[huella.SMTType]string{huella.SMTScar: "SC", huella.SMTMark: "MK", huella.SMTTattoo: "TAT"}[kind]
		out = append(out, &huella.SMT{Type: kind, Code: code, SampleIndex: &sample})
	}
	return out
}

// biographics maps the EBTS fields, noting values that do not validate at
// now.
func biographics(b ansinist.Biographics, now time.Time, ncic bool) (huella.Biographics, []string) {
	var out huella.Biographics
	var notes []string
	for _, n := range append([]string{b.Name}, b.Aliases...) {
		if name, ok := parseName(n); ok {
			out.Names = append(out.Names, name)
		}
	}
	if len(out.Names) == 0 {
		out.Names = []huella.Name{{Family: "UNKNOWN"}}
		notes = append(notes, "2.018: no name; recorded as UNKNOWN")
	}
	out.Sex = huella.SexUnknown
	switch strings.ToUpper(b.Sex) {
	case "M", "F", "X":
		out.Sex = huella.Sex(strings.ToUpper(b.Sex))
	}
	if ncic {
		out.PlaceOfBirth, out.BirthCountry = placeOfBirth(b.PlaceOfBirth)
	} else if c := strings.ToUpper(b.PlaceOfBirth); len(c) == 3 && huella.IsCountryCode(c) && !strings.HasPrefix(c, "XX") {
		out.BirthCountry = c
	} else {
		out.PlaceOfBirth = b.PlaceOfBirth
	}
	for _, c := range b.Citizenship {
		c = strings.ToUpper(c)
		if huella.IsCountryCode(c) {
			out.Nationality = c
			break
		}
		if country, sub, ok := ansinist.NCICCountry(c); ok && sub == "" {
			out.Nationality = country // an EBTS CTZ, an NCIC country code
			break
		}
		notes = append(notes, "2.021: citizenship is neither an ISO 3166 alpha-3 nor an NCIC country code")
	}
	if d, ok := parseDate(b.DateOfBirth, now); ok {
		out.BirthDate = d
	} else if b.DateOfBirth != "" {
		notes = append(notes, "2.022: date of birth not YYYYMMDD")
	}
	return out, notes
}

// intiV6 reports whether the transaction is of INT-I version 6 (1.013
// INT-I, version 06xx), whose Type-2 fields are numbered as intiType2
// writes them. Earlier INT-I versions are read as EBTS-numbered, as before.
func intiV6(tx *ansinist.Transaction) bool {
	h := tx.Header()
	if h == nil || h.Field(13) == nil || len(h.Field(13).Subfields) == 0 {
		return false
	}
	dom := h.Field(13).Subfields[0]
	return len(dom) > 1 && strings.EqualFold(strings.TrimSpace(dom[0]), "INT-I") && strings.HasPrefix(strings.TrimSpace(dom[1]), "06")
}

// intiBiographics reads an INT-I version 6 Type-2 record into the EBTS
// shape biographics maps: 2.030 NAM and 2.034 AKA (given name the second
// item, surname the fourth), 2.035 DOB or, when absent, a 2.036 DBR range
// that spans one whole year or month (a partial date), 2.037 POB, 2.038
// NAT, 2.039 SEX.
func intiBiographics(tx *ansinist.Transaction) ansinist.Biographics {
	var b ansinist.Biographics
	recs := tx.RecordsOfType(2)
	if len(recs) == 0 {
		return b
	}
	r := recs[0]
	name := func(items []string) string {
		item := func(i int) string {
			if i < len(items) {
				return strings.TrimSpace(items[i])
			}
			return ""
		}
		if item(1) == "" && item(3) == "" {
			return ""
		}
		return item(3) + "," + item(1)
	}
	if f := r.Field(30); f != nil && len(f.Subfields) > 0 {
		b.Name = name(f.Subfields[0])
	}
	if f := r.Field(34); f != nil {
		for _, sub := range f.Subfields {
			if n := name(sub); n != "" {
				b.Aliases = append(b.Aliases, n)
			}
		}
	}
	b.DateOfBirth = r.Get(35)
	if from, to, ok := strings.Cut(r.Get(36), "*"); b.DateOfBirth == "" && ok && len(from) == 8 && len(to) == 8 && from[:4] == to[:4] {
		switch {
		case from[4:] == "0101" && to[4:] == "1231":
			b.DateOfBirth = from[:4] + "0000"
		case from[4:6] == to[4:6] && from[6:] == "01":
			if t, err := time.Parse("20060102", to); err == nil && t.AddDate(0, 0, 1).Day() == 1 {
				b.DateOfBirth = from[:6] + "00"
			}
		}
	}
	b.PlaceOfBirth = r.Get(37)
	if nat := r.Get(38); nat != "" {
		b.Citizenship = []string{nat}
	}
	b.Sex = r.Get(39)
	return b
}

// placeOfBirth reads 2.020: an NCIC State and Country code (EBTS's POB)
// gives the birth country and, for a state, province or UK country, its
// name as the place; XX and YY (unknown, not in the table) give nothing;
// an ISO 3166-1 alpha-3 code gives the country; anything else is the
// place as written.
func placeOfBirth(pob string) (place, country string) {
	pob = strings.TrimSpace(pob)
	code := strings.ToUpper(pob)
	switch {
	case code == ansinist.NCICUnknown || code == ansinist.NCICNotInTable:
		return "", ""
	case len(code) == 3 && huella.IsCountryCode(code) && !strings.HasPrefix(code, "XX"):
		return "", code
	}
	if c, sub, ok := ansinist.NCICCountry(code); ok && len(pob) == 2 {
		return titleCase(sub), c
	}
	return pob, ""
}

// titleCase writes an upper-case place name as a name ("NUEVO LEON" →
// "Nuevo Leon").
func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if w != "of" && w != "and" && w != "de" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// parseName reads "FAMILY,GIVEN MIDDLE".
func parseName(s string) (huella.Name, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return huella.Name{}, false
	}
	family, given, _ := strings.Cut(s, ",")
	return huella.Name{Family: strings.TrimSpace(family), Given: strings.TrimSpace(given)}, true
}

// parseDate reads YYYYMMDD with 00 for an unknown month or day, a date
// that is valid at now.
func parseDate(s string, now time.Time) (huella.PartialDate, bool) {
	var d huella.PartialDate
	if len(s) != 8 {
		return d, false
	}
	if _, err := fmt.Sscanf(s, "%4d%2d%2d", &d.Year, &d.Month, &d.Day); err != nil {
		return d, false
	}
	return d, d.Validate(now) == nil
}

// ExportOptions fill the Type-1 record of an export.
type ExportOptions struct {
	Originator    string // 1.008 ORI: the exporting agency; default HUELLA
	Destination   string // 1.007 DAI; default the originator
	ControlNumber string // 1.009 TCN; default the encounter ID
	Now           time.Time
	// Profile, when set, makes the transaction one of that profile
	// (ansinist.ProfileEBTS, ansinist.ProfileINTI): its domain (1.013) and
	// application profile (1.016), its default TOT, priority 4 (1.006, the middle of 1-9), the
	// date printed (2.038), and every Type-14 record's quality metrics
	// (14.022 NQM, 14.024 FQM) from the sample's quality, 254 where none
	// was measured.
	Profile *ansinist.Profile
	// TransactionType is 1.004 (TOT); default CAR, or the profile's first.
	TransactionType string

	// What a profile's Type-2 record needs that Huella does not collect.
	// Each is written when set, or when the profile makes its field
	// mandatory for the TOT and it has a default. An EBTS CAR or CNA needs
	// all three; a deployment configures them.

	// Retention is 2.005 (RET), "Y" or "N": whether the receiving system
	// keeps the arrest (or the civil submission) in its files, the
	// deployment's agreement with it. No default.
	Retention string
	// ArrestOffense is the arrest offense literal (AOL) of 2.047 (ASL),
	// the free-text offense charged, without a date of offense (EBTS: "if
	// a DOO is not present, a US character separator shall still be
	// used"). No default: Huella records no charge.
	ArrestOffense string
	// ControllingAgency is 2.073 (CRI), the ORI of the agency that
	// controls the transaction (for a criminal one, usually the booking
	// station); default the originator, as EBTS asks ("when the controlling
	// agency has the same ORI as the CSA, both the ORI and CRI fields
	// shall be submitted with the same identifier").
	ControllingAgency string
}

// Validate checks the options a caller (the command line, the API) sets,
// as EINVALID errors naming the option: the profile is one of
// ansinist.Profiles (by pointer); the TOT three or four letters, one of
// the profile's; the originator, destination and controlling agency 1–9
// letters and digits (EBTS's ORI, DAI and CRI are nine); retention Y or N;
// the arrest offense 1–300 printable characters, the first not a blank
// (EBTS 2.047's AOL), so that no separator of the traditional encoding
// can enter the transaction through it; retention, arrest offense and
// controlling agency not with the INT-I profile, whose Type-2 numbers them
// otherwise.
func (o ExportOptions) Validate() error {
	if o.Profile != nil && !slices.Contains(slices.Collect(maps.Values(ansinist.Profiles)), o.Profile) {
		return huella.Errorf(huella.EINVALID, "profile must be one of %s", strings.Join(slices.Sorted(maps.Keys(ansinist.Profiles)), ", "))
	}
	if tot := o.TransactionType; tot != "" {
		if !isAlnum(tot, 3, 4) || strings.ContainsAny(tot, "0123456789") {
			return huella.Errorf(huella.EINVALID, "transaction type (TOT) must be 3 or 4 letters")
		}
		if o.Profile != nil && !slices.Contains(o.Profile.TransactionTypes, strings.ToUpper(tot)) {
			return huella.Errorf(huella.EINVALID, "transaction type %s is not one of the %s profile's", strings.ToUpper(tot), o.Profile.Specification)
		}
	}
	for _, f := range []struct{ name, value string }{{"originator (ORI)", o.Originator}, {"destination (DAI)", o.Destination},
		{"controlling agency (CRI)", o.ControllingAgency}} {
		if f.value != "" && !isAlnum(f.value, 1, 9) {
			return huella.Errorf(huella.EINVALID, "%s must be 1 to 9 letters and digits", f.name)
		}
	}
	if o.Profile == ansinist.ProfileINTI && (o.Retention != "" || o.ArrestOffense != "" || o.ControllingAgency != "") {
		return huella.Errorf(huella.EINVALID, "retention, arrest offense and controlling agency are EBTS fields, not INT-I's")
	}
	if r := strings.ToUpper(o.Retention); r != "" && r != "Y" && r != "N" {
		return huella.Errorf(huella.EINVALID, "retention (RET) must be Y or N")
	}
	if a := o.ArrestOffense; a != "" {
		if len(a) > 300 || a[0] == ' ' || strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7F }) >= 0 {
			return huella.Errorf(huella.EINVALID, "arrest offense must be 1 to 300 printable characters, the first not a blank")
		}
	}
	return nil
}

// isAlnum reports whether s is min to max ASCII letters and digits.
func isAlnum(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// QualityVendor and QualityProduct are what 14.024 (FQM) names as the
// quality algorithm: Huella's finger quality has no registered CBEFF
// vendor identifier, so the vendor is 0000 (unreported).
const (
	QualityVendor  = "0000"
	QualityProduct = "0"
)

// Export writes the encounter as an EBTS-style transaction: Type-1,
// Type-2 biographics, Type-14 WSQ fingerprints, Type-10 face and SMT photos,
// Type-17 irises, and absent fingers in 14.018 (AMP). images returns a
// sample's image bytes. Options that do not validate are EINVALID.
func Export(e *huella.Encounter, images func(*huella.Sample) ([]byte, error), opt ExportOptions) ([]byte, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.ControlNumber == "" {
		opt.ControlNumber = e.ID
	}
	if opt.Originator == "" {
		opt.Originator = "HUELLA"
	}
	if opt.Destination == "" {
		opt.Destination = opt.Originator
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	header := ansinist.Header{TransactionType: cmp.Or(opt.TransactionType, "CAR"), Date: e.CapturedAt, Destination: opt.Destination,
		Originator: opt.Originator, ControlNumber: opt.ControlNumber}
	var extra map[int]string
	if opt.Profile != nil {
		header.TransactionType = cmp.Or(opt.TransactionType, opt.Profile.TransactionTypes[0])
		header.Priority = 4
		extra = map[int]string{38: e.CapturedAt.UTC().Format("20060102")} // DPR, date printed
	}
	tx := ansinist.NewTransaction(header)
	if opt.Profile != nil {
		opt.Profile.Apply(tx)
	}
	var bio *ansinist.Record
	if opt.Profile == ansinist.ProfileINTI {
		bio = intiType2(tx, e)
	} else {
		bio = tx.AddBiographics(ebtsBiographics(e.Biographics, opt.Profile == ansinist.ProfileEBTS), extra)
	}
	if opt.Profile == ansinist.ProfileEBTS {
		fillType2(bio, e, opt, opt.Profile.RequiredFields(header.TransactionType, 2))
	}
	smtsBySample := map[int][]*huella.SMT{}
	for _, m := range e.SMTs {
		if m.SampleIndex != nil {
			smtsBySample[*m.SampleIndex] = append(smtsBySample[*m.SampleIndex], m)
		}
	}
	slaps := make(map[int]*ansinist.Record) // by FGP 13-15
	for i, s := range e.Samples {
		data, err := images(s)
		if err != nil {
			return nil, fmt.Errorf("export: sample %d image: %w", i, err)
		}
		switch s.Modality {
		case huella.ModalityFinger:
			fp, err := wsqFingerprint(s, data)
			if err != nil {
				return nil, fmt.Errorf("export: sample %d: %w", i, err)
			}
			r := tx.AddFingerprint(fp)
			if opt.Profile != nil && opt.Profile.FingerQuality {
				score := 254 // not computed
				if s.Quality != nil {
					score = *s.Quality
				}
				ansinist.SetFingerQuality(r, []ansinist.FingerQuality{{Position: s.Position, Score: score}}, QualityVendor, QualityProduct)
			}
			if s.Position >= huella.SlapRightFour {
				slaps[s.Position] = r
				addSegments(r, s, data, e.FingerAbsences)
			}
		case huella.ModalityIris:
			eye := 1
			if s.Eye == huella.EyeLeft {
				eye = 2
			}
			tx.AddIris(ansinist.IrisImage{Eye: eye, Width: s.Width, Height: s.Height, Compression: compression(s.Format), Data: data})
		case huella.ModalityFace:
			tx.AddFacial(ansinist.FacialImage{ImageType: "FACE", Width: s.Width, Height: s.Height, Compression: compression(s.Format), Data: data})
		case huella.ModalitySMT:
			f := ansinist.FacialImage{ImageType: "TATTOO", Width: s.Width, Height: s.Height, Compression: compression(s.Format), Data: data}
			for _, m := range smtsBySample[i] {
				f.ImageType = strings.ToUpper(string(m.Type))
				f.SMT.Codes = append(f.SMT.Codes, m.Code)
				f.SMT.Descriptors = append(f.SMT.Descriptors, []string{m.Class, m.Subclass, m.Description})
				f.SMT.Colors = append(f.SMT.Colors, m.Colors)
			}
			tx.AddFacial(f)
		}
	}
	if err := addAbsences(tx, e.FingerAbsences, slaps); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return tx.Marshal()
}

// intiType2 writes the Type-2 record of an INT-I transaction in INT-I's own
// field numbers (the INT-I version 6 field table cited in
// ansinist/profile.go), which are not EBTS's: 2.010 CRN, the person
// reference (the subject, or the encounter when none is linked yet); 2.019
// DPR, the date fingerprinted; 2.030 NAM and 2.034 AKA (items: prefix,
// given, middle, surname); 2.035 DOB for a full date, 2.036 DBR (first and
// last day, "*" between) for a year or a month; 2.037 POB, free text of at
// most 30 characters (the place, else the birth country's code); 2.038 NAT;
// 2.039 SEX, M, F or U (Huella's X and U both U).
func intiType2(tx *ansinist.Transaction, e *huella.Encounter) *ansinist.Record {
	b := e.Biographics
	r := tx.AddText(nil)
	r.Set(10, cmp.Or(e.SubjectID, e.ID))
	r.Set(19, e.CapturedAt.UTC().Format("20060102"))
	name := func(n huella.Name) []string { return []string{"", n.Given, "", n.Family} }
	if len(b.Names) > 0 {
		r.SetSubfields(30, [][]string{name(b.Names[0])})
	}
	if len(b.Names) > 1 {
		var aka [][]string
		for _, n := range b.Names[1:] {
			aka = append(aka, name(n))
		}
		r.SetSubfields(34, aka)
	}
	switch d := b.BirthDate; {
	case d.Year == 0:
	case d.Day != 0:
		r.Set(35, fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day))
	case d.Month != 0:
		last := time.Date(d.Year, time.Month(d.Month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		r.Set(36, fmt.Sprintf("%04d%02d01*%04d%02d%02d", d.Year, d.Month, d.Year, d.Month, last))
	default:
		r.Set(36, fmt.Sprintf("%04d0101*%04d1231", d.Year, d.Year))
	}
	if pob := []rune(cmp.Or(b.PlaceOfBirth, b.BirthCountry)); len(pob) > 0 {
		r.Set(37, string(pob[:min(len(pob), 30)]))
	}
	if b.Nationality != "" {
		r.Set(38, b.Nationality)
	}
	sex := "U"
	if b.Sex == huella.SexMale || b.Sex == huella.SexFemale {
		sex = string(b.Sex)
	}
	r.Set(39, sex)
	return r
}

// fillType2 writes into the Type-2 record what the options give and, for
// the mandatory fields still empty, what the encounter implies or the
// profile's value for "not known" (ansinist.Profile.Unknown): the date of
// arrest (2.045 DOA) is the capture date, the day the subject was booked
// and printed; the controlling agency (2.073 CRI) the originator.
func fillType2(r *ansinist.Record, e *huella.Encounter, opt ExportOptions, required []int) {
	set := func(n int, v string) {
		if v != "" && r.Field(n) == nil {
			r.Set(n, v)
		}
	}
	set(5, strings.ToUpper(opt.Retention))
	if opt.ArrestOffense != "" {
		r.SetSubfields(47, [][]string{{"", opt.ArrestOffense}})
	}
	set(73, opt.ControllingAgency)
	// EBTS codes an unknown sex X ("unknown gender", 2.024 in the EBTS 9.1
	// verification file cited in ansinist/profile.go); Huella's U is not an
	// EBTS code.
	if opt.Profile == ansinist.ProfileEBTS && r.Get(24) == string(huella.SexUnknown) {
		r.Set(24, "X")
	}
	for _, n := range required {
		switch n {
		case 45:
			set(45, e.CapturedAt.UTC().Format("20060102"))
		case 73:
			set(73, opt.Originator)
		default:
			set(n, opt.Profile.Unknown[n])
		}
	}
}

// addSegments writes a slap's fingertip boxes in field 14.021 (SEG): per
// finger its position and the left, right, top and bottom pixel bounds of
// its box (the segmenter's rotated box, bounded). A slap that does not
// segment into every finger it should show gets no field.
func addSegments(r *ansinist.Record, s *huella.Sample, data []byte, absences []huella.FingerAbsence) {
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		return
	}
	var missing []int
	for _, a := range absences {
		missing = append(missing, a.Position)
	}
	res, err := slap.Segment(img, s.Position, slap.Options{PPI: s.PPI, Missing: missing})
	if err != nil || len(res.Fingertips) == 0 {
		return
	}
	var seg [][]string
	for _, ft := range res.Fingertips {
		b := ft.Box.Bounds(img.Bounds())
		seg = append(seg, []string{strconv.Itoa(ft.Position), strconv.Itoa(b.Min.X), strconv.Itoa(b.Max.X - 1),
			strconv.Itoa(b.Min.Y), strconv.Itoa(b.Max.Y - 1)})
	}
	r.SetSubfields(21, seg)
}

// addAbsences writes the absent fingers in field 14.018 (AMP), which
// ANSI/NIST-ITL 1-2011 uses whenever an image shows fewer fingers than
// expected: the slap that should show the finger carries the mark; with no
// such slap, a record of the finger's own position does, its image blank
// as a ten-print card's box is.
func addAbsences(tx *ansinist.Transaction, absences []huella.FingerAbsence, slaps map[int]*ansinist.Record) error {
	marks := make(map[*ansinist.Record][][]string)
	var order []*ansinist.Record
	for _, a := range absences {
		r := slaps[slapOf(a.Position)]
		if r == nil {
			fp, err := blankFinger(a.Position)
			if err != nil {
				return err
			}
			r = tx.AddFingerprint(fp)
		}
		if marks[r] == nil {
			order = append(order, r)
		}
		marks[r] = append(marks[r], []string{strconv.Itoa(a.Position), a.Reason.AMPCode()})
	}
	for _, r := range order {
		r.SetSubfields(18, marks[r])
	}
	return nil
}

// slapOf returns the FGP of the slap that shows the finger: both thumbs,
// or the four fingers of its hand.
func slapOf(finger int) int {
	switch {
	case finger == huella.FingerRightThumb || finger == huella.FingerLeftThumb:
		return huella.SlapBothThumbs
	case finger < huella.FingerLeftThumb:
		return huella.SlapRightFour
	default:
		return huella.SlapLeftFour
	}
}

// blankFinger is a rolled-finger record of the position with a white image
// the size of a ten-print card's box (1.6 by 1.5 inches at 500 ppi).
func blankFinger(position int) (ansinist.Fingerprint, error) {
	white := image.NewGray(image.Rect(0, 0, 800, 750))
	for i := range white.Pix {
		white.Pix[i] = 0xFF
	}
	return ansinist.WSQFingerprint(position, 1, white, 500)
}

func compression(format string) string {
	if format == "jpeg" {
		return ansinist.CompressionJPEGB
	}
	return ansinist.CompressionPNG
}

// wsqFingerprint returns the finger as WSQ, compressing other formats.
func wsqFingerprint(s *huella.Sample, data []byte) (ansinist.Fingerprint, error) {
	imp := 0
	if s.Impression == huella.ImpressionRolled {
		imp = 1
	}
	ppi := s.PPI
	if ppi == 0 {
		ppi = 500
	}
	if s.Format == "wsq" {
		return ansinist.Fingerprint{Position: s.Position, Impression: imp, Width: s.Width, Height: s.Height, PPI: ppi,
			Compression: ansinist.CompressionWSQ, Data: data}, nil
	}
	gray, err := imgproc.DecodeGray(data)
	if err != nil {
		return ansinist.Fingerprint{}, err
	}
	return ansinist.WSQFingerprint(s.Position, imp, gray, ppi)
}

// ebtsBiographics maps the biographics to the Type-2 fields. Without the
// EBTS profile, 2.020 carries the place of birth as given (or the birth
// country's ISO 3166-1 alpha-3 code when no place was given), 2.021 the
// nationality's code and 2.022 a partial date of birth with 00 for the
// unknown month or day, which Import reads back. Under the EBTS profile
// the fields take EBTS's codes: 2.020 and 2.021 the NCIC State and
// Country codes (ansinist.NCICPlaceOfBirth; a nationality the table has
// no code for leaves the optional 2.021 out), and 2.022 a full date only:
// EBTS 2.022 "Partial DOBs are not allowed" (the EBTS 9.1 verification
// file cited in ansinist/profile.go), so a date missing its month or day
// is written as completely unknown, 00000000, by fillType2.
func ebtsBiographics(b huella.Biographics, ebts bool) ansinist.Biographics {
	var out ansinist.Biographics
	for i, n := range b.Names {
		name := n.Family + "," + n.Given
		if i == 0 {
			out.Name = name
		} else {
			out.Aliases = append(out.Aliases, name)
		}
	}
	if d := b.BirthDate; d.Year != 0 && (!ebts || d.Day != 0) {
		out.DateOfBirth = fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
	}
	out.Sex = string(b.Sex)
	out.PlaceOfBirth = cmp.Or(b.PlaceOfBirth, b.BirthCountry)
	if b.Nationality != "" {
		out.Citizenship = []string{b.Nationality}
	}
	if ebts {
		out.PlaceOfBirth = ansinist.NCICPlaceOfBirth(b.BirthCountry, b.PlaceOfBirth)
		out.Citizenship = nil
		if code, ok := ansinist.NCICCitizenship(b.Nationality); ok {
			out.Citizenship = []string{code}
		}
	}
	return out
}
