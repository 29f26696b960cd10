package nistmap_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/nistmap"
)

// violations names each violation's tag, sorted as found.
func violations(v []ansinist.Violation) string {
	var out []string
	for _, x := range v {
		out = append(out, x.Tag.String())
	}
	return strings.Join(out, " ")
}

// exportMissing are, by profile, the fields the profile makes mandatory that
// an export with default options leaves out: for an EBTS CAR, the
// retention code (2.005 RET) and the arrest segment literal (2.047 ASL),
// which a deployment sets (ExportOptions.Retention, ArrestOffense). The
// fields Huella does not collect and EBTS has an "unknown" value for
// (race, height, weight, eye and hair colour) carry it, the date of arrest
// is the capture date and the controlling agency the originator.
var exportMissing = map[string]string{"ebts": "2.005 2.047", "inti": ""}

// TestExportProfiles: the demo encounter written under the EBTS and INT-I
// profiles reads in strict mode and passes its profile's check (but for
// the fields Huella does not collect, exportMissing): domain
// (1.013), application profile (1.016), TOT, priority, date printed, and
// each finger's NQM and FQM from the sample's quality (254 where none was
// measured). Each field taken away is reported by the check.
func TestExportProfiles(t *testing.T) {
	e, images := demoEncounter(t)
	q := 73
	e.Samples[0].Quality = &q
	for _, p := range []*ansinist.Profile{ansinist.ProfileEBTS, ansinist.ProfileINTI} {
		t.Run(p.Name, func(t *testing.T) {
			data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{Profile: p})
			if err != nil {
				t.Fatal(err)
			}
			tx, err := ansinist.ReadStrict(data)
			if err != nil {
				t.Fatalf("the export does not read in strict mode: %v", err)
			}
			if got := violations(ansinist.ValidateProfile(tx, p)); got != exportMissing[p.Name] {
				t.Fatalf("the export's violations of its own profile: %q, want %q", got, exportMissing[p.Name])
			}
			h := tx.Header()
			if h.Get(13) != p.Domains[0] || h.Get(4) != p.TransactionTypes[0] {
				t.Errorf("1.013 %q, 1.004 %q", h.Get(13), h.Get(4))
			}
			// INT-I uses no application profile (1.016), EBTS names itself.
			if f := h.Field(16); (p.Organization == "") != (f == nil) || f != nil && f.Subfields[0][1] != p.Specification {
				t.Errorf("1.016 %v", f)
			}
			fingers := tx.RecordsOfType(14)
			if len(fingers) < 2 {
				t.Fatalf("%d type-14 records", len(fingers))
			}
			if nqm, fqm := fingers[0].Field(22).Subfields[0], fingers[0].Field(24).Subfields[0]; nqm[0] != "2" || nqm[1] != "2" || fqm[1] != "73" {
				t.Errorf("first finger (quality 73): NQM %v, FQM %v, want 2^2 and 2^73^…", nqm, fqm)
			}
			if fqm := fingers[1].Field(24).Subfields[0]; fqm[1] != "254" {
				t.Errorf("a finger of unmeasured quality: FQM %v, want 254 (not computed)", fqm)
			}

			h.Set(13, "NOWHERE")
			h.Set(4, "XYZ")
			fingers[0].Remove(22)
			fingers[0].Remove(24)
			fingers[1].SetSubfields(24, [][]string{{"3", "300", "0000", "0"}})
			got := violations(ansinist.ValidateProfile(tx, p))
			for _, want := range []string{"1.013", "1.004", "14.024"} {
				if !strings.Contains(got, want) {
					t.Errorf("violations %q do not name %s", got, want)
				}
			}
			if n := strings.Count(got, "14.024"); n != 2 {
				t.Errorf("violations %q: want 14.024 twice (a finger without a metric, a score of 300)", got)
			}
		})
	}
	// CAR under EBTS needs the identity fields of Type-2.
	data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{Profile: ansinist.ProfileEBTS})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ansinist.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	tx.RecordsOfType(2)[0].Remove(38)
	if got, want := violations(ansinist.ValidateProfile(tx, ansinist.ProfileEBTS)), "2.005 2.038 2.047"; got != want {
		t.Errorf("a CAR without the date printed: violations %q, want %q", got, want)
	}
}

// TestExportEBTSArrest: an EBTS CAR exported with what a deployment
// configures (retention, arrest offense) passes its profile with nothing
// missing; the fields Huella does not collect carry EBTS's "unknown"
// values, the date of arrest is the capture date, the controlling agency
// the originator (or the one configured); the INT-I export gets none of
// them.
func TestExportEBTSArrest(t *testing.T) {
	e, images := demoEncounter(t)
	img := func(s *huella.Sample) ([]byte, error) { return images[s], nil }
	opt := nistmap.ExportOptions{Profile: ansinist.ProfileEBTS, Originator: "MX0000001", Retention: "y", ArrestOffense: "ILLEGAL ENTRY"}
	data, err := nistmap.Export(e, img, opt)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ansinist.ReadStrict(data)
	if err != nil {
		t.Fatalf("the export does not read in strict mode: %v", err)
	}
	if v := ansinist.ValidateProfile(tx, ansinist.ProfileEBTS); len(v) > 0 {
		t.Errorf("a configured CAR: violations %q, want none", violations(v))
	}
	r := tx.RecordsOfType(2)[0]
	want := map[int]string{5: "Y", 25: "U", 27: "000", 29: "000", 31: "XXX", 32: "XXX", 45: "20261120", 73: "MX0000001"}
	for n, v := range want {
		if got := r.Get(n); got != v {
			t.Errorf("2.%03d = %q, want %q", n, got, v)
		}
	}
	if asl := r.Field(47); asl == nil || len(asl.Subfields) != 1 || len(asl.Subfields[0]) != 2 || asl.Subfields[0][0] != "" || asl.Subfields[0][1] != "ILLEGAL ENTRY" {
		t.Errorf("2.047 ASL %v, want one subfield: no date of offense, the offense", asl)
	}

	// No place or date of birth recorded, sex unknown: EBTS's "unknown"
	// values.
	unknown := *e
	unknown.Biographics.PlaceOfBirth, unknown.Biographics.BirthDate, unknown.Biographics.Sex = "", huella.PartialDate{}, huella.SexUnknown
	if data, err = nistmap.Export(&unknown, img, opt); err != nil {
		t.Fatal(err)
	}
	if tx, err = ansinist.Read(data); err != nil {
		t.Fatal(err)
	}
	if r := tx.RecordsOfType(2)[0]; r.Get(20) != "XX" || r.Get(22) != "00000000" || r.Get(24) != "X" {
		t.Errorf("unknown place and date of birth, sex: 2.020 %q, 2.022 %q, 2.024 %q, want XX, 00000000, X", r.Get(20), r.Get(22), r.Get(24))
	}

	opt.ControllingAgency = "MX0000002"
	if data, err = nistmap.Export(e, img, opt); err != nil {
		t.Fatal(err)
	}
	if tx, err = ansinist.Read(data); err != nil {
		t.Fatal(err)
	}
	if got := tx.RecordsOfType(2)[0].Get(73); got != "MX0000002" {
		t.Errorf("2.073 CRI %q, want the configured controlling agency", got)
	}

	if data, err = nistmap.Export(e, img, nistmap.ExportOptions{Profile: ansinist.ProfileINTI}); err != nil {
		t.Fatal(err)
	}
	if tx, err = ansinist.Read(data); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 25, 27, 29, 31, 32, 45, 47, 73} {
		if f := tx.RecordsOfType(2)[0].Field(n); f != nil {
			t.Errorf("INT-I export carries EBTS field 2.%03d", n)
		}
	}
}

// TestProfileReferenceTransactions: NIST's reference transactions are
// checked by their domains: the ten-print card with NQM (NORAM, TOT AMN)
// passes EBTS; the INT-I one is refused by EBTS for its domain and not by
// INT-I.
func TestProfileReferenceTransactions(t *testing.T) {
	read := func(name string) *ansinist.Transaction {
		data, err := os.ReadFile(datasets.Path(t, "ansinist/nist-reference/ansi-references/"+name))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := ansinist.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	if v := ansinist.ValidateProfile(read("type-14-tpcard-nqm.an2"), ansinist.ProfileEBTS); len(v) > 0 {
		t.Errorf("NIST's ten-print card with NQM under EBTS: %v", v)
	}
	inti := read("rec01_rec02_rec16.nst.an2")
	if got := violations(ansinist.ValidateProfile(inti, ansinist.ProfileEBTS)); !strings.Contains(got, "1.013") {
		t.Errorf("an INT-I transaction under EBTS: violations %q, want 1.013", got)
	}
	if got := violations(ansinist.ValidateProfile(inti, ansinist.ProfileINTI)); strings.Contains(got, "1.013") {
		t.Errorf("an INT-I transaction under INT-I: violations %q name its domain", got)
	}
}

// TestExportEBTSBirth: under EBTS, the place of birth and citizenship go
// out as NCIC State and Country codes (a Mexican state by its own code, a
// country the table lacks as YY, a nationality it lacks left out) and a
// partial date of birth, which EBTS does not allow, as completely unknown;
// an import reads the codes back into the birth country, the state's name
// and the nationality. Without a profile a partial date goes out with 00
// for what is unknown and reads back the same.
func TestExportEBTSBirth(t *testing.T) {
	e, images := demoEncounter(t)
	img := func(s *huella.Sample) ([]byte, error) { return images[s], nil }
	opt := nistmap.ExportOptions{Profile: ansinist.ProfileEBTS, Retention: "N", ArrestOffense: "ILLEGAL ENTRY"}
	type2 := func(b huella.Biographics, opt nistmap.ExportOptions) (*ansinist.Record, huella.Biographics) {
		t.Helper()
		enc := *e
		enc.Biographics = b
		data, err := nistmap.Export(&enc, img, opt)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := ansinist.ReadStrict(data)
		if err != nil {
			t.Fatalf("the export does not read in strict mode: %v", err)
		}
		if opt.Profile != nil {
			if v := ansinist.ValidateProfile(tx, opt.Profile); len(v) > 0 {
				t.Errorf("violations %q", violations(v))
			}
		}
		req, _, err := nistmap.Import(data, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		return tx.RecordsOfType(2)[0], req.Encounter.Biographics
	}
	names := []huella.Name{{Given: "Ana", Family: "Ruiz"}}
	for _, tc := range []struct {
		name          string
		in            huella.Biographics
		pob, ctz, dob string
		back          huella.Biographics // place, country, nationality and date read back
	}{
		{"StateAndYearMonth", huella.Biographics{Names: names, Sex: huella.SexFemale, Nationality: "SLV", BirthCountry: "MEX", PlaceOfBirth: "Jalisco",
			BirthDate: huella.PartialDate{Year: 1998, Month: 11}}, "JL", "EL", "00000000",
			huella.Biographics{PlaceOfBirth: "Jalisco", BirthCountry: "MEX", Nationality: "SLV"}},
		{"CountryAndFullDate", huella.Biographics{Names: names, Sex: huella.SexFemale, Nationality: "HND", BirthCountry: "HND", PlaceOfBirth: "San Pedro Sula",
			BirthDate: huella.PartialDate{Year: 1990, Month: 2, Day: 28}}, "HD", "HD", "19900228",
			huella.Biographics{BirthCountry: "HND", Nationality: "HND", BirthDate: huella.PartialDate{Year: 1990, Month: 2, Day: 28}}},
		{"NotInTable", huella.Biographics{Names: names, Sex: huella.SexMale, Nationality: "UKR", BirthCountry: "UKR", BirthDate: huella.PartialDate{Year: 1985}},
			"YY", "", "00000000", huella.Biographics{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, back := type2(tc.in, opt)
			if r.Get(20) != tc.pob || r.Get(21) != tc.ctz || r.Get(22) != tc.dob {
				t.Errorf("2.020 %q, 2.021 %q, 2.022 %q, want %q, %q, %q", r.Get(20), r.Get(21), r.Get(22), tc.pob, tc.ctz, tc.dob)
			}
			if back.PlaceOfBirth != tc.back.PlaceOfBirth || back.BirthCountry != tc.back.BirthCountry || back.Nationality != tc.back.Nationality || back.BirthDate != tc.back.BirthDate {
				t.Errorf("read back: place %q, country %q, nationality %q, date %+v; want %q, %q, %q, %+v", back.PlaceOfBirth, back.BirthCountry, back.Nationality, back.BirthDate,
					tc.back.PlaceOfBirth, tc.back.BirthCountry, tc.back.Nationality, tc.back.BirthDate)
			}
		})
	}
	t.Run("PartialWithoutProfile", func(t *testing.T) {
		for _, d := range []huella.PartialDate{{Year: 1985}, {Year: 1985, Month: 7}, {Year: 1985, Month: 7, Day: 9}} {
			r, back := type2(huella.Biographics{Names: names, Sex: huella.SexMale, BirthDate: d, BirthCountry: "GTM"}, nistmap.ExportOptions{})
			if want := fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day); r.Get(22) != want {
				t.Errorf("%v: 2.022 %q, want %q", d, r.Get(22), want)
			}
			if back.BirthDate != d || back.BirthCountry != "GTM" {
				t.Errorf("%v: read back %+v, country %q", d, back.BirthDate, back.BirthCountry)
			}
		}
	})
}

// TestExportINTI: an INT-I export writes its Type-2 record in INT-I's own
// field numbers (not EBTS's, which INT-I gives other meanings: 2.020 is
// its time of fingerprinting, 2.022 its place of arrest): the person
// reference, name and alias, a partial date of birth as a range, place of
// birth, nationality and sex; and passes INT-I's per-TOT lists, which
// report each field taken away.
func TestExportINTI(t *testing.T) {
	e, images := demoEncounter(t)
	e.SubjectID = "sub_TEST"
	data, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{Profile: ansinist.ProfileINTI})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ansinist.ReadStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	if v := ansinist.ValidateProfile(tx, ansinist.ProfileINTI); len(v) > 0 {
		t.Fatalf("violations %q", violations(v))
	}
	if got := tx.Header().Field(13).Subfields[0]; got[0] != "INT-I" || got[1] != "0600" {
		t.Errorf("1.013 %v, want INT-I^0600", got)
	}
	r := tx.RecordsOfType(2)[0]
	want := map[int]string{10: "sub_TEST", 19: "20261120", 36: "19981101*19981130", 37: "San Miguel", 38: "SLV", 39: "F"}
	for n, v := range want {
		if got := r.Get(n); got != v {
			t.Errorf("2.%03d = %q, want %q", n, got, v)
		}
	}
	if nam := r.Field(30).Subfields[0]; len(nam) < 4 || nam[1] != "María Fernanda" || nam[3] != "López" {
		t.Errorf("2.030 NAM %v", nam)
	}
	if aka := r.Field(34); aka == nil || aka.Subfields[0][3] != "Ruiz" {
		t.Errorf("2.034 AKA %v", aka)
	}
	for _, n := range []int{18, 20, 21, 22, 24, 35} {
		if r.Field(n) != nil {
			t.Errorf("INT-I export carries 2.%03d", n)
		}
	}
	// The import reads INT-I version 6 Type-2 fields back, the range of a
	// partial date as that date.
	for _, d := range []huella.PartialDate{{Year: 1998, Month: 11}, {Year: 1985}, {Year: 1990, Month: 2, Day: 28}} {
		enc := *e
		enc.Biographics.BirthDate = d
		out, err := nistmap.Export(&enc, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{Profile: ansinist.ProfileINTI})
		if err != nil {
			t.Fatal(err)
		}
		req, notes, err := nistmap.Import(out, nistmap.ImportOptions{Site: "MX-TAP", Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		b, w := req.Encounter.Biographics, enc.Biographics
		if len(b.Names) != 2 || b.Names[0] != w.Names[0] || b.Names[1] != w.Names[1] || b.BirthDate != d || b.PlaceOfBirth != w.PlaceOfBirth ||
			b.Nationality != w.Nationality || b.Sex != w.Sex {
			t.Errorf("INT-I read back: %+v, want %+v (notes %v)", b, w, notes)
		}
	}
	r.Remove(10)
	r.Remove(39)
	if got := violations(ansinist.ValidateProfile(tx, ansinist.ProfileINTI)); got != "2.039 2.010" {
		t.Errorf("a CPS without person reference and sex: violations %q, want 2.039 2.010", got)
	}
	r.Set(11, "REF-1") // ORN stands for CRN
	if got := violations(ansinist.ValidateProfile(tx, ansinist.ProfileINTI)); got != "2.039" {
		t.Errorf("with 2.011 ORN: violations %q, want 2.039", got)
	}
	tx.Header().Set(4, "MPS")
	if got := violations(ansinist.ValidateProfile(tx, ansinist.ProfileINTI)); got != "2.007 2.008 2.009" {
		t.Errorf("an MPS without case, evidence and latent: violations %q", got)
	}
	if _, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil },
		nistmap.ExportOptions{Profile: ansinist.ProfileINTI, Retention: "Y"}); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("INT-I with an EBTS retention code: %v, want EINVALID", err)
	}
}
