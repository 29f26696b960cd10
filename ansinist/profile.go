package ansinist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Profile is a transaction profile: what a domain (a receiving system such
// as the FBI's NGI or INTERPOL's AFIS) requires of a transaction beyond the
// base standard. Apply writes its Type-1 fields; ValidateProfile checks a
// transaction against it.
type Profile struct {
	// Name is the profile's short name ("ebts", "inti").
	Name string
	// Domain and DomainVersion are written in 1.013 (DOM); Domains are the
	// domain names a transaction may carry to pass the check (the first is
	// the one written).
	Domains       []string
	DomainVersion string
	// DefaultDomain accepts a transaction without 1.013 as being of the
	// first domain (ANSI/NIST-ITL's default, NORAM).
	DefaultDomain bool
	// Organization, Specification and Version are written in 1.016 (APS,
	// application profile specifications: organization, profile name,
	// version), and the check requires 1.016, when present, to name the
	// specification. Without an Organization the profile uses no 1.016:
	// none is written and the check refuses one.
	Organization, Specification, Version string
	// TransactionTypes are the 1.004 (TOT) values the profile defines.
	TransactionTypes []string
	// Required lists, per record type, the fields the profile makes
	// mandatory beyond the base standard.
	Required map[int][]int
	// RequiredFor lists, per TOT, further mandatory fields by record type
	// (the Type-2 fields of a criminal ten-print submission).
	RequiredFor map[string]map[int][]int
	// RequiredOneOf lists, per TOT and record type, groups of fields of
	// which at least one must be present (INT-I's person reference: CRN,
	// or else ORN).
	RequiredOneOf map[string]map[int][][]int
	// Unknown are, by Type-2 field, the values the profile defines for
	// "not known": what an exporter writes in a mandatory field it has
	// no value for.
	Unknown map[int]string
	// FingerQuality requires every Type-14 record of a finger or slap
	// position to carry a quality metric: 14.022 (NQM) or 14.024 (FQM),
	// with one entry per finger it shows.
	FingerQuality bool
}

// Transaction profiles.
//
// Where the tables come from (no copy of the specifications is kept
// offline; these are the published lists we could read):
//
//   - EBTS Type-1: the fields the FBI's EBTS compliance pages list as
//     mandatory "for all Transaction Types" (fbibiospecs.org/EBTS/
//     Compliance/MAP.html, "Type 1"): 1.001–1.005, 1.007–1.009, 1.011,
//     1.012. 1.006 (PRY) is not among them (optional in ANSI/NIST-ITL
//     1-2011 too), and 1.013 (DOM) is optional with NORAM the default
//     (ANSI/NIST-ITL 1-2011 section 8.1.13; the EBTS record layout in
//     NIST's Prism EBTS_200808121112.txt gives DOM 0..1, default NORAM).
//   - EBTS Type-2 of MAP: copied from the same page's "Mandatory Type 2
//     Fields for Transaction Type: MAP".
//   - EBTS Type-2 of CAR and CNA: the identity fields of MAP (the NGI
//     ten-print record layout in Prism's EBTS_200808121112.txt gives NAM,
//     POB and DOB min 1 as well), with the arrest data of a criminal
//     submission, date of arrest (2.045 DOA) and arrest segment literal
//     (2.047 ASL), in place of reason fingerprinted (2.037 RFP), as EFTS
//     7.1 Appendix D Table D-1 (fbi.gov/hq/cjisd/iafis/efts71/
//     appendix_d.htm, "Field list for ten-print, answer-required (CAR)
//     transaction") lays out. The field numbers and the mandatory marks
//     for CAR and CNA were checked against the EBTS 9.1 verification file
//     of the FBI-sponsored OpenEBTS (github.com/amdonov/OpenEBTS,
//     OpenEBTSSamples/Samples/EBTS9.1_ENUS.txt, "as defined by
//     IAFIS-DOC-01078-9.1", its transcription of Table D-1): RET, NAM,
//     POB, DOB, SEX, RAC, HGT, WGT, EYE, HAI, DOA, ASL (2.047; 2.051 is
//     the optional court segment literal, CSL) and CRI are [M] for CAR and
//     CNA. That file does not mark DPR (2.038) mandatory for CAR; it is
//     kept here, as the export always writes it.
//   - INT-I: INTERPOL's Implementation, version 6 (INTERPOL AFIS Expert
//     Working Group, based on ANSI/NIST-ITL 1-2011 Update 2015; 06.00.01 of
//     31 August 2020 is the published edition). The tables here are from
//     its machine-readable field table, github.com/INTERPOL-Innovation-
//     Centre/ANSI-NIST-XML-ITL-Implementation, MRT/MRT_INT-I_FieldDefinition
//     .csv (draft 06.00.00b, the traditional-encoding "T" rows and their
//     per-TOT conditions): 1.013 domain INT-I, version "0600"; 1.016 "not to
//     be used in INTERPOL's implementation"; TOTs CPS (criminal person
//     search), NPS (non-criminal person search), MPS (mark search), ATP
//     (add to person), SRE and ERR (responses), the version-5 TOTs kept
//     for older files; Type-2 by TOT: the person reference 2.010 CRN (or
//     2.011 ORN) for CPS, NPS and ATP, the sex 2.039 for CPS and ATP, name
//     2.030 and nationality 2.038 for ATP, the case, evidence and latent
//     identifiers 2.007-2.009 for MPS. INT-I's Type-2 numbers differ from
//     EBTS's: 2.030 NAM, 2.034 AKA, 2.035 DOB, 2.036 DBR (date of birth
//     range), 2.037 POB (free text), 2.038 NAT (ISO 3166-1 alpha-3), 2.039
//     SEX (M, F, U), 2.019 DPR (date fingerprinted).
var (
	// ProfileEBTS is the FBI's Electronic Biometric Transmission
	// Specification, for NGI: the North American domain (NORAM, the
	// default when 1.013 is absent; "EBTS" accepted), its ten-print and
	// search TOTs, the Type-1 fields mandatory for every TOT, the Type-2
	// identity (and, for CAR and CNA, arrest) fields of a ten-print
	// submission and a quality metric per finger.
	ProfileEBTS = &Profile{Name: "ebts", Domains: []string{"NORAM", "EBTS"}, DefaultDomain: true, Organization: "FBI", Specification: "EBTS", Version: "11.2",
		TransactionTypes: []string{"CAR", "CNA", "CPNU", "CPDR", "DEK", "DEU", "FANC", "FAUF", "FNDR", "MAP", "NFAP", "NFUF", "NNDR",
			"TPIS", "TPRS", "LFS", "LFIS", "LFFS", "IRQ", "CPR", "ERRT", "SRE", "AMN", "MPR"},
		Required: map[int][]int{1: {1, 2, 3, 4, 5, 7, 8, 9, 11, 12}},
		RequiredFor: map[string]map[int][]int{
			"CAR": {2: ebtsCriminalTenPrint},
			"CNA": {2: ebtsCriminalTenPrint},
			"MAP": {2: {1, 2, 5, 18, 20, 22, 24, 25, 27, 29, 31, 32, 37, 38, 73}},
		},
		Unknown:       ebtsUnknown,
		FingerQuality: true}
	// ProfileINTI is INTERPOL's Implementation of ANSI/NIST-ITL (INT-I):
	// domain INT-I, its TOTs (criminal print submission, print and mark
	// searches, responses) and a quality metric per finger.
	ProfileINTI = &Profile{Name: "inti", Domains: []string{"INT-I"}, DomainVersion: "0600", Specification: "INT-I", Version: "0600",
		TransactionTypes: []string{"CPS", "NPS", "MPS", "ATP", "SRE", "ERR", "PMS", "MMS", "CPR", "IRQ", "IRR"},
		Required:         map[int][]int{1: {13}},
		RequiredFor: map[string]map[int][]int{
			"CPS": {2: {39}},
			"ATP": {2: {30, 38, 39}},
			"MPS": {2: {7, 8, 9}},
		},
		RequiredOneOf: map[string]map[int][][]int{
			"CPS": {2: {{10, 11}}},
			"NPS": {2: {{10, 11}}},
			"ATP": {2: {{10, 11}}},
		},
		FingerQuality: true}
)

// ebtsCriminalTenPrint are the Type-2 fields EBTS makes mandatory in a
// criminal ten-print submission (CAR, CNA): LEN, IDC, RET, NAM, POB, DOB,
// SEX, RAC, HGT, WGT, EYE, HAI, DPR, DOA, ASL, CRI (see the sources above).
var ebtsCriminalTenPrint = []int{1, 2, 5, 18, 20, 22, 24, 25, 27, 29, 31, 32, 38, 45, 47, 73}

// ebtsUnknown are the values EBTS gives for an unknown race (2.025 RAC
// "U"), height (2.027 HGT "000"), weight (2.029 WGT "000"), eye colour
// (2.031 EYE "XXX"), hair colour (2.032 HAI "XXX") and date of birth
// (2.022 DOB "00000000", "if DOB is completely unknown"), as the EBTS 9.1
// verification file cited above transcribes IAFIS-DOC-01078-9.1's code
// tables and field descriptions, and for an unknown place of birth
// (2.020 POB "XX", the NCIC State and Country code table of the same
// OpenEBTS samples, Win32/trunk/IWNISTSamples/IWNISTSample1/Samples/
// T2_POB.txt).
var ebtsUnknown = map[int]string{20: "XX", 22: "00000000", 25: "U", 27: "000", 29: "000", 31: "XXX", 32: "XXX"}

// Profiles are the profiles by name.
var Profiles = map[string]*Profile{ProfileEBTS.Name: ProfileEBTS, ProfileINTI.Name: ProfileINTI}

// Apply writes the profile's domain (1.013) and application profile
// (1.016) into the transaction's Type-1 record.
func (p *Profile) Apply(tx *Transaction) {
	h := tx.Header()
	if h == nil {
		return
	}
	h.SetSubfields(13, [][]string{{p.Domains[0], p.DomainVersion}})
	if p.Organization != "" {
		h.SetSubfields(16, [][]string{{p.Organization, p.Specification, p.Version}})
	}
}

// NISTQuality maps a quality score of 0–100 to the NIST Image Quality
// Score that 14.022 (NQM) carries, 1 (excellent) to 5 (poor), as NFIQ's
// five levels split the range: 80–100 is 1, 60–79 2, 40–59 3, 20–39 4,
// below 20 5.
func NISTQuality(score int) int {
	switch {
	case score >= 80:
		return 1
	case score >= 60:
		return 2
	case score >= 40:
		return 3
	case score >= 20:
		return 4
	}
	return 5
}

// FingerQuality is one finger's quality as a Type-14 record carries it.
type FingerQuality struct {
	// Position is the finger's FGP code.
	Position int
	// Score is 0–100; 254 not computed, 255 failed.
	Score int
}

// SetFingerQuality writes the fingers' quality into a Type-14 record:
// 14.022 (NQM, FGP and the NIST quality score 1–5, or 254/255) and 14.024
// (FQM, FGP, score 0–100, the algorithm's vendor and product codes).
func SetFingerQuality(r *Record, qualities []FingerQuality, vendor, product string) {
	var nqm, fqm [][]string
	for _, q := range qualities {
		nist := q.Score
		if q.Score <= 100 {
			nist = NISTQuality(q.Score)
		}
		nqm = append(nqm, []string{strconv.Itoa(q.Position), strconv.Itoa(nist)})
		fqm = append(fqm, []string{strconv.Itoa(q.Position), strconv.Itoa(q.Score), vendor, product})
	}
	r.SetSubfields(22, nqm)
	r.SetSubfields(24, fqm)
}

// RequiredFields returns the fields of a record type the profile makes
// mandatory in a transaction of type tot.
func (p *Profile) RequiredFields(tot string, recordType int) []int {
	return slices.Concat(p.Required[recordType], p.RequiredFor[strings.ToUpper(tot)][recordType])
}

// ValidateProfile checks a transaction against a profile: the domain,
// the application profile, the TOT, the fields the profile and the TOT
// make mandatory, and the quality metrics of the fingers. It returns every
// violation found; the base standard's rules are Validate's.
func ValidateProfile(tx *Transaction, p *Profile) []Violation {
	var out []Violation
	add := func(t Tag, msg string) { out = append(out, Violation{Tag: t, Message: msg}) }
	h := tx.Header()
	if h == nil {
		return []Violation{{Tag: Tag{1, 1}, Message: "no type-1 record"}}
	}
	if f := h.Field(13); (f != nil || !p.DefaultDomain) && (f == nil || !slices.Contains(p.Domains, strings.ToUpper(strings.TrimSpace(f.Value())))) {
		add(Tag{1, 13}, fmt.Sprintf("domain must be %s for %s", strings.Join(p.Domains, " or "), p.Specification))
	}
	if f := h.Field(16); f != nil && p.Organization == "" {
		add(Tag{1, 16}, "application profile (1.016) is not used by "+p.Specification)
	} else if f != nil && len(f.Subfields) > 0 {
		found := false
		for _, sf := range f.Subfields {
			found = found || len(sf) >= 2 && strings.EqualFold(strings.TrimSpace(sf[1]), p.Specification)
		}
		if !found {
			add(Tag{1, 16}, "application profile does not name "+p.Specification)
		}
	}
	tot := strings.ToUpper(strings.TrimSpace(h.Get(4)))
	if !slices.Contains(p.TransactionTypes, tot) {
		add(Tag{1, 4}, fmt.Sprintf("transaction type %q is not one of %s's", tot, p.Specification))
	}
	for _, r := range tx.Records {
		if IsBinary(r.Type) {
			continue
		}
		present := func(n int) bool {
			f := r.Field(n)
			return f != nil && (f.Data != nil || strings.TrimSpace(f.Text()) != "")
		}
		for _, n := range p.RequiredFields(tot, r.Type) {
			if !present(n) {
				add(Tag{r.Type, n}, "required by "+p.Specification)
			}
		}
		for _, group := range p.RequiredOneOf[tot][r.Type] {
			if !slices.ContainsFunc(group, present) {
				var tags []string
				for _, n := range group[1:] {
					tags = append(tags, Tag{r.Type, n}.String())
				}
				add(Tag{r.Type, group[0]}, "required by "+p.Specification+" (or "+strings.Join(tags, ", ")+")")
			}
		}
		if p.FingerQuality && r.Type == 14 {
			out = append(out, checkFingerQuality(r, p)...)
		}
	}
	for rt, byType := range p.RequiredFor[tot] {
		if len(byType) > 0 && !slices.ContainsFunc(tx.Records, func(r *Record) bool { return r.Type == rt }) {
			add(Tag{rt, 1}, fmt.Sprintf("a type-%d record is required by %s for %s", rt, p.Specification, tot))
		}
	}
	return out
}

// checkFingerQuality requires a Type-14 record of a finger or slap to
// carry NQM (14.022) or FQM (14.024), each entry a finger position and a
// score in range (NQM 1–5, 254, 255; FQM 0–100, 254, 255). The record of
// a finger marked absent in 14.018 (AMP) needs none.
func checkFingerQuality(r *Record, p *Profile) []Violation {
	position, ok := r.GetInt(13)
	if !ok || position < 1 || position > 15 {
		return nil // palms, unknown fingers: no per-finger metric asked
	}
	if position <= 10 && r.Field(18) != nil {
		return nil // a finger marked amputated or unprintable (AMP): no image to measure
	}
	nqm, fqm := r.Field(22), r.Field(24)
	if (nqm == nil || len(nqm.Subfields) == 0) && (fqm == nil || len(fqm.Subfields) == 0) {
		return []Violation{{Tag{14, 24}, "a finger quality metric (14.022 NQM or 14.024 FQM) is required by " + p.Specification}}
	}
	var out []Violation
	check := func(f *Field, n int, valid func(int) bool) {
		if f == nil {
			return
		}
		for _, sf := range f.Subfields {
			if len(sf) < 2 {
				out = append(out, Violation{Tag{14, n}, "each entry needs a finger position and a score"})
				continue
			}
			fgp, err1 := strconv.Atoi(strings.TrimSpace(sf[0]))
			score, err2 := strconv.Atoi(strings.TrimSpace(sf[1]))
			if err1 != nil || fgp < 0 || fgp > 15 {
				out = append(out, Violation{Tag{14, n}, "finger position " + strconv.Quote(sf[0]) + " out of range"})
			}
			if err2 != nil || !valid(score) {
				out = append(out, Violation{Tag{14, n}, "quality score " + strconv.Quote(sf[1]) + " out of range"})
			}
		}
	}
	check(nqm, 22, func(v int) bool { return v >= 1 && v <= 5 || v == 254 || v == 255 })
	check(fqm, 24, func(v int) bool { return v >= 0 && v <= 100 || v == 254 || v == 255 })
	return out
}
